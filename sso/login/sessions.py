"""How long a signed-in SSO session lasts, and when the person must authenticate afresh.

A session ends at the earliest of the organization's maximum session age, the assertion's
SessionNotOnOrAfter and the profile's maximum: Django's session expiry, kept with the session
in the shared store, so that every worker ends it then. The profile's maximum authentication
age asks the IdP for ForceAuthn when due and refuses an AuthnInstant older than it.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from django.conf import settings
from django.http import HttpRequest

from sso.models import SSOProfile
from sso.reasons import LoginRefused, Reason
from sso.saml.acs import VerifiedLogin

SESSION_PROFILE_KEY = "sso_profile_sid"
# When the signed-in person last authenticated at the IdP of SESSION_PROFILE_KEY (ISO 8601).
# Kept in this browser's session, not on the account: whether an email's owner signed in
# recently never shows in an AuthnRequest another browser can ask for.
SESSION_AUTHN_KEY = "sso_authn_instant"
# The NameID (as pysaml2 codes it) and SessionIndex the sign-in received: what the LogoutRequest
# to the IdP names when the person signs out (sso/login/logout.py).
SESSION_SUBJECT_KEY = "sso_subject_id"
SESSION_INDEX_KEY = "sso_session_index"


class SessionLimit(StrEnum):
    """Which limit ends a signed-in SSO session, the earliest winning (in this order on a tie)."""

    ORGANIZATION = "organization"
    IDP = "idp"
    PROFILE = "profile"
    DEFAULT = "default"  # none is earlier than the site's SESSION_COOKIE_AGE


def session_limit_for(*, login: VerifiedLogin, now: dt.datetime) -> tuple[dt.datetime, str]:
    """When a session this login starts ends, and which limit decided it: the organization's
    maximum session age, the assertion's SessionNotOnOrAfter or the profile's maximum."""
    profile = login.profile
    organization_minutes = profile.organization.max_session_minutes
    limits = [
        (now + dt.timedelta(seconds=settings.SESSION_COOKIE_AGE), SessionLimit.DEFAULT),
    ]
    if organization_minutes:
        limits.append((now + dt.timedelta(minutes=organization_minutes), SessionLimit.ORGANIZATION))
    if login.session_not_on_or_after is not None:
        limits.append((login.session_not_on_or_after, SessionLimit.IDP))
    if profile.max_session_minutes:
        limits.append(
            (now + dt.timedelta(minutes=profile.max_session_minutes), SessionLimit.PROFILE)
        )
    order = list(SessionLimit)
    ends_at, limit = min(limits, key=lambda item: (item[0], order.index(item[1])))
    return ends_at, limit.value


def check_authn_age(*, login: VerifiedLogin, now: dt.datetime) -> None:
    """Refuse a sign-in whose AuthnInstant is older than the profile allows: whatever the IdP
    made of ForceAuthn, the signed assertion says when the person last authenticated."""
    max_minutes = login.profile.max_authn_age_minutes
    if not max_minutes:
        return
    skew = dt.timedelta(seconds=settings.SSO_CLOCK_SKEW_SECONDS)
    instant = login.authn_instant
    if instant is None or now - instant > dt.timedelta(minutes=max_minutes) + skew:
        raise LoginRefused(
            Reason.AUTHN_TOO_OLD,
            authn_instant=instant.isoformat() if instant else "(none)",
            age_minutes=round((now - instant).total_seconds() / 60) if instant else "?",
            max_minutes=max_minutes,
        )


def sso_login_authn_due(
    *, request: HttpRequest, profile: SSOProfile, now: dt.datetime | None = None
) -> bool:
    """Whether a login through this profile must ask for ForceAuthn: the profile has a maximum
    authentication age, and this browser's last authentication at its IdP is unknown or older.
    The ACS checks the AuthnInstant anyway (`check_authn_age`): an IdP may ignore ForceAuthn."""
    if not profile.max_authn_age_minutes:
        return False
    if request.session.get(SESSION_PROFILE_KEY) != profile.sid:
        return True
    try:
        last = dt.datetime.fromisoformat(request.session.get(SESSION_AUTHN_KEY) or "")
    except ValueError:
        return True
    now = now or dt.datetime.now(dt.UTC)
    return now - last > dt.timedelta(minutes=profile.max_authn_age_minutes)
