"""The Organization page's maximum session age, and the profile's limits from the CLI."""

from __future__ import annotations

import io
from http import HTTPStatus

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from sso.models import AuditAction, AuditEvent
from tests.factories import ActiveProfileFactory

pytestmark = pytest.mark.django_db


def test_session_limit_saved_from_the_organization_page_and_audited(admin_client, admin):
    response = admin_client.post(reverse("sso:admin_session_limit"), {"max_session_minutes": 480})

    assert response.status_code == HTTPStatus.FOUND
    admin.organization.refresh_from_db()
    assert admin.organization.max_session_minutes == 480
    audit = AuditEvent.objects.get(action=AuditAction.SESSION_LIMITS_CHANGED)
    assert (audit.actor, audit.changes) == (admin.user, {"max_session_minutes": [None, 480]})
    page = admin_client.get(reverse("sso:admin_organization")).content.decode()
    assert 'value="480"' in page


def test_session_limit_cleared_when_left_empty(admin_client, admin):
    admin.organization.max_session_minutes = 60
    admin.organization.save()

    admin_client.post(reverse("sso:admin_session_limit"), {"max_session_minutes": ""})

    admin.organization.refresh_from_db()
    assert admin.organization.max_session_minutes is None


@pytest.mark.parametrize("value", ["1", "999999", "soon"])
def test_session_limit_out_of_range_refused_beside_its_field(admin_client, admin, value):
    response = admin_client.post(reverse("sso:admin_session_limit"), {"max_session_minutes": value})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "from 5 to 129600" in response.content.decode()
    admin.organization.refresh_from_db()
    assert admin.organization.max_session_minutes is None


def test_profile_session_limits_set_by_the_cli_and_audited():
    profile = ActiveProfileFactory()

    call_command(
        "sso_profile",
        "update",
        profile.sid,
        "--max-session-minutes",
        "120",
        "--max-authn-age-minutes",
        "30",
        stdout=io.StringIO(),
    )

    profile.refresh_from_db()
    assert (profile.max_session_minutes, profile.max_authn_age_minutes) == (120, 30)
    audit = AuditEvent.objects.get(action=AuditAction.SESSION_LIMITS_CHANGED, profile=profile)
    assert audit.changes == {
        "max_session_minutes": [None, 120],
        "max_authn_age_minutes": [None, 30],
    }

    call_command(
        "sso_profile", "update", profile.sid, "--max-authn-age-minutes", "0", stdout=io.StringIO()
    )
    profile.refresh_from_db()
    assert (profile.max_session_minutes, profile.max_authn_age_minutes) == (120, None)


@pytest.mark.parametrize(
    "flag", ["--max-session-minutes", "--max-authn-age-minutes"], ids=lambda flag: flag[6:]
)
def test_profile_session_limit_out_of_range_refused_by_the_cli_as_on_the_web(flag):
    profile = ActiveProfileFactory(max_session_minutes=120)

    with pytest.raises(CommandError, match=rf"^{flag}: Enter a whole number of minutes from 5 "):
        call_command("sso_profile", "update", profile.sid, flag, "4", stdout=io.StringIO())

    profile.refresh_from_db()
    assert (profile.max_session_minutes, profile.max_authn_age_minutes) == (120, None)
    assert not AuditEvent.objects.filter(action=AuditAction.SESSION_LIMITS_CHANGED).exists()
