"""SSO profiles: cross-row rules, status changes and audit entries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import timezone

from sso.crypto import decrypt_private_key, reencrypt_private_key
from sso.forms import IdPSettingsForm
from sso.models import (
    AuditAction,
    AuditEvent,
    IdPCertificate,
    LoginOutcome,
    ProfileStatus,
    Role,
    SSOProfile,
    TrustedDomain,
)
from sso.profiles.selectors import CERTIFICATE_USE_DAYS, certificates_last_used
from sso.profiles.services import (
    profile_activate,
    profile_choose_idp_kind,
    profile_configure,
    profile_create,
    profile_delete,
    profile_disable,
    profile_remove_certificate,
    profile_set_session_limits,
)
from sso.validators import parse_certificate
from tests.factories import (
    ActiveProfileFactory,
    IdPCertificateFactory,
    LoginEventFactory,
    MembershipFactory,
    OrganizationFactory,
    SSOProfileFactory,
    TrustedDomainFactory,
    UserFactory,
)
from tests.fixtures.idp import KeyPair

pytestmark = pytest.mark.django_db


def configure(profile, certificate_pem, **overrides):
    values = {
        "name": "Okta",
        "idp_kind": "okta",
        "idp_issuer": "https://idp.acme.test/saml",
        "idp_sso_url": "https://idp.acme.test/sso",
        "certificates": [parse_certificate(certificate_pem)],
        "domains": ["acme.test"],
        **overrides,
    }
    return profile_configure(profile=profile, actor=None, **values)


def field_codes(caught) -> dict[str, list[str]]:
    return {field: [e.code for e in errors] for field, errors in caught.value.error_dict.items()}


def test_profile_create_makes_draft_with_encrypted_key():
    organization = OrganizationFactory()
    owner = UserFactory()

    profile = profile_create(organization=organization, actor=owner, name="Okta")

    assert profile.status == ProfileStatus.DRAFT
    assert profile.sid.startswith("JI") and len(profile.sid) == 34
    assert "PRIVATE" not in profile.sp_private_key_encrypted
    assert decrypt_private_key(profile.sp_private_key_encrypted).key_size == 2048
    event = AuditEvent.objects.get(profile=profile)
    assert (event.action, event.actor) == (AuditAction.CREATED, owner)


def test_sp_key_decrypts_after_secret_rotation(settings):
    profile = SSOProfileFactory()
    token = profile.sp_private_key_encrypted
    settings.SSO_KEY_ENCRYPTION_OLD_SECRETS = [settings.SSO_KEY_ENCRYPTION_SECRET]
    settings.SSO_KEY_ENCRYPTION_SECRET = "a brand new secret"
    rotated = reencrypt_private_key(token)
    settings.SSO_KEY_ENCRYPTION_OLD_SECRETS = []
    assert decrypt_private_key(rotated).key_size == 2048


def test_profile_configure_moves_draft_to_configured_and_audits(certificate_pem):
    profile = SSOProfileFactory()

    configure(profile, certificate_pem)

    profile.refresh_from_db()
    assert profile.status == ProfileStatus.CONFIGURED
    assert [d.domain for d in profile.domains.all()] == ["acme.test"]
    event = AuditEvent.objects.filter(action=AuditAction.CHANGED).get()
    assert event.changes["idp_issuer"] == ["", "https://idp.acme.test/saml"]
    assert event.changes["status"] == ["draft", "configured"]
    assert "BEGIN CERTIFICATE" not in str(event.changes)


def test_profile_configure_issuer_of_other_organization_refused(certificate_pem):
    ActiveProfileFactory(idp_issuer="https://idp.acme.test/saml", domain__domain="other.test")
    profile = SSOProfileFactory()

    with pytest.raises(ValidationError) as caught:
        configure(profile, certificate_pem)

    assert field_codes(caught) == {"idp_issuer": ["issuer_taken"]}
    profile.refresh_from_db()
    assert (profile.idp_issuer, profile.status) == ("", ProfileStatus.DRAFT)
    assert not IdPCertificate.objects.filter(profile=profile).exists()


def test_profile_configure_same_issuer_within_organization_allowed(certificate_pem):
    first = SSOProfileFactory()
    configure(first, certificate_pem)
    second = SSOProfileFactory(organization=first.organization)
    configure(second, certificate_pem, domains=["beta.test"])
    assert second.idp_issuer == first.idp_issuer


@pytest.mark.parametrize(
    ("taken", "wanted"),
    [
        ("acme.test", "acme.test"),
        ("acme.test", "*.acme.test"),
        ("*.acme.test", "acme.test"),
        ("*.acme.test", "eu.acme.test"),
        ("eu.acme.test", "*.acme.test"),
    ],
)
def test_profile_configure_domain_of_other_organization_refused(certificate_pem, taken, wanted):
    TrustedDomainFactory(domain=taken)
    profile = SSOProfileFactory()

    with pytest.raises(ValidationError) as caught:
        configure(profile, certificate_pem, domains=[wanted])

    assert field_codes(caught) == {"domains": ["domain_taken"]}
    assert not profile.domains.exists()
    assert profile.status == ProfileStatus.DRAFT


def test_profile_configure_unrelated_domains_of_other_organizations_allowed(certificate_pem):
    TrustedDomainFactory(domain="acme.test.example")
    TrustedDomainFactory(domain="notacme.test")
    profile = configure(SSOProfileFactory(), certificate_pem, domains=["acme.test"])
    assert profile.domains.count() == 1


def test_domain_unique_per_organization_constraint():
    domain = TrustedDomainFactory(domain="acme.test")
    other_profile = SSOProfileFactory(organization=domain.organization)
    with pytest.raises(IntegrityError):
        TrustedDomainFactory(profile=other_profile, domain="acme.test")


def test_profile_configure_replaces_domains(certificate_pem):
    profile = configure(SSOProfileFactory(), certificate_pem, domains=["acme.test", "*.acme.test"])
    configure(profile, certificate_pem, domains=["*.acme.test", "beta.test"])
    assert sorted(profile.domains.values_list("domain", flat=True)) == ["*.acme.test", "beta.test"]


def test_profile_certificate_rotation_keeps_two_at_most(certificate_pem):
    profile = configure(SSOProfileFactory(), certificate_pem)
    second = KeyPair.generate("Next IdP cert").certificate_pem
    configure(profile, certificate_pem, certificates=[parse_certificate(second)])
    assert profile.certificates.count() == 2

    third = KeyPair.generate("Third").certificate_pem
    with pytest.raises(ValidationError) as caught:
        configure(profile, certificate_pem, certificates=[parse_certificate(third)])
    assert field_codes(caught) == {"certificate": ["certificate_limit"]}
    assert profile.certificates.count() == 2


def test_tested_profile_returns_to_configured_when_connection_changes(certificate_pem):
    profile = configure(SSOProfileFactory(), certificate_pem)
    profile.status = ProfileStatus.TESTED
    profile.save()

    configure(profile, certificate_pem, name="Renamed")
    assert profile.status == ProfileStatus.TESTED

    configure(profile, certificate_pem, idp_sso_url="https://idp.acme.test/sso2")
    assert profile.status == ProfileStatus.CONFIGURED


def test_profile_remove_certificate_of_draft_and_refuse_last_of_active(certificate_pem):
    profile = configure(SSOProfileFactory(), certificate_pem)
    fingerprint = profile.certificates.get().fingerprint_sha256
    profile_remove_certificate(profile=profile, actor=None, fingerprint=fingerprint)
    assert profile.status == ProfileStatus.DRAFT

    active = ActiveProfileFactory()
    fingerprint = active.certificates.get().fingerprint_sha256
    with pytest.raises(ValidationError):
        profile_remove_certificate(profile=active, actor=None, fingerprint=fingerprint)
    assert active.certificates.count() == 1


def _profile_rotating_to(keys: KeyPair) -> tuple[SSOProfile, str]:
    """An active profile trusting its first certificate and a new one; the first's fingerprint."""
    profile = ActiveProfileFactory()
    old = profile.certificates.get().fingerprint_sha256
    IdPCertificateFactory(profile=profile, pem=keys.certificate_pem)
    return profile, old


def test_profile_remove_certificate_that_verified_a_recent_sign_in_needs_confirmation(
    foreign_keys,
):
    profile, old = _profile_rotating_to(foreign_keys)
    LoginEventFactory(profile=profile, detail={"verified_with": old})

    with pytest.raises(ValidationError) as caught:
        profile_remove_certificate(profile=profile, actor=None, fingerprint=old)
    assert field_codes(caught) == {"certificate": ["certificate_in_use"]}
    assert "verified a sign-in on 20" in caught.value.messages[0]
    assert profile.certificates.count() == 2

    profile_remove_certificate(
        profile=profile, actor=None, fingerprint=old, confirmed=True
    )
    assert not profile.certificates.filter(fingerprint_sha256=old).exists()
    assert AuditEvent.objects.get(changes__certificate_removed=old).changes["certificate_last_used"]


def test_profile_remove_certificate_unused_lately_needs_no_confirmation(foreign_keys):
    profile, old = _profile_rotating_to(foreign_keys)
    long_ago = timezone.now() - dt.timedelta(days=CERTIFICATE_USE_DAYS + 1)
    LoginEventFactory(profile=profile, detail={"verified_with": old}, created_at=long_ago)
    LoginEventFactory(profile=profile, detail={"verified_with": old}, is_test=True)
    LoginEventFactory(
        profile=profile,
        detail={"verified_with": old},
        outcome=LoginOutcome.FAILURE,
        reason="user_inactive",
    )
    LoginEventFactory(detail={"verified_with": old})  # another profile trusting the same key

    profile_remove_certificate(profile=profile, actor=None, fingerprint=old)

    assert not profile.certificates.filter(fingerprint_sha256=old).exists()


def test_certificates_last_used_gives_each_certificate_its_newest_sign_in(foreign_keys):
    profile, old = _profile_rotating_to(foreign_keys)
    new = profile.certificates.exclude(fingerprint_sha256=old).get().fingerprint_sha256
    now = timezone.now()
    for minutes, fingerprint in [(60, old), (5, old), (30, new), (1, "")]:
        LoginEventFactory(
            profile=profile,
            detail={"verified_with": fingerprint},
            created_at=now - dt.timedelta(minutes=minutes),
        )

    last_used = certificates_last_used(profile=profile)

    assert last_used == {
        old: now - dt.timedelta(minutes=5),
        new: now - dt.timedelta(minutes=30),
    }


def test_profile_activate_requires_test_or_audited_override(certificate_pem):
    profile = configure(SSOProfileFactory(), certificate_pem)
    admin = UserFactory()

    with pytest.raises(ValidationError) as caught:
        profile_activate(profile=profile, actor=admin)
    assert caught.value.code == "not_tested"

    profile_activate(profile=profile, actor=admin, override=True)
    assert profile.status == ProfileStatus.ACTIVE
    event = AuditEvent.objects.filter(profile=profile).first()
    assert (event.action, event.actor) == (AuditAction.ACTIVATED_WITHOUT_TEST, admin)


def test_profile_activate_draft_refused():
    with pytest.raises(ValidationError) as caught:
        profile_activate(profile=SSOProfileFactory(), actor=None, override=True)
    assert caught.value.code == "not_configured"


def test_profile_disable_and_delete_are_audited():
    profile = ActiveProfileFactory()
    organization, sid = profile.organization, profile.sid
    profile_disable(profile=profile, actor=None)
    assert profile.status == ProfileStatus.DISABLED
    profile_delete(profile=profile, actor=None)
    assert not SSOProfile.objects.filter(sid=sid).exists()
    assert not TrustedDomain.objects.filter(organization=organization).exists()
    actions = list(AuditEvent.objects.filter(profile_sid=sid).values_list("action", flat=True))
    assert actions[:2] == [AuditAction.DELETED, AuditAction.DISABLED]


def test_form_and_service_together_reject_everything_or_nothing(certificate_pem):
    profile = SSOProfileFactory()
    form = IdPSettingsForm(
        data={
            "name": "Okta",
            "idp_kind": "okta",
            "idp_issuer": "https://idp.acme.test/saml",
            "idp_sso_url": "http://idp.acme.test/sso",
            "certificate": certificate_pem,
            "domains": ["acme.test", "*.com"],
            "jit_role": "member",
        }
    )
    assert not form.is_valid()
    assert [e.code for e in form.errors.as_data()["idp_sso_url"]] == ["url_not_https"]
    assert form.errors["domains"] == [
        "Domain 2: This is a public suffix shared by many organizations; enter your own "
        "domain, such as example.com or *.example.com."
    ]
    profile.refresh_from_db()
    assert profile.status == ProfileStatus.DRAFT


def test_profile_choose_idp_kind_takes_its_default_policy_while_draft_and_audits():
    profile = SSOProfileFactory()
    assert profile.signature_policy == "both"

    profile_choose_idp_kind(profile=profile, actor=None, idp_kind="google")

    profile.refresh_from_db()
    assert (profile.idp_kind, profile.signature_policy) == ("google", "response")
    assert AuditEvent.objects.get(profile=profile, action=AuditAction.CHANGED).changes == {
        "idp_kind": ["other", "google"],
        "signature_policy": ["both", "response"],
    }
    profile_choose_idp_kind(profile=profile, actor=None, idp_kind="google")
    assert AuditEvent.objects.filter(profile=profile).count() == 1


def test_profile_choose_idp_kind_keeps_a_configured_profiles_policy(certificate_pem):
    profile = configure(SSOProfileFactory(), certificate_pem)
    profile_choose_idp_kind(profile=profile, actor=None, idp_kind="google")
    profile.refresh_from_db()
    assert (profile.idp_kind, profile.signature_policy) == ("google", "both")


def test_profile_configure_signature_policy_is_audited_and_needs_a_new_test(certificate_pem):
    profile = configure(SSOProfileFactory(), certificate_pem)
    profile.status = ProfileStatus.TESTED
    profile.save()

    configure(profile, certificate_pem, signature_policy="assertion")

    profile.refresh_from_db()
    assert profile.signature_policy == "assertion"
    assert profile.status == ProfileStatus.CONFIGURED
    changes = AuditEvent.objects.filter(profile=profile).first().changes
    assert changes["signature_policy"] == ["both", "assertion"]
    configure(profile, certificate_pem)
    profile.refresh_from_db()
    assert profile.signature_policy == "assertion"


@pytest.mark.parametrize("actor_is", ["a member", "an admin elsewhere"])
def test_profile_set_session_limits_refused_to_anyone_but_its_owners_and_admins(actor_is):
    """The service itself refuses, whatever view or script calls it."""
    profile = ActiveProfileFactory()
    if actor_is == "a member":
        actor = MembershipFactory(organization=profile.organization, role=Role.MEMBER).user
    else:
        actor = MembershipFactory(role=Role.ADMIN).user

    with pytest.raises(ValidationError) as refused:
        profile_set_session_limits(
            profile=profile, actor=actor, max_session_minutes=60, max_authn_age_minutes=None
        )

    assert refused.value.code == "profile_admins_only"
    profile.refresh_from_db()
    assert profile.max_session_minutes is None
    assert not AuditEvent.objects.filter(action=AuditAction.SESSION_LIMITS_CHANGED).exists()


def test_profile_set_session_limits_out_of_range_refused_on_each_field():
    profile = ActiveProfileFactory(max_session_minutes=60)

    with pytest.raises(ValidationError) as refused:
        profile_set_session_limits(
            profile=profile, actor=None, max_session_minutes=0, max_authn_age_minutes=129601
        )

    codes = {field: [e.code for e in errors] for field, errors in refused.value.error_dict.items()}
    assert codes == {
        "max_session_minutes": ["session_minutes_range"],
        "max_authn_age_minutes": ["session_minutes_range"],
    }
    profile.refresh_from_db()
    assert (profile.max_session_minutes, profile.max_authn_age_minutes) == (60, None)
