"""The maintenance job: `manage.py prune` deletes what retention no longer keeps."""

from __future__ import annotations

import datetime as dt
import secrets
from io import StringIO

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.utils import timezone

from sso.events import login_events_prune
from sso.models import AuditEvent, Invitation, LoginEvent
from tests.factories import AuditEventFactory, LoginEventFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


def invitation(*, expires_ago: dt.timedelta, accepted: bool = False) -> Invitation:
    expires_at = timezone.now() - expires_ago
    return Invitation.objects.create(
        organization=OrganizationFactory(),
        email="new@acme.test",
        token_digest=secrets.token_hex(32),
        expires_at=expires_at,
        accepted_at=expires_at - DAY if accepted else None,
    )


def session(*, expires_in: dt.timedelta) -> str:
    store = SessionStore()
    store["x"] = 1
    store.set_expiry(timezone.now() + expires_in)
    store.save()
    return store.session_key


def test_prune_deletes_login_events_older_than_retention_and_keeps_the_rest(settings):
    settings.SSO_LOGIN_EVENT_RETENTION_DAYS = 30
    now = timezone.now()
    old = LoginEventFactory.create_batch(5, created_at=now - 31 * DAY)
    kept = LoginEventFactory(created_at=now - 29 * DAY)

    deleted = login_events_prune(now=now, batch_size=2)

    assert deleted == len(old)
    assert list(LoginEvent.objects.all()) == [kept]


def test_prune_command_deletes_old_events_expired_sessions_and_stale_invitations(settings):
    settings.SSO_LOGIN_EVENT_RETENTION_DAYS = 30
    now = timezone.now()
    LoginEventFactory(created_at=now - 31 * DAY)
    recent_event = LoginEventFactory(created_at=now - DAY)
    audit = AuditEventFactory(created_at=now - 365 * DAY)  # the audit log is kept
    stale = invitation(expires_ago=31 * DAY)
    recently_expired = invitation(expires_ago=DAY)
    accepted = invitation(expires_ago=31 * DAY, accepted=True)
    expired_session = session(expires_in=-DAY)
    assert Session.objects.filter(session_key=expired_session).exists()
    live_session = session(expires_in=DAY)
    out = StringIO()

    call_command("prune", stdout=out)

    assert list(LoginEvent.objects.all()) == [recent_event]
    assert list(AuditEvent.objects.all()) == [audit]
    assert set(Invitation.objects.all()) == {recently_expired, accepted}
    assert not Invitation.objects.filter(pk=stale.pk).exists()
    assert set(Session.objects.values_list("session_key", flat=True)) == {live_session}
    assert "1 login event" in out.getvalue()


def test_prune_forgets_only_expired_used_assertions():
    from sso.models import UsedAssertion

    now = timezone.now()
    UsedAssertion.objects.create(digest="a" * 64, expires_at=now - DAY)
    kept = UsedAssertion.objects.create(digest="b" * 64, expires_at=now + DAY)
    call_command("prune", stdout=StringIO())
    assert list(UsedAssertion.objects.all()) == [kept]
