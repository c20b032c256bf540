"""SP metadata, SP-initiated login and single logout for one profile, each with the SP config
djangosaml2's config loader builds for the profile the URL names."""

from __future__ import annotations

from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.utils.text import slugify
from django.views import View
from django.views.decorators.cache import never_cache
from djangosaml2 import views as djangosaml2_views
from djangosaml2.conf import get_config
from saml2 import BINDING_HTTP_REDIRECT

from sso.login.logout import sso_logout_by_idp, sso_logout_finish
from sso.login.services import sso_login_start
from sso.reasons import (
    LOGOUT_REQUEST_REFUSED_MESSAGE,
    LOGOUT_RESPONSE_REFUSED_MESSAGE,
    LoginRefused,
)
from sso.saml.config import profile_for_request
from sso.saml.metadata import sp_metadata_xml
from sso.saml.pending import browser_token, set_browser_cookie
from sso.validators import same_origin_path
from sso.views.acs import login_failed
from sso.views.login import signed_out


class MetadataView(View):
    def get(self, request: HttpRequest, sid: str) -> HttpResponse:
        profile = profile_for_request(request)
        response = HttpResponse(
            sp_metadata_xml(profile, config=get_config(request=request)),
            content_type="application/samlmetadata+xml",
        )
        if request.GET.get("download"):
            filename = f"{slugify(profile.name) or 'sso-profile'}-sp-metadata.xml"
            response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


@method_decorator(never_cache, name="dispatch")
class LoginView(View):
    def get(self, request: HttpRequest, sid: str) -> HttpResponse:
        token = browser_token(request)
        try:
            url = sso_login_start(
                request=request,
                profile=profile_for_request(request),
                config=get_config(request=request),
                relay_state=same_origin_path(request.GET.get("next")),
                token=token,
                login_hint=request.GET.get("login_hint", ""),
            )
        except LoginRefused as refusal:
            return login_failed(request, refusal)
        response = HttpResponseRedirect(url)
        set_browser_cookie(response, token)
        return response


@method_decorator(never_cache, name="dispatch")
class SingleLogoutView(djangosaml2_views.LogoutView):
    """The profile's SingleLogoutService, HTTP-Redirect only (as its SP metadata says): the
    IdP's LogoutResponse to our LogoutRequest, or the IdP's own LogoutRequest.

    djangosaml2's view, with its logout service replaced where the product needs otherwise:
    it finds the subject of an IdP's LogoutRequest in the session, which the IdP's front-channel
    request may come without, and passes pysaml2 no SigAlg or Signature, so that a redirected
    logout message is never verified. sso/saml/logout.py requires and verifies both.
    """

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        return HttpResponseNotAllowed(["GET"])

    def do_logout_service(self, request: HttpRequest, data, binding: str, *args, **kwargs):
        if binding != BINDING_HTTP_REDIRECT:
            return HttpResponseNotAllowed(["GET"])
        profile = profile_for_request(request)
        query = {key: data[key] for key in data}
        # What the IdP signed is the query as it encoded it, which a decoded one cannot give.
        query_string = request.META.get("QUERY_STRING", "")
        if "SAMLResponse" in query:
            try:
                confirmed = sso_logout_finish(
                    request=request, profile=profile, query=query, query_string=query_string
                )
            except LoginRefused as refusal:
                return _logout_refused(request, refusal, LOGOUT_RESPONSE_REFUSED_MESSAGE)
            return signed_out(request, profile, at_idp=confirmed)
        if "SAMLRequest" in query:
            try:
                response_url = sso_logout_by_idp(
                    request=request, profile=profile, query=query, query_string=query_string
                )
            except LoginRefused as refusal:
                return _logout_refused(request, refusal, LOGOUT_REQUEST_REFUSED_MESSAGE)
            if response_url:
                return HttpResponseRedirect(response_url)
            return signed_out(request, profile, at_idp=True)
        return HttpResponseBadRequest("No SAMLResponse or SAMLRequest parameter found")


def _logout_refused(request: HttpRequest, refusal: LoginRefused, message: str) -> HttpResponse:
    return render(
        request,
        "sso/errors/logout_refused.html",
        {"message": message, "event": refusal.event},
        status=refusal.status,
    )
