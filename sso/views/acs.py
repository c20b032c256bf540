"""The Assertion Consumer Service, a djangosaml2 ACS view whose checks give reason codes."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import auth
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from djangosaml2.views import AssertionConsumerServiceView as Saml2AssertionConsumerServiceView

from sso.backends import SSO_BACKEND, ProfileSaml2Backend
from sso.events import login_event_record
from sso.infrastructure import (
    INFRASTRUCTURE_ERRORS,
    infrastructure_component,
    infrastructure_unavailable_log,
)
from sso.models import LoginOutcome, SSOProfile, User
from sso.profiles.selectors import profile_for_sign_in
from sso.profiles.services import connection_test_record
from sso.reasons import LoginRefused, Reason
from sso.saml.acs import VerifiedLogin, verify_response
from sso.saml.pending import PendingRequest, pending_test_find
from sso.validators import same_origin_path

logger = logging.getLogger(__name__)

SESSION_PROFILE_KEY = "sso_profile_sid"


def _client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def refusal_response(
    request: HttpRequest, *, profile: SSOProfile | None, refusal: LoginRefused
) -> HttpResponse:
    """Record the refusal and answer the browser with a safe message and a support reference."""
    event = login_event_record(
        profile=profile,
        outcome=LoginOutcome.FAILURE,
        reason=refusal.reason,
        email=refusal.claims.get("email", ""),
        idp_issuer=refusal.claims.get("issuer", ""),
        assertion_id=refusal.claims.get("assertion_id", ""),
        in_response_to=refusal.claims.get("in_response_to", ""),
        client_ip=_client_ip(request),
        detail=refusal.detail,
    )
    logger.info(
        "SSO login refused: profile=%s reason=%s event=%s",
        profile.sid if profile else "-",
        refusal.reason,
        event.pk,
    )
    if refusal.reason == Reason.UNSOLICITED_NOT_ALLOWED and profile and profile.is_active:
        # As the product we model does: turn an IdP-initiated attempt into an SP-initiated one.
        return HttpResponseRedirect(reverse("sso:saml2_login", args=[profile.sid]))
    return render(
        request,
        "sso/errors/login_failed.html",
        {"message": refusal.user_message, "reference": event.pk},
        status=refusal.status,
    )


@method_decorator([csrf_exempt, never_cache], name="dispatch")
class AssertionConsumerServiceView(Saml2AssertionConsumerServiceView):
    def post(self, request: HttpRequest, sid: str) -> HttpResponse:  # type: ignore[override]
        profile = profile_for_sign_in(sid=sid)
        if profile is None:
            raise Http404("No such SSO profile.")
        token = request.COOKIES.get(settings.SSO_REQUEST_COOKIE_NAME)
        test = pending_test_find(
            relay_state=request.POST.get("RelayState", ""), sid=sid, token=token
        )
        if test is not None:
            return self._connection_test(request, profile, test, token)
        try:
            login = self._verify(request, profile)
            # The account, its sign-in, the login event and the session: one transaction.
            with transaction.atomic():
                self._sign_in(request, login)
        except LoginRefused as refusal:
            return refusal_response(request, profile=profile, refusal=refusal)
        except INFRASTRUCTURE_ERRORS as error:
            # Only signing in can get here (verifying turns these into a refusal), so the
            # verified claims exist; clear() signs nobody in without touching a store.
            infrastructure_unavailable_log(error=error, where=f"ACS of profile {sid}")
            request.session.clear()
            unavailable = LoginRefused(
                Reason.SERVICE_UNAVAILABLE, component=infrastructure_component(error)
            )
            unavailable.claims = login.claims
            return refusal_response(request, profile=profile, refusal=unavailable)
        except Exception:
            logger.exception("Unexpected error in the ACS of profile %s", sid)
            request.session.flush()  # a sign-in that failed half way signs nobody in
            return refusal_response(
                request, profile=profile, refusal=LoginRefused(Reason.INTERNAL_ERROR)
            )
        return HttpResponseRedirect(self._redirect_target(request, login))

    def _connection_test(
        self, request: HttpRequest, profile: SSOProfile, test: PendingRequest, token: str | None
    ) -> HttpResponse:
        """Verify exactly as a login would, then show the admin the result; sign nobody in."""
        try:
            login = verify_response(
                profile=profile,
                saml_response=request.POST.get("SAMLResponse", ""),
                token=token,
                test=test,
            )
        except LoginRefused as refusal:
            reason, claims, detail = refusal.reason, refusal.claims, refusal.detail
        except Exception:
            logger.exception("Unexpected error in the connection test of profile %s", profile.sid)
            reason, claims, detail = Reason.INTERNAL_ERROR, {}, {}
        else:
            reason, claims, detail = Reason.OK, login.claims, login.diagnostics()
        event = connection_test_record(
            profile=profile,
            tester=User.objects.filter(pk=test.tester_id).first(),
            reason=reason,
            claims=claims,
            detail=detail,
            client_ip=_client_ip(request),
        )
        return HttpResponseRedirect(
            reverse("sso:profile_login_event", args=[profile.sid, event.pk])
        )

    @staticmethod
    def _verify(request: HttpRequest, profile: SSOProfile) -> VerifiedLogin:
        if not profile.is_active:
            raise LoginRefused(Reason.PROFILE_INACTIVE)
        return verify_response(
            profile=profile,
            saml_response=request.POST.get("SAMLResponse", ""),
            token=request.COOKIES.get(settings.SSO_REQUEST_COOKIE_NAME),
        )

    @staticmethod
    def _sign_in(request: HttpRequest, login: VerifiedLogin) -> User:
        try:
            user = ProfileSaml2Backend().authenticate(request, sso_login=login)
            if user is None:
                raise LoginRefused(Reason.USER_INACTIVE)
        except LoginRefused as refusal:
            refusal.claims = login.claims
            raise
        login_event_record(
            profile=login.profile,
            outcome=LoginOutcome.SUCCESS,
            reason=Reason.OK,
            user=user,
            email=login.email,
            idp_issuer=login.issuer,
            assertion_id=login.assertion_id,
            in_response_to=login.in_response_to,
            client_ip=_client_ip(request),
            detail={
                "initiated_by": "sp" if login.pending else "idp",
                "verified_with": login.verifying_certificate,
            },
        )
        auth.login(request, user, backend=SSO_BACKEND)
        request.session[SESSION_PROFILE_KEY] = login.profile.sid
        request.session.save()  # in this transaction; the response does not write it again
        return user

    @staticmethod
    def _redirect_target(request: HttpRequest, login: VerifiedLogin) -> str:
        """Our own remembered RelayState for SP-initiated logins; the posted one only for
        IdP-initiated logins; and either only when it is a path on this site."""
        relay_state = login.pending.relay_state if login.pending else request.POST.get("RelayState")
        return (
            same_origin_path(relay_state)
            or login.profile.default_redirect_url
            or reverse("sso:console")
        )
