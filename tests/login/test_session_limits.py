"""Session limits from the organization, the IdP (SessionNotOnOrAfter) and the profile, and the
profile's maximum authentication age (ForceAuthn, AuthnInstant), through the ACS with real
signed responses."""

from __future__ import annotations

import datetime as dt
from http import HTTPStatus

import pytest
from django.contrib.sessions.backends import db as db_sessions
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from sso.login.sessions import SESSION_AUTHN_KEY
from sso.profiles.diagnostics import fix_for
from tests.factories import ActiveProfileFactory
from tests.fixtures.idp import ResponseSpec, TestIdP, authn_request_from_redirect, new_id
from tests.saml.test_acs import assert_refused, last_event, post_response

pytestmark = pytest.mark.django_db


def start(client: Client, profile) -> tuple[str, str | None]:
    """SP-initiated login: the AuthnRequest's id and its ForceAuthn attribute."""
    response = client.get(reverse("sso:saml2_login", args=[profile.sid]))
    assert response.status_code == HTTPStatus.FOUND
    request, _ = authn_request_from_redirect(response["Location"])
    return request.get("ID"), request.get("ForceAuthn")


def sign_in(client: Client, profile, idp: TestIdP, **spec_changes):
    request_id, _ = start(client, profile)
    spec = ResponseSpec.for_profile(
        profile,
        in_response_to=request_id,
        response_id=new_id(),
        assertion_id=new_id(),
        **spec_changes,
    )
    return post_response(client, profile, idp.signxml_response(spec))


def stored_expiry(client: Client) -> dt.datetime:
    return Session.objects.get(session_key=client.session.session_key).expire_date


def signed_in(client: Client) -> bool:
    return client.get(reverse("sso:console")).status_code == HTTPStatus.OK


def test_session_not_on_or_after_ends_the_session_then(client, idp, monkeypatch):
    profile = ActiveProfileFactory()
    ends_at = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=20)).replace(microsecond=0)

    response = sign_in(client, profile, idp, session_not_on_or_after=ends_at)

    assert response.status_code == HTTPStatus.FOUND
    assert stored_expiry(client) == ends_at
    event = last_event()
    assert (event.detail["session_limit"], event.detail["session_ends_at"]) == (
        "idp",
        ends_at.isoformat(),
    )
    # The session store's own clock, a second before and a second after.
    monkeypatch.setattr(db_sessions.timezone, "now", lambda: ends_at - dt.timedelta(seconds=1))
    assert signed_in(client)
    monkeypatch.setattr(db_sessions.timezone, "now", lambda: ends_at + dt.timedelta(seconds=1))
    assert not signed_in(client)


def test_session_organization_maximum_wins_when_earlier(client, idp):
    profile = ActiveProfileFactory(organization__max_session_minutes=30, max_session_minutes=120)
    before = dt.datetime.now(dt.UTC)

    sign_in(client, profile, idp, session_not_on_or_after=before + dt.timedelta(hours=8))

    expiry = stored_expiry(client)
    assert before + dt.timedelta(minutes=30) <= expiry <= before + dt.timedelta(minutes=31)
    assert last_event().detail["session_limit"] == "organization"


def test_session_profile_maximum_wins_when_earliest(client, idp):
    profile = ActiveProfileFactory(organization__max_session_minutes=60, max_session_minutes=10)
    before = dt.datetime.now(dt.UTC)

    sign_in(client, profile, idp, session_not_on_or_after=before + dt.timedelta(hours=8))

    assert stored_expiry(client) <= before + dt.timedelta(minutes=11)
    assert last_event().detail["session_limit"] == "profile"


def test_session_without_limits_keeps_the_site_default_and_event_detail(client, idp, settings):
    profile = ActiveProfileFactory()
    before = dt.datetime.now(dt.UTC)

    sign_in(client, profile, idp)

    assert stored_expiry(client) >= before + dt.timedelta(seconds=settings.SESSION_COOKIE_AGE - 5)
    assert "session_limit" not in last_event().detail


def test_session_limit_of_an_earlier_sign_in_is_replaced(client, idp, settings):
    """The same person signing in again keeps the session's data (a new key): not its limit."""
    profile = ActiveProfileFactory()
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    sign_in(client, profile, idp, session_not_on_or_after=soon)

    sign_in(client, profile, idp)

    assert stored_expiry(client) > soon + dt.timedelta(days=1)


def test_session_ended_by_epoch_still_ends_before_its_limit(client, idp):
    """The session epoch (removal from the organization) still ends a capped session at once."""
    from sso.models import User
    from sso.organizations.services import user_end_sessions

    profile = ActiveProfileFactory(max_session_minutes=60)
    sign_in(client, profile, idp)
    assert signed_in(client)

    user_end_sessions(user=User.objects.get(email="grace@acme.test"))

    assert not signed_in(client)


# Maximum authentication age ------------------------------------------------------------------


def test_force_authn_sent_when_no_authentication_is_known(client):
    profile = ActiveProfileFactory(max_authn_age_minutes=60)

    _, force_authn = start(client, profile)

    assert force_authn == "true"


def test_force_authn_not_sent_without_a_maximum_authentication_age(client):
    _, force_authn = start(client, ActiveProfileFactory())

    assert force_authn is None


def test_force_authn_sent_once_the_last_authentication_is_too_old(client, idp):
    profile = ActiveProfileFactory(max_authn_age_minutes=60)
    sign_in(client, profile, idp)
    _, force_authn = start(client, profile)
    assert force_authn is None  # authenticated a moment ago, in this browser

    session = client.session
    old = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=61)
    session[SESSION_AUTHN_KEY] = old.isoformat()
    session.save()
    _, force_authn = start(client, profile)

    assert force_authn == "true"


def test_authn_instant_older_than_the_maximum_is_refused(client, idp):
    profile = ActiveProfileFactory(max_authn_age_minutes=60)
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=90)

    response = sign_in(client, profile, idp, authn_instant=long_ago)

    assert_refused(response, "authn_too_old")
    event = last_event()
    assert (event.detail["max_minutes"], event.detail["age_minutes"]) == (60, 90)
    assert "ForceAuthn" in fix_for(event, profile)
    assert "sign in at your identity provider again" in response.content.decode()


def test_authn_instant_within_the_maximum_signs_in(client, idp):
    profile = ActiveProfileFactory(max_authn_age_minutes=60)
    recent = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=50)

    response = sign_in(client, profile, idp, authn_instant=recent)

    assert response.status_code == HTTPStatus.FOUND
    assert signed_in(client)
