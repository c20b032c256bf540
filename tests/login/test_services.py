"""Signing in: which account an SSO login reaches."""

from __future__ import annotations

import pytest

from sso.login.services import sso_user_for_login
from tests.factories import (
    ActiveProfileFactory,
    MembershipFactory,
    verified_login,
)

pytestmark = pytest.mark.django_db


def test_sso_user_links_existing_account_only_within_trusted_domain():
    profile = ActiveProfileFactory()
    elsewhere = MembershipFactory(user__email="ann@acme.test").user

    user = sso_user_for_login(request=None, login=verified_login(profile, "ann@acme.test"))

    assert user == elsewhere
    assert user.memberships.filter(organization=profile.organization).exists()
