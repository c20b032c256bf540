"""Every time of day the Admin Center shows says which zone it is in (UTC)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from sso.events import audit_record
from sso.models import AuditAction, ProfileStatus
from tests.factories import ActiveProfileFactory, LoginEventFactory, TrustedDomainFactory

pytestmark = pytest.mark.django_db

TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d(?::\d\d)?(?! UTC)(?!:)")


@pytest.fixture
def profile(admin):
    moment = timezone.now() - dt.timedelta(hours=1)
    profile = ActiveProfileFactory(
        organization=admin.organization,
        status=ProfileStatus.TESTED,
        last_tested_at=moment,
        last_test_outcome="success",
        domain=None,
    )
    LoginEventFactory(profile=profile, is_test=True)
    TrustedDomainFactory(profile=profile, domain="acme.test", checked_at=moment)
    admin.last_sign_in_at = moment
    admin.save()
    audit_record(
        organization=admin.organization,
        action=AuditAction.TESTED,
        actor=admin.user,
        profile=profile,
    )
    return profile


@pytest.mark.parametrize(
    "page",
    [
        lambda p: reverse("sso:admin_sso"),
        lambda p: reverse("sso:admin_people"),
        lambda p: reverse("sso:admin_domains"),
        lambda p: reverse("sso:admin_audit_log"),
        lambda p: reverse("sso:profile_login_events", args=[p.sid]),
        lambda p: reverse("sso:wizard_test", args=[p.sid]),
    ],
    ids=["sso", "people", "domains", "audit-log", "login-events", "test-step"],
)
def test_admin_center_times_say_utc(admin_client, profile, page):
    content = admin_client.get(page(profile)).content.decode()
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d(:\d\d)? UTC", content)
    assert TIME.findall(content) == []
