"""The Django admin for support staff: every model listed, searchable, events read-only."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.urls import reverse

from sso.models import AuditAction, AuditEvent, Role
from tests.factories import (
    ActiveProfileFactory,
    AuditEventFactory,
    LoginEventFactory,
    MembershipFactory,
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


# Signing in to the Django admin: the same password policy as /login/.

ADMIN_PASSWORD = "correct horse battery"


def admin_login(client, email, password=ADMIN_PASSWORD):
    return client.post(
        reverse("admin:login"),
        {"username": email, "password": password, "next": reverse("admin:index")},
    )


def enforced_staff(*, break_glass=False):
    profile = ActiveProfileFactory()
    profile.organization.enforce_sso = True
    profile.organization.save()
    staff = UserFactory(email="support@acme.test", is_staff=True, is_superuser=True)
    MembershipFactory(
        user=staff, organization=profile.organization, role=Role.OWNER, break_glass=break_glass
    )
    return staff


def test_admin_login_under_enforced_sso_refuses_staff_who_is_refused_at_login(client):
    staff = enforced_staff()

    response = admin_login(client, staff.email)

    assert response.status_code == HTTPStatus.OK
    assert "requires single sign-on" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("admin:index")).status_code == HTTPStatus.FOUND
    assert client.get(reverse("sso:admin_sso")).status_code == HTTPStatus.FOUND


def test_admin_login_under_enforced_sso_lets_a_break_glass_owner_in_audited(client):
    staff = enforced_staff(break_glass=True)

    response = admin_login(client, staff.email)

    assert response.status_code == HTTPStatus.FOUND
    assert client.get(reverse("admin:index")).status_code == HTTPStatus.OK
    assert AuditEvent.objects.filter(action=AuditAction.BREAK_GLASS_LOGIN, actor=staff).exists()


def test_admin_login_is_throttled_per_email(client, settings):
    settings.SSO_LOGIN_FAILURES_PER_EMAIL = 3
    staff = UserFactory(is_staff=True)
    for _ in range(3):
        assert "_auth_user_id" not in admin_login(client, staff.email, "wrong").wsgi_request.session

    throttled = admin_login(client, staff.email)  # even the right password waits now

    assert "Too many failed attempts" in throttled.content.decode()
    assert "_auth_user_id" not in client.session


def test_admin_login_shares_the_throttle_with_the_password_step(client, settings):
    settings.SSO_LOGIN_FAILURES_PER_CLIENT = 2
    staff = UserFactory(is_staff=True)
    for email in ("a@example.test", "b@example.test"):
        client.post(reverse("sso:login"), {"email": email})
        client.post(reverse("sso:login_password"), {"password": "wrong"})

    throttled = admin_login(client, staff.email)

    assert "Too many failed attempts" in throttled.content.decode()
    assert "_auth_user_id" not in client.session


def test_admin_login_refuses_a_user_who_is_not_staff(client):
    user = UserFactory()

    response = admin_login(client, user.email)

    assert response.status_code == HTTPStatus.OK
    assert "_auth_user_id" not in client.session


def test_admin_login_lets_staff_in(client):
    staff = UserFactory(is_staff=True)

    assert admin_login(client, staff.email).status_code == HTTPStatus.FOUND
    assert client.get(reverse("admin:index")).status_code == HTTPStatus.OK
