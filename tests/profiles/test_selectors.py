"""Reads that rules depend on: the profile the ACS reads, and the revision that keeps it fresh."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection, transaction

from sso.models import IdPCertificate, SSOProfile, TrustedDomain, VerificationState
from sso.profiles.selectors import profile_for_sign_in
from tests.factories import ActiveProfileFactory, IdPCertificateFactory, TrustedDomainFactory
from tests.fixtures.idp import KeyPair

pytestmark = pytest.mark.django_db


def _revision(profile: SSOProfile) -> str:
    return SSOProfile.objects.values_list("trust_revision", flat=True).get(pk=profile.pk)


def _plain_sql(sql: str, *params: object) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


WRITES: dict[str, Callable[[SSOProfile, KeyPair], object]] = {
    "certificate added": lambda p, keys: IdPCertificateFactory(profile=p, pem=keys.certificate_pem),
    "certificate saved": lambda p, keys: p.certificates.get().save(),
    "certificate updated in bulk": lambda p, keys: p.certificates.update(pem=keys.certificate_pem),
    "certificate deleted in bulk": lambda p, keys: p.certificates.all().delete(),
    "certificate deleted in plain SQL": lambda p, keys: _plain_sql(
        "DELETE FROM sso_idpcertificate WHERE profile_id = %s", p.pk
    ),
    "domain added": lambda p, keys: TrustedDomainFactory(profile=p),
    "domain unverified in bulk": lambda p, keys: p.domains.update(
        verification_state=VerificationState.FAILED
    ),
    "domain renamed": lambda p, keys: p.domains.update(domain="other.test"),
    "domain deleted": lambda p, keys: p.domains.get().delete(),
}


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
def test_trust_revision_changes_with_every_certificate_and_domain_write(write, foreign_keys):
    profile, bystander = ActiveProfileFactory(), ActiveProfileFactory()
    before, bystander_before = _revision(profile), _revision(bystander)

    write(profile, foreign_keys)

    assert _revision(profile) != before
    assert _revision(bystander) == bystander_before


def test_trust_revision_follows_a_certificate_moved_to_another_profile(foreign_keys):
    profile, other = ActiveProfileFactory(), ActiveProfileFactory()
    moved = IdPCertificateFactory(profile=profile, pem=foreign_keys.certificate_pem)
    before, other_before = _revision(profile), _revision(other)

    IdPCertificate.objects.filter(pk=moved.pk).update(profile=other)

    assert _revision(profile) != before
    assert _revision(other) != other_before


def test_trust_revision_of_a_rolled_back_change_is_never_reused():
    profile = ActiveProfileFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        TrustedDomainFactory(profile=profile, domain="first.test")
        seen_before_rollback = _revision(profile)
        raise RuntimeError

    TrustedDomainFactory(profile=profile, domain="second.test")

    assert _revision(profile) != seen_before_rollback


def test_profile_for_sign_in_reads_certificates_and_domains_once_per_revision(
    django_assert_num_queries,
):
    profile = ActiveProfileFactory()

    with django_assert_num_queries(3):
        first = profile_for_sign_in(sid=profile.sid)
        assert [c.fingerprint_sha256 for c in first.certificates.all()]
        assert [d.domain for d in first.domains.all()] == ["acme.test"]
    with django_assert_num_queries(1):
        again = profile_for_sign_in(sid=profile.sid)
        assert [d.domain for d in again.domains.all()] == ["acme.test"]
    TrustedDomain.objects.filter(profile=profile).update(domain="acme.example")
    with django_assert_num_queries(3):
        changed = profile_for_sign_in(sid=profile.sid)
        assert [d.domain for d in changed.domains.all()] == ["acme.example"]


def test_profile_for_sign_in_reads_the_row_every_time():
    profile = ActiveProfileFactory()
    profile_for_sign_in(sid=profile.sid)
    SSOProfile.objects.filter(pk=profile.pk).update(status="draft", idp_issuer="https://new.test")

    fresh = profile_for_sign_in(sid=profile.sid)

    assert (fresh.status, fresh.idp_issuer) == ("draft", "https://new.test")
    assert fresh.certificates.all()  # kept: the revision did not change


def test_profile_for_sign_in_sees_a_certificate_removed_in_plain_sql():
    profile = ActiveProfileFactory()
    assert profile_for_sign_in(sid=profile.sid).certificates.all()

    _plain_sql("DELETE FROM sso_idpcertificate WHERE profile_id = %s", profile.pk)

    assert not profile_for_sign_in(sid=profile.sid).certificates.all()


def test_profile_for_sign_in_keeps_profiles_apart():
    first, second = ActiveProfileFactory(), ActiveProfileFactory()
    TrustedDomain.objects.filter(profile=second).update(domain="second.test")

    assert [d.domain for d in profile_for_sign_in(sid=first.sid).domains.all()] == [
        "acme.test"
    ]
    assert [d.domain for d in profile_for_sign_in(sid=second.sid).domains.all()] == [
        "second.test"
    ]


def test_profile_for_sign_in_unknown_sid_is_none():
    assert profile_for_sign_in(sid="JI" + "0" * 32) is None
