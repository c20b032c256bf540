"""Signing out, with single logout at the profile's IdP.

Signing out here ends this browser's session first, then, after an SSO sign-in through a
profile whose IdP has a single logout URL, goes on to the IdP with a signed LogoutRequest: the
IdP's answer only says whether it signed the person out too, since nobody is signed in here any
more whatever it says. A signed LogoutRequest from the IdP ends every session of the person it
names on every worker (User.session_epoch), whether or not this browser's cookie came with it,
and is answered with a signed LogoutResponse. A refused logout message is recorded as a login
event with its reason, and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.contrib import auth
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from sso.domains.selectors import trusted_domains_for_email
from sso.events import audit_record
from sso.login.services import login_event_record_refusal
from sso.login.sessions import SESSION_INDEX_KEY, SESSION_PROFILE_KEY, SESSION_SUBJECT_KEY
from sso.models import AuditAction, SSOProfile, SubjectLink, UsedAssertion, User
from sso.organizations.services import user_end_sessions
from sso.reasons import LoginRefused, Reason
from sso.saml.acs import replay_digest
from sso.saml.logout import (
    IdPLogoutRequest,
    idp_logout_request_read,
    idp_logout_response_url,
    logout_request_url,
    logout_response_read,
)
from sso.validators import normalize_idp_email

logger = logging.getLogger(__name__)

# A LogoutRequest older than this is refused; one seen before is refused until then.
LOGOUT_REQUEST_MAX_AGE = dt.timedelta(minutes=10)
EMAIL_NAME_ID_FORMATS = (
    "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
    "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
    "",
)


@dataclass(frozen=True)
class SignOut:
    """Where a signed-out browser goes next: the IdP's logout, or `profile`'s redirect URL."""

    idp_logout_url: str | None
    profile: SSOProfile | None


def sso_logout_start(*, request: HttpRequest) -> SignOut:
    """End this browser's session, then say where it goes: to the IdP with a signed
    LogoutRequest after an SSO sign-in whose IdP has a single logout URL."""
    sid = request.session.get(SESSION_PROFILE_KEY)
    subject_id = request.session.get(SESSION_SUBJECT_KEY, "")
    session_index = request.session.get(SESSION_INDEX_KEY, "")
    auth.logout(request)
    profile = (
        SSOProfile.objects.select_related("organization").filter(sid=sid).first() if sid else None
    )
    if profile is None or not profile.is_active:
        return SignOut(idp_logout_url=None, profile=profile)
    try:
        url = logout_request_url(
            profile=profile,
            subject_id=subject_id,
            session_index=session_index,
            session=request.session,
        )
    except Exception:  # the person is signed out here already; the IdP's part is a courtesy
        logger.exception("Single logout request for profile %s could not be made", profile.sid)
        url = None
    return SignOut(idp_logout_url=url, profile=profile)


def sso_logout_finish(
    *, request: HttpRequest, profile: SSOProfile, query: dict, query_string: str
) -> bool:
    """Whether the IdP's LogoutResponse (`query`, decoded from `query_string`) confirms it
    signed the person out too; LoginRefused, recorded, when it is not a signed answer to this
    browser's LogoutRequest."""
    with _refusal_recorded(request, profile):
        return logout_response_read(
            profile=profile, query=query, query_string=query_string, session=request.session
        )


def sso_logout_by_idp(
    *, request: HttpRequest, profile: SSOProfile, query: dict, query_string: str
) -> str | None:
    """Verify the IdP's LogoutRequest (`query`, decoded from `query_string`), end every
    session of the person it names, and give the URL of our answer (None when the IdP has no
    single logout URL)."""
    with _refusal_recorded(request, profile):
        logout = idp_logout_request_read(
            profile=profile, query=query, query_string=query_string, session=request.session
        )
        _check_fresh(profile=profile, logout=logout)
    users = users_for_subject(profile=profile, logout=logout)
    with transaction.atomic():
        for user in users:
            user_end_sessions(user=user)
        audit_record(
            organization=profile.organization,
            profile=profile,
            actor=None,
            action=AuditAction.IDP_LOGOUT,
            changes={
                "name_id": logout.name_id,
                "accounts_signed_out": [user.email for user in users],
            },
        )
    if request.user.is_authenticated and request.user in users:
        auth.logout(request)
    return idp_logout_response_url(
        profile=profile, logout=logout, session=request.session, signed_out=bool(users)
    )


@contextmanager
def _refusal_recorded(request: HttpRequest, profile: SSOProfile) -> Iterator[None]:
    """A refusal raised inside is recorded as a login event, which it then carries."""
    try:
        yield
    except LoginRefused as refusal:
        refusal.event = login_event_record_refusal(
            request=request, profile=profile, refusal=refusal
        )
        raise


def _check_fresh(*, profile: SSOProfile, logout: IdPLogoutRequest) -> None:
    """Refuse a LogoutRequest issued too long ago, past its NotOnOrAfter, or seen before: its
    URL passes through the browser's history, and replaying it would sign the person out again
    and again."""
    now = timezone.now()
    skew = dt.timedelta(seconds=settings.SSO_CLOCK_SKEW_SECONDS)
    issued = logout.issue_instant
    if issued is None or not now - LOGOUT_REQUEST_MAX_AGE - skew <= issued <= now + skew:
        raise LoginRefused(
            Reason.LOGOUT_MALFORMED,
            problem=f"issued at {issued.isoformat() if issued else '(no IssueInstant)'}, "
            f"not within {LOGOUT_REQUEST_MAX_AGE.seconds // 60} minutes of our time",
        )
    expires = logout.not_on_or_after
    if expires is not None and expires <= now - skew:
        raise LoginRefused(Reason.LOGOUT_MALFORMED, problem=f"expired at {expires.isoformat()}")
    try:
        with transaction.atomic():
            UsedAssertion.objects.create(
                digest=replay_digest(profile.idp_issuer, f"LogoutRequest\0{logout.request_id}"),
                expires_at=now + LOGOUT_REQUEST_MAX_AGE + 2 * skew,
            )
    except IntegrityError:
        raise LoginRefused(
            Reason.LOGOUT_MALFORMED, problem=f"LogoutRequest {logout.request_id} was already used"
        ) from None


def users_for_subject(*, profile: SSOProfile, logout: IdPLogoutRequest) -> list[User]:
    """The accounts the LogoutRequest's NameID names through this profile: its linked subject,
    or, for an email NameID, the member of the profile's organization with that email in one
    of the profile's verified domains (never anyone of another organization)."""
    linked = [
        link.user
        for link in SubjectLink.objects.filter(
            profile=profile, name_id=logout.name_id, name_id_format=logout.name_id_format
        ).select_related("user")
    ]
    if linked or logout.name_id_format not in EMAIL_NAME_ID_FORMATS:
        return linked
    try:
        email = normalize_idp_email(logout.name_id)
    except ValidationError:
        return []
    domains = trusted_domains_for_email(profile=profile, email=email)
    if not any(domain.is_verified for domain in domains):
        return []
    return list(
        User.objects.filter(email__iexact=email, memberships__organization=profile.organization)
    )
