"""Signing in: which account an SSO login reaches."""

from __future__ import annotations

import pytest

from sso.login.services import password_login, sso_user_for_login
from sso.models import AuditAction, AuditEvent
from sso.reasons import LoginRefused, Reason
from tests.factories import (
    ActiveProfileFactory,
    MembershipFactory,
    UserFactory,
    verified_login,
)

pytestmark = pytest.mark.django_db


def test_sso_user_links_existing_account_only_within_trusted_domain():
    profile = ActiveProfileFactory()
    elsewhere = MembershipFactory(user__email="ann@acme.test").user

    user = sso_user_for_login(request=None, login=verified_login(profile, "ann@acme.test"))

    assert user == elsewhere
    assert user.memberships.filter(organization=profile.organization).exists()


PASSWORD = "correct horse battery"


def test_sso_user_joining_an_account_with_a_password_turns_it_off_and_audits():
    profile = ActiveProfileFactory()
    elsewhere = MembershipFactory(user__email="ann@acme.test").user

    user = sso_user_for_login(request=None, login=verified_login(profile, "ann@acme.test"))

    user.refresh_from_db()
    assert user == elsewhere and not user.has_usable_password()
    assert AuditEvent.objects.filter(
        action=AuditAction.PASSWORD_DISABLED_BY_SSO, organization=profile.organization
    ).exists()


def test_sso_user_joining_an_unverified_account_takes_it_back_from_its_password():
    """Whoever signed up with this address never proved it; the IdP just did."""
    profile = ActiveProfileFactory()
    squatter = UserFactory(email="ceo@acme.test", email_verified_at=None)

    user = sso_user_for_login(request=None, login=verified_login(profile, "ceo@acme.test"))

    user.refresh_from_db()
    assert user == squatter
    assert user.email_verified_at is not None and not user.has_usable_password()
    with pytest.raises(LoginRefused):
        password_login(email="ceo@acme.test", password=PASSWORD, client_ip="192.0.2.1")


def test_sso_user_already_a_member_keeps_its_password():
    """A break-glass owner signs in through SSO too, and must keep the password."""
    profile = ActiveProfileFactory()
    owner = MembershipFactory(user__email="ann@acme.test", organization=profile.organization).user

    sso_user_for_login(request=None, login=verified_login(profile, "ann@acme.test"))

    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)
    assert not AuditEvent.objects.exists()


def test_sso_user_created_just_in_time_is_verified():
    login = verified_login(ActiveProfileFactory(), "new@acme.test")
    user = sso_user_for_login(request=None, login=login)
    assert user.email_verified_at is not None and not user.has_usable_password()


def test_password_login_refuses_unverified_account_with_the_right_password():
    UserFactory(email="ann@example.test", email_verified_at=None)

    with pytest.raises(LoginRefused) as refusal:
        password_login(email="ann@example.test", password=PASSWORD, client_ip="192.0.2.1")

    assert refusal.value.reason == Reason.EMAIL_UNVERIFIED


def test_password_login_of_unverified_account_in_sso_domain_turns_the_password_off():
    profile = ActiveProfileFactory()
    user = UserFactory(email="ceo@acme.test", email_verified_at=None)

    with pytest.raises(LoginRefused) as refusal:
        password_login(email="ceo@acme.test", password=PASSWORD, client_ip="192.0.2.1")

    assert (refusal.value.reason, refusal.value.profile) == (Reason.SSO_REQUIRED, profile)
    user.refresh_from_db()
    assert not user.has_usable_password()
