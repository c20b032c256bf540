"""The Django admin for support: events by support reference, the fix, expiring certificates."""

from __future__ import annotations

import datetime as dt
from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from sso.profiles.diagnostics import fix_for
from tests.factories import (
    ActiveProfileFactory,
    IdPCertificateFactory,
    LoginEventFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def _listed(response, needle: str) -> bool:
    return needle in response.content.decode()


@pytest.mark.parametrize("spelling", [str, str.lower, lambda r: r.replace("-", "")])
def test_admin_login_events_search_by_support_reference(staff_client, spelling):
    wanted = LoginEventFactory(email="wanted@acme.test")
    LoginEventFactory(email="other@acme.test")
    url = reverse("admin:sso_loginevent_changelist")
    response = staff_client.get(url, {"q": spelling(wanted.reference)})
    assert _listed(response, "wanted@acme.test") and not _listed(response, "other@acme.test")


def test_admin_login_events_search_by_email(staff_client):
    LoginEventFactory(email="wanted@acme.test")
    LoginEventFactory(email="other@acme.test")
    url = reverse("admin:sso_loginevent_changelist")
    response = staff_client.get(url, {"q": "Wanted@acme.test"})
    assert _listed(response, "wanted@acme.test") and not _listed(response, "other@acme.test")


def test_admin_login_event_page_shows_the_fix(staff_client):
    profile = ActiveProfileFactory()
    event = LoginEventFactory(profile=profile, outcome="failure", reason="issuer_mismatch")
    response = staff_client.get(reverse("admin:sso_loginevent_change", args=[event.pk]))
    assert response.status_code == HTTPStatus.OK
    assert "How to fix it" in response.content.decode()
    assert escape(fix_for(event, profile)) in response.content.decode()


def test_admin_certificates_expiring_within_n_days(staff_client):
    now = timezone.now()

    def certificate(subject: str, not_after: dt.datetime):
        # Each on its own profile: a profile holds one row per fingerprint.
        return IdPCertificateFactory(subject=subject, not_after=not_after)

    soon = certificate("CN=soon", not_after=now + dt.timedelta(days=5))
    later = certificate("CN=later", not_after=now + dt.timedelta(days=60))
    gone = certificate("CN=gone", not_after=now - dt.timedelta(days=1))
    url = reverse("admin:sso_idpcertificate_changelist")

    week = staff_client.get(url, {"expires_within": "7"})
    quarter = staff_client.get(url, {"expires_within": "90"})
    expired = staff_client.get(url, {"expires_within": "expired"})

    assert _listed(week, soon.subject) and not _listed(week, later.subject)
    assert not _listed(week, gone.subject)
    assert _listed(quarter, soon.subject) and _listed(quarter, later.subject)
    assert _listed(expired, gone.subject) and not _listed(expired, soon.subject)
