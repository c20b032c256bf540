"""The Django admin for support staff: every model listed, searchable, events read-only."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.db.models.signals import pre_save
from django.urls import reverse

from sso.models import (
    AuditAction,
    AuditEvent,
    LoginEvent,
    Organization,
    Role,
    SSOProfile,
    SubjectLink,
)
from sso.profiles.sp_keys import profile_sp_key_rollover_start
from tests.factories import (
    ActiveProfileFactory,
    AuditEventFactory,
    LoginEventFactory,
    MembershipFactory,
    OrganizationFactory,
    SubjectLinkFactory,
    TrustedDomainFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

MODELS = [
    "user",
    "organization",
    "ssoprofile",
    "idpcertificate",
    "trusteddomain",
    "subjectlink",
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
    assert form.fields["default_redirect_url"].clean("app.acme.test/") == "https://app.acme.test/"


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
        assert admin_login(client, staff.email, "wrong").status_code == HTTPStatus.OK

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


# Staff changes: read-only where a service owns the rule, audited everywhere else.


@pytest.mark.parametrize("model", ["loginevent", "auditevent"])
def test_admin_events_cannot_be_deleted(staff_client, model):
    event = LoginEventFactory() if model == "loginevent" else AuditEventFactory()
    delete_url = reverse(f"admin:sso_{model}_delete", args=[event.pk])

    assert staff_client.post(delete_url, {"post": "yes"}).status_code == HTTPStatus.FORBIDDEN
    staff_client.post(
        reverse(f"admin:sso_{model}_changelist"),
        {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"},
    )

    assert type(event).objects.filter(pk=event.pk).exists()


def test_admin_organization_with_events_cannot_be_deleted_with_them(staff_client):
    event = LoginEventFactory()
    organization = event.organization

    staff_client.post(
        reverse("admin:sso_organization_delete", args=[organization.pk]), {"post": "yes"}
    )

    assert Organization.objects.filter(pk=organization.pk).exists()
    assert LoginEvent.objects.filter(pk=event.pk).exists()


def test_admin_profile_issuer_sso_url_and_role_are_read_only(staff_client):
    other = ActiveProfileFactory()
    profile = ActiveProfileFactory()
    url = reverse("admin:sso_ssoprofile_change", args=[profile.pk])
    form = staff_client.get(url).context["adminform"].form
    data = {
        "name": "Renamed",
        "idp_kind": profile.idp_kind,
        "idp_issuer": other.idp_issuer,  # another organization's issuer
        "idp_sso_url": "http://idp.evil.test/sso",
        "jit_role": Role.OWNER,
        "status": "active",
        **{
            f"{prefix}-{key}": value
            for prefix in ("certificates", "domains")
            for key, value in {"TOTAL_FORMS": 0, "INITIAL_FORMS": 0}.items()
        },
    }

    staff_client.post(url, data)

    for field in ("idp_issuer", "idp_sso_url", "jit_role", "status", "organization"):
        assert field not in form.fields
    profile.refresh_from_db()
    assert (profile.idp_issuer, profile.idp_sso_url, profile.jit_role) != (
        other.idp_issuer,
        "http://idp.evil.test/sso",
        Role.OWNER,
    )
    assert profile.idp_sso_url == "https://idp.acme.test/sso"
    assert profile.jit_role == Role.MEMBER


def test_admin_profile_save_leaves_the_sp_keys_to_a_rollover_started_meanwhile(staff_client):
    """A rollover started between the admin reading the profile and writing it back (its
    pre_save signal is that moment): the admin's save leaves the next key in place."""
    profile = ActiveProfileFactory()
    url = reverse("admin:sso_ssoprofile_change", args=[profile.pk])
    data = {
        "name": "Renamed",
        "idp_kind": profile.idp_kind,
        "default_redirect_url": "",
        "signature_policy": profile.signature_policy,
        **{
            f"{prefix}-{key}": value
            for prefix in ("certificates", "domains")
            for key, value in {"TOTAL_FORMS": 0, "INITIAL_FORMS": 0}.items()
        },
    }

    def start_meanwhile(sender, instance, **kwargs):
        pre_save.disconnect(start_meanwhile, sender=SSOProfile)
        profile_sp_key_rollover_start(profile=SSOProfile.objects.get(pk=instance.pk), actor=None)

    pre_save.connect(start_meanwhile, sender=SSOProfile)
    try:
        response = staff_client.post(url, data)
    finally:
        pre_save.disconnect(start_meanwhile, sender=SSOProfile)

    assert response.status_code == HTTPStatus.FOUND, response.context["adminform"].errors
    profile.refresh_from_db()
    assert profile.name == "Renamed"
    assert profile.sp_next_certificate_pem and profile.sp_rollover_ends_at is not None


def test_admin_profile_cannot_be_added_around_the_service(staff_client):
    assert staff_client.get(reverse("admin:sso_ssoprofile_add")).status_code == (
        HTTPStatus.FORBIDDEN
    )


def test_admin_staff_change_is_audited_with_the_staff_member_and_fields(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    organization = OrganizationFactory(name="Acme")

    response = client.post(
        reverse("admin:sso_organization_change", args=[organization.pk]),
        {"name": "Acme Corp", "slug": organization.slug, "enforce_sso": "on"},
    )

    assert response.status_code == HTTPStatus.FOUND
    event = AuditEvent.objects.get(action=AuditAction.STAFF_CHANGE)
    assert (event.actor, event.organization) == (staff, organization)
    assert event.changes["model"] == "sso.organization"
    assert set(event.changes["fields"]) == {"name", "enforce_sso"}


def test_admin_staff_change_of_a_user_is_audited_in_each_organization(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    membership = MembershipFactory()
    user = membership.user
    loner = UserFactory()
    for person in (user, loner):
        response = client.post(
            reverse("admin:sso_user_change", args=[person.pk]),
            {
                "email": person.email,
                "first_name": person.first_name,
                "last_name": person.last_name,
                "is_active": "on",
                "is_staff": "on",
                "is_superuser": "on",
                "last_login_0": "",
                "last_login_1": "",
                "date_joined_0": person.date_joined.strftime("%Y-%m-%d"),
                "date_joined_1": person.date_joined.strftime("%H:%M:%S"),
            },
        )
        assert response.status_code == HTTPStatus.FOUND

    events = AuditEvent.objects.filter(action=AuditAction.STAFF_CHANGE, actor=staff)
    assert {event.organization for event in events} == {membership.organization, None}
    for event in events:
        assert {"is_staff", "is_superuser"} <= set(event.changes["fields"])


def test_admin_staff_deletion_is_audited(staff_client):
    domain = TrustedDomainFactory()

    staff_client.post(reverse("admin:sso_trusteddomain_delete", args=[domain.pk]), {"post": "yes"})

    event = AuditEvent.objects.get(action=AuditAction.STAFF_CHANGE)
    assert event.organization == domain.organization
    assert event.changes["operation"] == "deleted"
    assert event.changes["object"] == domain.domain


def test_admin_support_unlinks_a_wrongly_linked_subject_audited(staff_client):
    link = SubjectLinkFactory()

    page = staff_client.get(reverse("admin:sso_subjectlink_changelist"), {"q": link.name_id})
    assert link.user.email in page.content.decode()
    staff_client.post(reverse("admin:sso_subjectlink_delete", args=[link.pk]), {"post": "yes"})

    assert not SubjectLink.objects.exists()
    event = AuditEvent.objects.get(action=AuditAction.STAFF_CHANGE)
    assert (event.organization, event.profile) == (link.profile.organization, link.profile)
    assert event.changes["operation"] == "deleted"
    assert (
        staff_client.get(reverse("admin:sso_subjectlink_add")).status_code == HTTPStatus.FORBIDDEN
    )


def test_admin_bulk_deletion_is_audited(staff_client):
    domains = TrustedDomainFactory.create_batch(2)

    staff_client.post(
        reverse("admin:sso_trusteddomain_changelist"),
        {"action": "delete_selected", "_selected_action": [d.pk for d in domains], "post": "yes"},
    )

    events = AuditEvent.objects.filter(action=AuditAction.STAFF_CHANGE)
    assert sorted(event.changes["object"] for event in events) == sorted(d.domain for d in domains)


# Data growth: the event lists never count a million rows.


def test_admin_login_event_list_counts_at_most_the_cap(staff_client, monkeypatch):
    from sso.admin import CappedCountPaginator

    monkeypatch.setattr(CappedCountPaginator, "cap", 3)
    LoginEventFactory.create_batch(5)

    page = staff_client.get(reverse("admin:sso_loginevent_changelist")).content.decode()

    assert "More than 3 login events" in page


def test_admin_login_event_list_counts_exactly_under_the_cap(staff_client):
    LoginEventFactory.create_batch(2)

    page = staff_client.get(reverse("admin:sso_loginevent_changelist")).content.decode()

    assert "2 login events" in page and "More than" not in page


def test_admin_organization_page_links_to_its_members_instead_of_listing_them(staff_client):
    membership = MembershipFactory(user__email="ann@acme.test")
    organization = membership.organization

    page = staff_client.get(reverse("admin:sso_organization_change", args=[organization.pk]))

    assert "ann@acme.test" not in page.content.decode()
    members = staff_client.get(
        reverse("admin:sso_membership_changelist"), {"organization__id__exact": organization.pk}
    )
    assert members.status_code == HTTPStatus.OK
    assert "ann@acme.test" in members.content.decode()


def test_admin_user_search_finds_an_exact_email_in_any_case(staff_client):
    UserFactory(email="grace@acme.test")
    UserFactory(email="grace.hopper@acme.test")

    page = staff_client.get(reverse("admin:sso_user_changelist"), {"q": " Grace@ACME.test "})

    content = page.content.decode()
    assert "grace@acme.test" in content and "grace.hopper@acme.test" not in content
