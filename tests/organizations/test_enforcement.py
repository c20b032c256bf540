"""The lock-out guards of Enforce SSO: a tested active profile and a break-glass owner."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from sso.models import AuditAction, AuditEvent, Role
from sso.models import TestOutcome as Outcome
from sso.organizations.services import organization_set_sso_enforcement
from tests.factories import ActiveProfileFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def _codes(error: ValidationError) -> set[str]:
    return {e.code for e in error.error_dict["confirm"]}


@pytest.fixture
def owner_membership():
    return MembershipFactory(role=Role.OWNER)


def test_enforcement_untested_active_profile_refused_unless_confirmed(owner_membership):
    organization = owner_membership.organization
    ActiveProfileFactory(organization=organization)  # activated without a passing test
    with pytest.raises(ValidationError) as caught:
        organization_set_sso_enforcement(
            organization=organization,
            actor=owner_membership.user,
            enforce=True,
            break_glass=[owner_membership.user],
        )
    assert _codes(caught.value) == {"enforce_untested"}
    organization.refresh_from_db()
    assert organization.enforce_sso is False


def test_enforcement_without_break_glass_owner_refused_unless_confirmed(owner_membership):
    organization = owner_membership.organization
    ActiveProfileFactory(organization=organization, last_test_outcome=Outcome.SUCCESS)
    with pytest.raises(ValidationError) as caught:
        organization_set_sso_enforcement(
            organization=organization, actor=owner_membership.user, enforce=True, break_glass=[]
        )
    assert _codes(caught.value) == {"enforce_without_break_glass"}


def test_enforcement_non_owner_as_break_glass_does_not_count(owner_membership):
    organization = owner_membership.organization
    ActiveProfileFactory(organization=organization, last_test_outcome=Outcome.SUCCESS)
    admin = MembershipFactory(organization=organization, role=Role.ADMIN)
    with pytest.raises(ValidationError) as caught:
        organization_set_sso_enforcement(
            organization=organization,
            actor=owner_membership.user,
            enforce=True,
            break_glass=[admin.user],
        )
    assert _codes(caught.value) == {"enforce_without_break_glass"}


def test_enforcement_both_risks_confirmed_saves_and_audits(owner_membership):
    organization = owner_membership.organization
    ActiveProfileFactory(organization=organization, last_test_outcome=Outcome.FAILURE)
    organization_set_sso_enforcement(
        organization=organization,
        actor=owner_membership.user,
        enforce=True,
        break_glass=[],
        confirmed=True,
    )
    organization.refresh_from_db()
    assert organization.enforce_sso is True
    assert AuditEvent.objects.filter(action=AuditAction.SSO_ENFORCEMENT_CHANGED).exists()


def test_enforcement_tested_profile_and_break_glass_owner_needs_no_confirmation(
    owner_membership,
):
    organization = owner_membership.organization
    ActiveProfileFactory(organization=organization, last_test_outcome=Outcome.SUCCESS)
    organization_set_sso_enforcement(
        organization=organization,
        actor=owner_membership.user,
        enforce=True,
        break_glass=[owner_membership.user],
    )
    organization.refresh_from_db()
    assert organization.enforce_sso is True


def test_enforcement_turning_off_needs_no_confirmation(owner_membership):
    organization = owner_membership.organization
    organization.enforce_sso = True
    organization.save()
    organization_set_sso_enforcement(
        organization=organization, actor=owner_membership.user, enforce=False, break_glass=[]
    )
    organization.refresh_from_db()
    assert organization.enforce_sso is False
