"""Accounts: proving the email address, and what an SSO login does to a password."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from sso.models import AuditAction, AuditEvent, EmailVerification, User
from sso.organizations.accounts import (
    user_email_verification_resend,
    user_email_verify,
    user_link_to_sso,
)
from sso.organizations.services import organization_signup
from tests.factories import ActiveProfileFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSPHRASE = "a long unusual passphrase 42"


def emailed_token(message) -> str:
    return re.search(r"https://sso\.test/signup/verify/([^/\s]+)/", message.body).group(1)


def test_signup_leaves_the_account_unverified_and_emails_a_link_stored_as_a_digest():
    user = organization_signup(
        email="founder@newco.test", password=PASSPHRASE, organization_name="NewCo"
    )

    assert user.email_verified_at is None
    assert [message.to for message in mail.outbox] == [["founder@newco.test"]]
    token = emailed_token(mail.outbox[0])
    assert not EmailVerification.objects.filter(token_digest__contains=token).exists()

    assert user_email_verify(token=token) == user
    user.refresh_from_db()
    assert user.email_verified_at is not None and user.check_password(PASSPHRASE)
    assert user_email_verify(token=token) is None, "a link is usable once"


def test_verification_sent_again_kills_the_earlier_link():
    user = organization_signup(
        email="founder@newco.test", password=PASSPHRASE, organization_name="NewCo"
    )
    user_email_verification_resend(email="Founder@NewCo.test")

    first, second = (emailed_token(message) for message in mail.outbox)
    assert user_email_verify(token=first) is None
    assert user_email_verify(token=second) == user


def test_verification_resend_ignores_verified_and_unknown_accounts():
    UserFactory(email="ann@example.test")
    user_email_verification_resend(email="ann@example.test")
    user_email_verification_resend(email="nobody@example.test")
    assert mail.outbox == []


def test_verification_link_expired_or_for_an_old_address_proves_nothing():
    user = organization_signup(
        email="founder@newco.test", password=PASSPHRASE, organization_name="NewCo"
    )
    token = emailed_token(mail.outbox[0])
    EmailVerification.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert user_email_verify(token=token) is None

    user_email_verification_resend(email=user.email)
    token = emailed_token(mail.outbox[1])
    User.objects.filter(pk=user.pk).update(email="other@newco.test")
    assert user_email_verify(token=token) is None
    user.refresh_from_db()
    assert user.email_verified_at is None


def test_verification_in_a_domain_that_now_uses_sso_turns_the_password_off():
    user = organization_signup(
        email="ceo@acme.test", password=PASSPHRASE, organization_name="Shadow"
    )
    ActiveProfileFactory()  # acme.test, verified, active

    assert user_email_verify(token=emailed_token(mail.outbox[0])) == user
    user.refresh_from_db()
    assert user.email_verified_at is not None
    assert not user.has_usable_password()


def test_link_to_sso_turns_the_password_off_ends_sessions_and_audits():
    profile = ActiveProfileFactory()
    user = UserFactory(email="ann@acme.test")
    session_hash = user.get_session_auth_hash()

    user_link_to_sso(user=user, profile=profile)

    user.refresh_from_db()
    assert not user.has_usable_password()
    assert user.get_session_auth_hash() != session_hash
    event = AuditEvent.objects.get(action=AuditAction.PASSWORD_DISABLED_BY_SSO)
    assert (event.organization, event.profile, event.actor) == (
        profile.organization,
        profile,
        user,
    )
    assert event.changes == {"person": "ann@acme.test", "email_was_verified": True}


def test_link_to_sso_of_an_account_without_password_only_marks_it_verified():
    profile = ActiveProfileFactory()
    user = UserFactory(email="ann@acme.test", password=None, email_verified_at=None)
    user.set_unusable_password()
    user.save()

    user_link_to_sso(user=user, profile=profile)

    user.refresh_from_db()
    assert user.email_verified_at is not None
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_migration_marks_every_existing_account_verified():
    executor = MigrationExecutor(connection)
    executor.migrate([("sso", "0006_invitation_audit_actions")])
    old_apps = executor.loader.project_state([("sso", "0006_invitation_audit_actions")]).apps
    old_apps.get_model("sso", "User").objects.create(email="old@example.test", password="!")

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    user = User.objects.get(email="old@example.test")
    assert user.email_verified_at == user.date_joined
