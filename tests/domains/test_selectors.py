"""Domain routing: which profile an email belongs to."""

from __future__ import annotations

import pytest

from sso.domains.selectors import profile_for_email
from sso.models import (
    ProfileStatus,
)
from tests.factories import (
    ActiveProfileFactory,
)

pytestmark = pytest.mark.django_db


def test_profile_for_email_prefers_exact_then_longest_wildcard():
    wildcard = ActiveProfileFactory(domain__domain="*.acme.test")
    longer = ActiveProfileFactory(domain__domain="*.eu.acme.test")
    exact = ActiveProfileFactory(domain__domain="paris.eu.acme.test")
    inactive = ActiveProfileFactory(domain__domain="beta.test", status=ProfileStatus.TESTED)

    assert profile_for_email(email="a@paris.eu.acme.test") == exact
    assert profile_for_email(email="a@rome.eu.acme.test") == longer
    assert profile_for_email(email="a@x.acme.test") == wildcard
    assert profile_for_email(email="a@acme.test") is None
    assert profile_for_email(email="a@beta.test") is None
    assert inactive.status == ProfileStatus.TESTED
