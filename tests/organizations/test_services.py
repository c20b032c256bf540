"""Accounts and organizations."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from sso.errors import MESSAGES
from sso.models import Role, User
from sso.organizations.services import (
    invitation_accept,
    invitation_create,
    organization_create,
    user_create,
)
from tests.factories import (
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_user_email_unique_case_insensitively():
    UserFactory(email="grace@acme.test")
    with pytest.raises(ValidationError):
        user_create(email="GRACE@acme.test", password="x")
    assert User.objects.count() == 1


def test_account_lookup_by_email_searches_the_unique_index():
    """A sign-in finds its account through the case-insensitive unique index, not a scan."""
    from django.db import connection

    from sso.models import User

    UserFactory(email="grace@acme.test")
    queryset = User.objects.with_email("  Grace@ACME.test ")
    assert list(queryset.values_list("email", flat=True)) == ["grace@acme.test"]
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}", params)
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " ".join(str(row) for row in cursor.fetchall())
    assert "user_email_unique_ci" in plan, plan


def test_invitation_accept_used_invitation_refused_in_the_vocabulary():
    owner = UserFactory()
    organization = organization_create(name="Acme", slug="acme", owner=owner)
    invitation, _ = invitation_create(
        organization=organization, actor=owner, email="ann@acme.test", role=Role.MEMBER
    )
    invitation_accept(invitation=invitation, password="a long unusual passphrase 42")

    with pytest.raises(ValidationError) as refused:
        invitation_accept(invitation=invitation, password="another unusual passphrase 43")

    assert refused.value.code == "invitation_used"
    assert refused.value.messages == [MESSAGES["invitation_used"]]
