"""The demo IdP's pages: its metadata, the sign-in page an AuthnRequest lands on, its single
logout endpoint, and its own page, where the person signed in here can sign out everywhere."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache

from sso.devidp.saml import (
    DEMO_DOMAIN,
    PEOPLE,
    DemoRequest,
    DemoRequestError,
    answer_logout_request,
    logout_request_start,
    metadata_xml,
    person_for,
    profile_get,
    read_logout_response,
    read_request,
    signed_response,
)
from sso.devidp.session import (
    DemoSession,
    PendingLogout,
    demo_session_end,
    demo_session_get,
    demo_session_named,
    demo_session_start,
    pending_logout_end,
    pending_logout_get,
    pending_logout_start,
)
from sso.saml.config import sp_slo_url
from sso.views.headers import to_idp

logger = logging.getLogger(__name__)


def metadata(request: HttpRequest) -> HttpResponse:
    return HttpResponse(metadata_xml(), content_type="application/samlmetadata+xml")


@method_decorator(never_cache, name="dispatch")
class SignInView(View):
    """GET: the AuthnRequest arrives (HTTP-Redirect); the page lists the demo people.
    POST: the chosen person; the page posts the signed Response to the SP's ACS."""

    def get(self, request: HttpRequest) -> HttpResponse:
        try:
            demo_request = read_request(request.GET.dict())
        except DemoRequestError as refusal:
            return self._refused(request, refusal)
        return self._sign_in_page(request, demo_request)

    def post(self, request: HttpRequest) -> HttpResponse:
        try:
            demo_request = read_request(request.POST.dict())
        except DemoRequestError as refusal:
            return self._refused(request, refusal)
        person = person_for(request.POST.get("email", ""))
        if person is None:
            return self._sign_in_page(request, demo_request, email_error=True, status=400)
        sign_in = signed_response(request=demo_request, person=person)
        response = render(
            request,
            "sso/devidp/continue.html",
            {
                "acs_url": demo_request.acs_url,
                "saml_response": sign_in.saml_response,
                "relay_state": demo_request.relay_state,
                "person": person,
            },
        )
        session = DemoSession(
            email=person.email,
            session_index=sign_in.session_index,
            profile_sid=demo_request.profile.sid,
        )
        demo_session_start(response, session)
        return to_idp(response, sso_url=demo_request.acs_url)

    def _sign_in_page(
        self,
        request: HttpRequest,
        demo_request: DemoRequest,
        *,
        email_error: bool = False,
        status: int = 200,
    ) -> HttpResponse:
        session = demo_session_get(request)
        context = {
            "people": PEOPLE,
            "domain": DEMO_DOMAIN,
            "parameters": demo_request.parameters,
            "organization": demo_request.profile.organization,
            "email_error": email_error,
            "signed_in": person_for(session.email) if session else None,
        }
        return render(request, "sso/devidp/sign_in.html", context, status=status)

    def _refused(self, request: HttpRequest, refusal: DemoRequestError) -> HttpResponse:
        logger.info("Demo IdP refused an AuthnRequest: %s", refusal)
        return render(request, "sso/devidp/refused.html", status=400)


@method_decorator(never_cache, name="dispatch")
class HomeView(View):
    """GET: who is signed in at the demo IdP in this browser. POST: Sign out everywhere, by a
    signed LogoutRequest for that person to the SP they signed in to."""

    def get(self, request: HttpRequest) -> HttpResponse:
        session = demo_session_get(request)
        profile = profile_get(session.profile_sid) if session else None
        context = {
            "person": person_for(session.email) if session and profile else None,
            "organization": profile.organization if profile else None,
            "domain": DEMO_DOMAIN,
        }
        response = render(request, "sso/devidp/home.html", context)
        return to_idp(response, sso_url=sp_slo_url(profile)) if profile else response

    def post(self, request: HttpRequest) -> HttpResponse:
        session = demo_session_get(request)
        profile = profile_get(session.profile_sid) if session else None
        if session is None or profile is None:
            return redirect("devidp:home")
        start = logout_request_start(
            profile=profile, email=session.email, session_index=session.session_index
        )
        response = HttpResponseRedirect(start.url)
        demo_session_end(response)
        pending_logout_start(
            response, PendingLogout(request_id=start.request_id, profile_sid=profile.sid)
        )
        return response


@method_decorator(never_cache, name="dispatch")
class SingleLogoutView(View):
    """The demo IdP's SingleLogoutService (HTTP-Redirect): an SP's LogoutRequest, answered with
    a signed LogoutResponse after ending the demo IdP's session it names; or the SP's
    LogoutResponse to the demo IdP's own LogoutRequest."""

    def get(self, request: HttpRequest) -> HttpResponse:
        if "SAMLResponse" in request.GET:
            return self._logout_response(request)
        try:
            logout = answer_logout_request(request.GET.dict())
        except DemoRequestError as refusal:
            return self._refused(request, refusal)
        response = HttpResponseRedirect(logout.response_url)
        session = demo_session_get(request)
        if session and demo_session_named(
            session,
            profile_sid=logout.profile.sid,
            name_id=logout.name_id,
            session_indexes=logout.session_indexes,
        ):
            demo_session_end(response)
        return response

    def _logout_response(self, request: HttpRequest) -> HttpResponse:
        pending = pending_logout_get(request)
        profile = profile_get(pending.profile_sid) if pending else None
        if pending is None or profile is None:
            return self._refused(request, DemoRequestError("this browser sent no LogoutRequest"))
        try:
            confirmed = read_logout_response(
                profile=profile, parameters=request.GET.dict(), request_id=pending.request_id
            )
        except DemoRequestError as refusal:
            return self._refused(request, refusal)
        context = {
            "organization": profile.organization,
            "confirmed": confirmed,
            "domain": DEMO_DOMAIN,
        }
        response = render(request, "sso/devidp/signed_out.html", context)
        pending_logout_end(response)
        return response

    def _refused(self, request: HttpRequest, refusal: DemoRequestError) -> HttpResponse:
        logger.info("Demo IdP refused a logout message: %s", refusal)
        return render(request, "sso/devidp/refused.html", {"sign_out": True}, status=400)
