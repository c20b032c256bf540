"""An SSO profile's session limits from its settings page: who may, what is refused, the audit."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.urls import reverse

from sso.models import AuditAction, AuditEvent, Role
from tests.factories import ActiveProfileFactory, MembershipFactory

pytestmark = pytest.mark.django_db

RANGE_ERROR = "Enter a whole number of minutes from 5 to 129600 (90 days)"


def _url(profile) -> str:
    return reverse("sso:profile_session_limits", args=[profile.sid])


def _limits(profile) -> tuple[int | None, int | None]:
    profile.refresh_from_db()
    return profile.max_session_minutes, profile.max_authn_age_minutes


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN])
def test_session_limits_saved_by_owner_or_admin_and_audited(client, role):
    membership = MembershipFactory(role=role)
    profile = ActiveProfileFactory(organization=membership.organization)
    client.force_login(membership.user)

    response = client.post(
        _url(profile), {"max_session_minutes": "480", "max_authn_age_minutes": "60"}
    )

    assert response.status_code == HTTPStatus.FOUND
    assert response.url == reverse("sso:wizard_idp_metadata", args=[profile.sid]) + (
        "#session-limits"
    )
    assert _limits(profile) == (480, 60)
    audit = AuditEvent.objects.get(action=AuditAction.SESSION_LIMITS_CHANGED)
    assert (audit.actor, audit.profile, audit.organization) == (
        membership.user,
        profile,
        membership.organization,
    )
    assert audit.changes == {
        "max_session_minutes": [None, 480],
        "max_authn_age_minutes": [None, 60],
    }


def test_session_limits_shown_on_the_settings_and_sso_pages(admin_client, admin):
    profile = ActiveProfileFactory(
        organization=admin.organization, max_session_minutes=480, max_authn_age_minutes=60
    )

    settings_page = admin_client.get(reverse("sso:wizard_idp_metadata", args=[profile.sid]))
    sso_page = admin_client.get(reverse("sso:admin_sso"))

    html = settings_page.content.decode()
    assert 'name="max_session_minutes" value="480"' in html
    assert 'name="max_authn_age_minutes" value="60"' in html
    assert "Maximum authentication age (minutes)" in html
    assert "empty: no limit" in html
    limits = sso_page.content.decode().split('data-testid="session-limits"')[1].split("</dl>")[0]
    assert "<dt>Maximum session age</dt><dd>480 minutes</dd>" in limits
    assert "<dt>Maximum authentication age</dt><dd>60 minutes</dd>" in limits


def test_session_limits_cleared_when_left_empty_and_audited(admin_client, admin):
    profile = ActiveProfileFactory(
        organization=admin.organization, max_session_minutes=480, max_authn_age_minutes=60
    )

    admin_client.post(_url(profile), {"max_session_minutes": "", "max_authn_age_minutes": ""})

    assert _limits(profile) == (None, None)
    audit = AuditEvent.objects.get(action=AuditAction.SESSION_LIMITS_CHANGED)
    assert audit.changes == {
        "max_session_minutes": [480, None],
        "max_authn_age_minutes": [60, None],
    }
    page = admin_client.get(reverse("sso:admin_sso")).content.decode()
    assert page.count('<span class="muted">No limit</span>') == 2


@pytest.mark.parametrize("field", ["max_session_minutes", "max_authn_age_minutes"])
@pytest.mark.parametrize("value", ["4", "129601", "-5", "soon", "5.5", "99999999999999999999"])
def test_session_limits_bad_value_refused_beside_its_field_nothing_saved(
    admin_client, admin, field, value
):
    profile = ActiveProfileFactory(
        organization=admin.organization, max_session_minutes=480, max_authn_age_minutes=60
    )
    data = {"max_session_minutes": "120", "max_authn_age_minutes": "30", field: value}

    response = admin_client.post(_url(profile), data)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    bound = response.context["limits_form"]
    assert list(bound.errors) == [field]
    assert bound.errors[field][0].startswith(RANGE_ERROR)
    assert f'id="id_{field}_error"' in response.content.decode()
    assert "Nothing was saved." in response.content.decode()
    assert _limits(profile) == (480, 60)
    assert not AuditEvent.objects.filter(action=AuditAction.SESSION_LIMITS_CHANGED).exists()


@pytest.mark.parametrize("value", ["5", "129600"])
def test_session_limits_bounds_accepted(admin_client, admin, value):
    profile = ActiveProfileFactory(organization=admin.organization)

    admin_client.post(_url(profile), {"max_session_minutes": value, "max_authn_age_minutes": value})

    assert _limits(profile) == (int(value), int(value))


def test_session_limits_refused_to_a_member(client):
    member = MembershipFactory(role=Role.MEMBER)
    profile = ActiveProfileFactory(organization=member.organization)
    client.force_login(member.user)

    response = client.post(_url(profile), {"max_session_minutes": "480"})

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert _limits(profile) == (None, None)
    assert not AuditEvent.objects.filter(action=AuditAction.SESSION_LIMITS_CHANGED).exists()


def test_session_limits_anonymous_sent_to_sign_in(client):
    profile = ActiveProfileFactory()

    response = client.post(_url(profile), {"max_session_minutes": "480"})

    assert response.status_code == HTTPStatus.FOUND
    assert response.url.startswith(reverse("sso:login"))
    assert _limits(profile) == (None, None)


def test_session_limits_of_another_organization_not_found(admin_client, admin):
    """An admin of one organization cannot even learn that another's profile exists."""
    other = ActiveProfileFactory(
        max_session_minutes=480, domain__domain="other.test", organization__slug="other"
    )
    MembershipFactory(organization=other.organization, role=Role.OWNER)

    posted = admin_client.post(
        _url(other), {"max_session_minutes": "5", "max_authn_age_minutes": "5"}
    )
    shown = admin_client.get(reverse("sso:wizard_idp_metadata", args=[other.sid]))

    assert posted.status_code == HTTPStatus.NOT_FOUND
    assert shown.status_code == HTTPStatus.NOT_FOUND
    assert _limits(other) == (480, None)
    assert not AuditEvent.objects.filter(action=AuditAction.SESSION_LIMITS_CHANGED).exists()
