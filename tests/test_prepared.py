"""The login path's prepared reads and writes: compiled once, doing what the ORM's would."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import IntegrityError, transaction
from django.db.models.signals import post_save
from django.db.models.sql import compiler as sql_compiler
from django.utils import timezone

from sso.events import login_event_record
from sso.models import (
    LoginEvent,
    LoginOutcome,
    Membership,
    SignInMethod,
    SSOProfile,
    UsedAssertion,
    User,
)
from sso.organizations.selectors import user_get_by_email
from sso.organizations.services import membership_record_sign_in
from sso.prepared import PreparedInsert, PreparedRead, PreparedUpdate, marker
from sso.profiles.selectors import _SIGN_IN_FIELDS, profile_for_sign_in
from tests.factories import ActiveProfileFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def compiled(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The SQL the ORM compiles while the test runs (queries, updates, inserts, deletes)."""
    seen: list[str] = []
    for compiler in vars(sql_compiler).values():
        if isinstance(compiler, type) and "as_sql" in vars(compiler):
            monkeypatch.setattr(compiler, "as_sql", _counting(compiler.as_sql, seen))
    return seen


def _counting(as_sql: Callable, seen: list[str]) -> Callable:
    def counting(self: object, *args: object, **kwargs: object) -> object:
        compiled = as_sql(self, *args, **kwargs)
        seen.append(repr(compiled)[:80])
        return compiled

    return counting


def test_the_sign_in_reads_compile_no_sql_after_the_first(compiled, django_assert_num_queries):
    profile = ActiveProfileFactory()
    UserFactory(email="grace@acme.test")
    profile_for_sign_in(sid=profile.sid)
    user_get_by_email(email="grace@acme.test")
    compiled.clear()

    with django_assert_num_queries(2):
        assert profile_for_sign_in(sid=profile.sid).pk == profile.pk
        assert user_get_by_email(email="Grace@ACME.test ").email == "grace@acme.test"

    assert compiled == []


def test_the_profile_read_is_the_orm_query(django_assert_num_queries):
    profile = ActiveProfileFactory(max_session_minutes=90)
    profile.organization.max_session_minutes = 480
    profile.organization.save()
    expected = (
        SSOProfile.objects.select_related("organization")
        .only(*_SIGN_IN_FIELDS, "organization__max_session_minutes")
        .get(sid=profile.sid)
    )

    read = profile_for_sign_in(sid=profile.sid)

    assert read.get_deferred_fields() == expected.get_deferred_fields()
    assert read.organization.get_deferred_fields() == expected.organization.get_deferred_fields()
    for field in SSOProfile._meta.concrete_fields:
        if field.attname not in expected.get_deferred_fields():
            assert getattr(read, field.attname) == getattr(expected, field.attname), field.name
    assert type(read.allow_idp_initiated) is bool
    assert read.updated_at.tzinfo is not None
    with django_assert_num_queries(0):
        assert read.organization.max_session_minutes == 480
        assert read.organization.pk == profile.organization_id


def test_the_user_read_is_the_orm_query():
    user = UserFactory(email="ada@acme.test", first_name="Ada")

    read = user_get_by_email(email="ADA@acme.test")

    assert read.get_deferred_fields() == set()
    for field in User._meta.concrete_fields:
        assert getattr(read, field.attname) == getattr(user, field.attname), field.name
    assert user_get_by_email(email="nobody@acme.test") is None


def test_a_query_that_finds_two_rows_raises_as_get_does():
    UserFactory(first_name="Twin", email="one@acme.test")
    UserFactory(first_name="Twin", email="two@acme.test")
    twins = PreparedRead(User, lambda name: User.objects.filter(first_name=name))

    with pytest.raises(User.MultipleObjectsReturned):
        twins.one("Twin")


def test_a_query_must_take_the_value_once():
    unfiltered = PreparedRead(User, lambda name: User.objects.all())

    with pytest.raises(ValueError, match="0 times"):
        unfiltered.one("Twin")


def test_the_sign_in_update_compiles_no_sql_after_the_first(compiled, django_assert_num_queries):
    profile = ActiveProfileFactory()
    member = UserFactory(email="grace@acme.test")
    MembershipFactory(user=member, organization=profile.organization)
    elsewhere = MembershipFactory(user=member)  # another organization's: not this sign-in's
    outsider = UserFactory(email="ada@acme.test")
    membership_record_sign_in(user=member, method=SignInMethod.SSO, profile=profile)
    compiled.clear()
    before = timezone.now()

    with django_assert_num_queries(2):
        assert membership_record_sign_in(user=member, method=SignInMethod.SSO, profile=profile) == 1
        assert (
            membership_record_sign_in(user=outsider, method=SignInMethod.SSO, profile=profile) == 0
        )

    assert compiled == []
    recorded = Membership.objects.get(user=member, organization=profile.organization)
    assert recorded.last_sign_in_at >= before
    assert recorded.last_sign_in_method == SignInMethod.SSO
    assert recorded.last_sign_in_profile_id == profile.pk
    elsewhere.refresh_from_db()
    assert elsewhere.last_sign_in_at is None


def test_an_update_must_set_each_field_once():
    unset = PreparedUpdate(User, lambda: User.objects.filter(pk=marker(0)), fields=("first_name",))

    assert unset.run(UserFactory().pk, first_name="Ada") == 1
    with pytest.raises(TypeError):
        unset.run(first_name="Ada")


def test_a_login_event_is_inserted_with_sql_compiled_once(compiled, django_assert_num_queries):
    profile = ActiveProfileFactory()
    login_event_record(profile=profile, outcome=LoginOutcome.FAILURE, reason="expired")
    compiled.clear()
    saved: list[tuple[LoginEvent, bool]] = []

    def receiver(sender: type, instance: LoginEvent, created: bool, **kwargs: object) -> None:
        saved.append((instance, created))

    post_save.connect(receiver, sender=LoginEvent)
    try:
        with django_assert_num_queries(1):
            event = login_event_record(
                profile=profile,
                outcome=LoginOutcome.SUCCESS,
                reason="ok",
                email="grace@acme.test",
                client_ip="192.0.2.7",
                detail={"groups": ["a", "b"], "session_limit": "idp"},
            )
    finally:
        post_save.disconnect(receiver, sender=LoginEvent)

    assert compiled == []
    assert saved == [(event, True)]
    assert not event._state.adding
    stored = LoginEvent.objects.get(pk=event.pk)
    assert stored.reference == event.reference and len(stored.reference) == 19
    assert stored.created_at == event.created_at and stored.created_at.tzinfo is not None
    assert (stored.profile_id, stored.organization_id) == (profile.pk, profile.organization_id)
    assert stored.detail == {"groups": ["a", "b"], "session_limit": "idp"}
    assert (stored.email, stored.client_ip, stored.repeats) == ("grace@acme.test", "192.0.2.7", 0)


def test_an_insert_refused_by_a_constraint_raises_and_adds_nothing():
    used = PreparedInsert(UsedAssertion)
    until = timezone.now()
    used.create(digest="a" * 64, expires_at=until)

    with pytest.raises(IntegrityError), transaction.atomic():
        used.create(digest="a" * 64, expires_at=until)

    assert UsedAssertion.objects.filter(digest="a" * 64).count() == 1
