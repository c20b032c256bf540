"""Signing in, by SSO or by password: the policy, decided once.

An SSO login: the ACS view hands the posted response to `sso_login`, which refuses an inactive
profile, has the SAML layer verify the response (bytes in, verified facts out), and signs the
person in through djangosaml2's backend (sso/backends.py), whose hooks apply the tenant rules:
the account, its sign-in, the login event and the session, in one transaction. A refusal is
recorded outside that transaction and carries its event. A connection test goes through the
same verification and signs nobody in.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings
from django.contrib import auth
from django.contrib.auth import authenticate
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest
from django.urls import reverse
from saml2.config import SPConfig

from sso.backends import (
    NAME_ID,
    NAME_ID_FORMAT,
    SSO_BACKEND,
    ProfileSaml2Backend,
    profile_attribute_mapping,
)
from sso.domains.selectors import profile_for_email, trusted_domains_for_email
from sso.events import TEST_RESPONSE_XML, audit_record, login_event_record
from sso.infrastructure import (
    CACHE_ERRORS,
    INFRASTRUCTURE_ERRORS,
    infrastructure_component,
    infrastructure_unavailable_log,
)
from sso.login import throttling
from sso.login.mapping import attributes_map, received_names
from sso.login.sessions import (
    SESSION_AUTHN_KEY,
    SESSION_INDEX_KEY,
    SESSION_PROFILE_KEY,
    SESSION_SUBJECT_KEY,
    SessionLimit,
    check_authn_age,
    session_limit_for,
    sso_login_authn_due,
)
from sso.models import (
    AuditAction,
    LoginEvent,
    LoginOutcome,
    SignInMethod,
    SSOProfile,
    UsedAssertion,
    User,
)
from sso.organizations.accounts import user_drop_unverified_password, user_is_email_verified
from sso.organizations.selectors import membership_break_glass, organization_enforcing_sso_for
from sso.organizations.services import membership_record_sign_in
from sso.prepared import PreparedInsert
from sso.profiles.presets import preset_for
from sso.profiles.services import connection_test_record
from sso.reasons import LoginRefused, Reason
from sso.saml.acs import VerifiedLogin, response_xml_for_support, verify_response
from sso.saml.authn import authn_request_url
from sso.saml.pending import PendingRequest, pending_test_find
from sso.validators import same_origin_path

logger = logging.getLogger(__name__)

EMAIL_MAX_LENGTH = 254


@dataclass(frozen=True)
class AcsOutcome:
    """Where the browser goes next, and the login event that recorded the attempt."""

    redirect_to: str
    event: LoginEvent


def sso_login(
    *,
    request: HttpRequest,
    profile: SSOProfile,
    saml_response: str,
    relay_state: str,
    token: str | None,
) -> AcsOutcome:
    """Sign in the person a posted SAMLResponse names, or run the connection test it answers.

    Raises LoginRefused with its recorded `event`, except for an IdP-initiated attempt on a
    profile that allows only SP-initiated logins, which (as the product we model does) is
    recorded and restarted as an SP-initiated login.
    """
    test = pending_test_find(relay_state=relay_state, sid=profile.sid, token=token)
    if test is not None:
        return sso_connection_test(
            request=request, profile=profile, saml_response=saml_response, token=token, test=test
        )
    try:
        if not profile.is_active:
            raise LoginRefused(Reason.PROFILE_INACTIVE)
        login = verify_response(profile=profile, saml_response=saml_response, token=token)
        backend = ProfileSaml2Backend()
        # The account, its sign-in, the login event and the session: one transaction.
        with transaction.atomic():
            event = _sign_in(request, login, backend)
    except LoginRefused as refusal:
        refusal.event = login_event_record_refusal(
            request=request, profile=profile, refusal=refusal
        )
        if refusal.reason == Reason.UNSOLICITED_NOT_ALLOWED and profile.is_active:
            return AcsOutcome(reverse("sso:saml2_login", args=[profile.sid]), refusal.event)
        raise
    except INFRASTRUCTURE_ERRORS as error:
        # Verifying turns these into a refusal, so signing in failed: the claims are verified.
        infrastructure_unavailable_log(error=error, where=f"ACS of profile {profile.sid}")
        request.session.clear()  # signs nobody in without touching a store
        refusal = LoginRefused(
            Reason.SERVICE_UNAVAILABLE, component=infrastructure_component(error)
        )
        refusal.claims = _claims(login, backend)
        refusal.event = login_event_record_refusal(
            request=request, profile=profile, refusal=refusal
        )
        raise refusal from None
    except Exception:
        # The one last-resort catch at the ACS boundary: whatever failed, nobody is signed in.
        logger.exception("Unexpected error in the ACS of profile %s", profile.sid)
        request.session.flush()
        refusal = LoginRefused(Reason.INTERNAL_ERROR)
        refusal.event = login_event_record_refusal(
            request=request, profile=profile, refusal=refusal
        )
        raise refusal from None
    return AcsOutcome(_redirect_target(login, relay_state), event)


def _login_hint_query(profile: SSOProfile, login_hint: str) -> dict[str, str]:
    parameter = preset_for(profile.idp_kind).login_hint_parameter
    if not (parameter and login_hint) or len(login_hint) > EMAIL_MAX_LENGTH:
        return {}
    try:
        validate_email(login_hint)
    except ValidationError:
        return {}
    if not trusted_domains_for_email(profile=profile, email=login_hint):
        return {}
    return {parameter: login_hint}


# The SAML messages that may reach the ACS by GET, and the binding each one names.
_GET_BINDINGS = {
    "SAMLResponse": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect",
    "SAMLart": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact",
}


def sso_login_by_get(
    *, request: HttpRequest, profile: SSOProfile, parameters: Mapping[str, str]
) -> LoginRefused | None:
    """A SAML message sent to the ACS by GET (the IdP uses the HTTP-Redirect or Artifact binding
    for its answer): the refusal, recorded with the binding it named; None for a GET that
    carries no SAML message. Nothing it carries is read."""
    binding = next((_GET_BINDINGS[name] for name in _GET_BINDINGS if name in parameters), None)
    if binding is None:
        return None
    refusal = LoginRefused(
        Reason.BINDING_NOT_SUPPORTED,
        binding=binding,
        expected="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
    )
    refusal.event = login_event_record_refusal(request=request, profile=profile, refusal=refusal)
    return refusal


def sso_login_start(
    *,
    request: HttpRequest,
    profile: SSOProfile,
    config: SPConfig | None,
    relay_state: str,
    token: str,
    login_hint: str = "",
) -> str:
    """The IdP URL of an SP-initiated login; raises LoginRefused with its recorded event.

    `login_hint`: the email typed at the email step, passed on the way the profile's IdP takes
    it, if it has a way and the email is one of the profile's trusted domains.
    """
    try:
        return authn_request_url(
            profile=profile,
            relay_state=relay_state,
            token=token,
            config=config,
            extra_query=_login_hint_query(profile, login_hint),
            force_authn=sso_login_authn_due(request=request, profile=profile),
        )
    except LoginRefused as refusal:
        refusal.event = login_event_record_refusal(
            request=request, profile=profile, refusal=refusal
        )
        raise


def sso_connection_test(
    *,
    request: HttpRequest,
    profile: SSOProfile,
    saml_response: str,
    token: str | None,
    test: PendingRequest,
) -> AcsOutcome:
    """Verify exactly as a login would, then show the admin the result; sign nobody in.

    An email outside the trusted domains is reported rather than refused.
    """
    try:
        login = verify_response(
            profile=profile, saml_response=saml_response, token=token, test=test
        )
    except LoginRefused as refusal:
        reason, claims, detail = refusal.reason, refusal.claims, refusal.detail
    except Exception:
        logger.exception("Unexpected error in the connection test of profile %s", profile.sid)
        reason, claims, detail = Reason.INTERNAL_ERROR, {}, {}
    else:
        reason, claims, detail = _connection_test_mapping(profile, login)
    response_xml = response_xml_for_support(saml_response)
    if response_xml:
        detail = {**detail, TEST_RESPONSE_XML: response_xml}
    event = connection_test_record(
        profile=profile,
        tester=User.objects.filter(pk=test.tester_id).first(),
        reason=reason,
        claims=claims,
        detail=detail,
        client_ip=throttling.client_ip(request),
    )
    return AcsOutcome(reverse("sso:profile_login_event", args=[profile.sid, event.pk]), event)


def _connection_test_mapping(
    profile: SSOProfile, login: VerifiedLogin
) -> tuple[Reason, dict[str, str], dict]:
    """The verified response beside what the profile's mapping makes of it; a mapping the
    login would refuse is the test's reason, an untrusted domain only reported."""
    received = login.diagnostics()
    try:
        mapped = attributes_map(
            profile=profile,
            name_id=login.name_id,
            name_id_format=login.name_id_format,
            attributes=login.attributes,
        )
    except LoginRefused as refusal:
        return refusal.reason, login.claims, {**refusal.detail, **received}
    domains = trusted_domains_for_email(profile=profile, email=mapped.email)
    detail = {
        **received,
        **mapped.detail(),
        "email_domain": mapped.email.rpartition("@")[2],
        "domain_trusted": bool(domains),
        "domain_verified": any(domain.is_verified for domain in domains),
    }
    return Reason.OK, {**login.claims, "email": mapped.email}, detail


def sso_user_for_login(
    *,
    request: HttpRequest | None,
    login: VerifiedLogin,
    backend: ProfileSaml2Backend | None = None,
) -> User:
    """The account a verified login signs in: djangosaml2's `authenticate`, through the
    profile's backend (`backend` keeps what its mapping made of the claims), with the
    profile's attribute mapping and create-users setting."""
    profile = login.profile
    user = (backend or ProfileSaml2Backend()).authenticate(
        request,
        session_info={
            "ava": {
                **login.attributes,
                NAME_ID: [login.name_id],
                NAME_ID_FORMAT: [login.name_id_format],
            },
            "issuer": login.issuer,
        },
        attribute_mapping=profile_attribute_mapping(profile),
        create_unknown_user=profile.jit_provisioning,
        assertion_info={"assertion_id": login.assertion_id},
        profile=profile,
    )
    if user is None:
        raise LoginRefused(Reason.USER_INACTIVE)
    return user


def _claims(login: VerifiedLogin, backend: ProfileSaml2Backend) -> dict[str, str]:
    """What the response claimed, with the email the mapping makes of it (applied here when
    the sign-in failed before the backend reached it)."""
    mapped = getattr(backend, "mapped", None)
    if mapped is None:
        with contextlib.suppress(LoginRefused):
            mapped = attributes_map(
                profile=login.profile,
                name_id=login.name_id,
                name_id_format=login.name_id_format,
                attributes=login.attributes,
            )
    return {**login.claims, "email": mapped.email if mapped else ""}


def _sign_in(
    request: HttpRequest, login: VerifiedLogin, backend: ProfileSaml2Backend
) -> LoginEvent:
    now = dt.datetime.now(dt.UTC)
    try:
        check_authn_age(login=login, now=now)
        used_assertion_record(login=login)
        user = sso_user_for_login(request=request, login=login, backend=backend)
    except LoginRefused as refusal:
        refusal.claims = _claims(login, backend)
        if refusal.reason in _MAPPING_REFUSALS:
            refusal.detail.setdefault("received_attributes", received_names(login.attributes))
        raise
    ends_at, limit = session_limit_for(login=login, now=now)
    event = login_event_record(
        profile=login.profile,
        outcome=LoginOutcome.SUCCESS,
        reason=Reason.OK,
        user=user,
        email=backend.mapped.email,
        idp_issuer=login.issuer,
        assertion_id=login.assertion_id,
        in_response_to=login.in_response_to,
        client_ip=throttling.client_ip(request),
        detail={
            "initiated_by": "sp" if login.pending else "idp",
            "verified_with": login.verifying_certificate,
            **login.signing(),
            **_mapping_detail(backend),
            **_session_detail(ends_at, limit),
        },
    )
    auth.login(request, user, backend=SSO_BACKEND)
    request.session[SESSION_PROFILE_KEY] = login.profile.sid
    if login.authn_instant is not None:
        request.session[SESSION_AUTHN_KEY] = login.authn_instant.isoformat()
    request.session[SESSION_SUBJECT_KEY] = login.subject_id
    request.session[SESSION_INDEX_KEY] = login.session_index
    # The stored session expires then, whichever worker reads it (the store is shared); one
    # kept from an earlier sign-in of the same person has its old limit replaced.
    request.session.set_expiry(ends_at if limit != SessionLimit.DEFAULT else None)
    request.session.save()  # in this transaction; the response does not write it again
    return event


def _session_detail(ends_at: dt.datetime, limit: str) -> dict[str, str]:
    """Which session limit applied, when one of ours or the IdP's did (not the site default)."""
    if limit == SessionLimit.DEFAULT:
        return {}
    return {"session_ends_at": ends_at.isoformat(), "session_limit": limit}


_MAPPING_REFUSALS = {Reason.NAMEID_FORMAT, Reason.EMAIL_ATTRIBUTE_MISSING, Reason.EMAIL_INVALID}


def _mapping_detail(backend: ProfileSaml2Backend) -> dict:
    """The groups and the claim sources when they are not the NameID alone; a login with the
    email in the NameID and no groups keeps today's event detail."""
    mapped = backend.mapped
    detail = {}
    if mapped.groups:
        detail["groups"] = mapped.groups
    if mapped.email_from != "NameID":
        detail["email_from"] = mapped.email_from
    if mapped.subject is not None:
        detail["subject"] = mapped.subject[1]
    if backend.email_followed:
        detail["email_changed"] = True
    return detail


_USED_ASSERTION = PreparedInsert(UsedAssertion)  # its INSERT compiled once (sso/prepared.py)


def used_assertion_record(*, login: VerifiedLogin) -> None:
    """Keep the assertion id in the database until it expires; raise LoginRefused if it was.

    The first write of the sign-in transaction: a replay refused here aborts it whole.
    """
    try:
        _USED_ASSERTION.create(digest=login.replay_digest, expires_at=login.replay_until)
    except IntegrityError:
        raise LoginRefused(
            Reason.REPLAYED_ASSERTION, assertion_id=login.assertion_id, seen_by="database"
        ) from None


def used_assertions_prune(*, now: dt.datetime) -> int:
    """Forget the assertions that have expired (they are refused as expired anyway)."""
    return UsedAssertion.objects.filter(expires_at__lt=now).delete()[0]


def login_event_record_refusal(
    *, request: HttpRequest, profile: SSOProfile, refusal: LoginRefused
) -> LoginEvent:
    """A refused attempt's login event; past SSO_REFUSAL_EVENTS_PER_MINUTE from one client on one
    profile, further refusals are counted on the last event recorded instead of adding rows."""
    client = throttling.client_ip(request)
    flood_key = f"sso:refusals:{profile.pk}:{client}"
    try:
        last = cache.get(flood_key + ":last") if _refusals_counted(flood_key) else None
    except CACHE_ERRORS:
        last = None  # without the cache, every refusal is recorded
    if last and LoginEvent.objects.filter(pk=last).update(repeats=F("repeats") + 1):
        logger.info(
            "SSO login refused again: profile=%s reason=%s folded into event=%s",
            profile.sid,
            refusal.reason,
            last,
        )
        return LoginEvent.objects.only("pk", "reference", "created_at").get(pk=last)
    event = login_event_record(
        profile=profile,
        outcome=LoginOutcome.FAILURE,
        reason=refusal.reason,
        email=refusal.claims.get("email", ""),
        idp_issuer=refusal.claims.get("issuer", ""),
        assertion_id=refusal.claims.get("assertion_id", ""),
        in_response_to=refusal.claims.get("in_response_to", ""),
        client_ip=client,
        detail=refusal.detail,
    )
    with contextlib.suppress(*CACHE_ERRORS):
        cache.set(flood_key + ":last", event.pk, 60)
    logger.info(
        "SSO login refused: profile=%s reason=%s event=%s", profile.sid, refusal.reason, event.pk
    )
    return event


def _refusals_counted(flood_key: str) -> bool:
    """Count one more refusal under `flood_key`; True past SSO_REFUSAL_EVENTS_PER_MINUTE."""
    cache.add(flood_key, 0, 60)
    try:
        count = cache.incr(flood_key)
    except ValueError:  # expired between add and incr
        count = 1
    return count > settings.SSO_REFUSAL_EVENTS_PER_MINUTE


def _redirect_target(login: VerifiedLogin, posted_relay_state: str) -> str:
    """Our own remembered RelayState for SP-initiated logins; the posted one only for
    IdP-initiated logins; and either only when it is a path on this site."""
    relay_state = login.pending.relay_state if login.pending else posted_relay_state
    return (
        same_origin_path(relay_state)
        or login.profile.default_redirect_url
        or reverse("sso:console")
    )


def password_login(*, email: str, password: str, client_ip: str | None) -> User:
    """Check a password sign-in: throttling, enforced SSO with break-glass owners, password.

    Raises LoginRefused (`refusal.profile`: the profile to sign in with instead, under enforced
    SSO). A break-glass sign-in is audited.
    """
    if throttling.login_throttled(email=email, client_ip=client_ip):
        raise LoginRefused(Reason.PASSWORD_THROTTLED)
    user = authenticate(None, username=email.strip(), password=password)
    if user is None:
        throttling.login_failure_record(email=email, client_ip=client_ip)
        raise LoginRefused(Reason.PASSWORD_INVALID)
    throttling.login_success_record(email=email, client_ip=client_ip)
    if not user_is_email_verified(user=user):
        refusal = LoginRefused(Reason.EMAIL_UNVERIFIED)
        if user_drop_unverified_password(user=user):
            # Its domain signs in through SSO now: the unproven password is gone for good.
            refusal = LoginRefused(Reason.SSO_REQUIRED)
            refusal.profile = profile_for_email(email=user.email)
        raise refusal
    enforcing = organization_enforcing_sso_for(email=user.email)
    if enforcing is not None:
        if membership_break_glass(user=user, organization=enforcing) is None:
            refusal = LoginRefused(Reason.SSO_REQUIRED)
            refusal.profile = profile_for_email(email=user.email)
            raise refusal
        audit_record(
            organization=enforcing,
            actor=user,
            action=AuditAction.BREAK_GLASS_LOGIN,
            changes={"client_ip": client_ip or ""},
        )
        logger.warning("Break-glass password sign-in by %s into %s", user.pk, enforcing.slug)
    membership_record_sign_in(user=user, method=SignInMethod.PASSWORD)
    return user
