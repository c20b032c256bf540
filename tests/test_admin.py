"""The Django admin for support staff: every model listed, searchable, events read-only."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.urls import reverse

from tests.factories import (
    ActiveProfileFactory,
    AuditEventFactory,
    LoginEventFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

MODELS = [
    "user",
    "organization",
    "ssoprofile",
    "idpcertificate",
    "trusteddomain",
    "loginevent",
    "auditevent",
]


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize("model", MODELS)
def test_admin_changelist_lists_and_searches(staff_client, model):
    profile = ActiveProfileFactory()
    LoginEventFactory(profile=profile, email="grace@acme.test")
    AuditEventFactory(profile=profile)
    url = reverse(f"admin:sso_{model}_changelist")
    assert staff_client.get(url).status_code == HTTPStatus.OK
    for query in ("acme.test", profile.sid, "grace@acme.test", profile.organization.name):
        assert staff_client.get(url, {"q": query}).status_code == HTTPStatus.OK


def test_admin_profile_page_hides_private_key_and_shows_certificate(staff_client):
    profile = ActiveProfileFactory()
    page = staff_client.get(reverse("admin:sso_ssoprofile_change", args=[profile.pk]))
    content = page.content.decode()
    assert profile.sp_private_key_encrypted not in content
    assert profile.certificates.get().fingerprint_sha256 in content


def test_admin_events_are_read_only(staff_client):
    event = LoginEventFactory()
    assert staff_client.get(reverse("admin:sso_loginevent_add")).status_code == HTTPStatus.FORBIDDEN
    response = staff_client.post(
        reverse("admin:sso_loginevent_change", args=[event.pk]), {"reason": "forged"}
    )
    assert response.status_code == HTTPStatus.FORBIDDEN
    event.refresh_from_db()
    assert event.reason == "ok"


def test_admin_filters_by_status_and_outcome(staff_client):
    LoginEventFactory(outcome="failure", reason="expired")
    url = reverse("admin:sso_loginevent_changelist")
    assert "expired" in staff_client.get(url, {"outcome": "failure"}).content.decode()
    url = reverse("admin:sso_ssoprofile_changelist")
    assert staff_client.get(url, {"status": "active"}).status_code == HTTPStatus.OK


def test_admin_profile_form_takes_an_address_without_scheme_as_https(staff_client):
    profile = ActiveProfileFactory()
    page = staff_client.get(reverse("admin:sso_ssoprofile_change", args=[profile.pk]))
    form = page.context["adminform"].form
    for name in ["idp_sso_url", "default_redirect_url"]:
        assert form.fields[name].clean("idp.acme.test/sso") == "https://idp.acme.test/sso"
