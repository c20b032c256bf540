"""The Assertion Consumer Service: the posted response goes to `sso_login`, which decides."""

from __future__ import annotations

from django.conf import settings
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from sso.login.services import sso_login, sso_login_by_get
from sso.profiles.selectors import profile_for_sign_in
from sso.reasons import LoginRefused


def login_failed(request: HttpRequest, refusal: LoginRefused) -> HttpResponse:
    """The page of a refused SSO login: a safe message and the support reference."""
    return render(
        request,
        "sso/errors/login_failed.html",
        {"message": refusal.user_message, "event": refusal.event},
        status=refusal.status,
    )


@method_decorator([csrf_exempt, never_cache], name="dispatch")
class AssertionConsumerServiceView(View):
    """The ACS of one profile. Not djangosaml2's ACS view: it keeps outstanding AuthnRequests in
    the session, whose cookie the IdP's cross-site POST does not carry (sso/saml/pending.py).
    djangosaml2's backend signs the person in (sso/backends.py)."""

    def post(self, request: HttpRequest, sid: str) -> HttpResponse:
        profile = profile_for_sign_in(sid=sid)
        if profile is None:
            raise Http404("No such SSO profile.")
        try:
            outcome = sso_login(
                request=request,
                profile=profile,
                saml_response=request.POST.get("SAMLResponse", ""),
                relay_state=request.POST.get("RelayState", ""),
                token=request.COOKIES.get(settings.SSO_REQUEST_COOKIE_NAME),
            )
        except LoginRefused as refusal:
            return login_failed(request, refusal)
        return HttpResponseRedirect(outcome.redirect_to)

    def get(self, request: HttpRequest, sid: str) -> HttpResponse:
        """An IdP answering by HTTP-Redirect: refused, with the page and a login event."""
        profile = profile_for_sign_in(sid=sid)
        if profile is None:
            raise Http404("No such SSO profile.")
        refusal = sso_login_by_get(request=request, profile=profile, parameters=request.GET)
        if refusal is None:
            return HttpResponseNotAllowed(["POST"])
        return login_failed(request, refusal)
