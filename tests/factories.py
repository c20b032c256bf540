"""factory_boy factories for every model."""

from __future__ import annotations

import datetime as dt
from functools import cache

import factory
from django.utils import timezone

from sso.crypto import SPKeyPair, generate_sp_key_pair
from sso.models import (
    AuditAction,
    AuditEvent,
    IdPCertificate,
    IdPKind,
    LoginEvent,
    LoginOutcome,
    Membership,
    Organization,
    ProfileStatus,
    Role,
    SSOProfile,
    SubjectLink,
    TrustedDomain,
    User,
    VerificationState,
)
from sso.validators import parse_certificate
from tests.fixtures.idp import KeyPair


@cache
def shared_sp_key_pair() -> SPKeyPair:
    """One SP key pair for the whole run: RSA generation is the slow part of a profile."""
    return generate_sp_key_pair("test SP")


@cache
def shared_idp_keys() -> KeyPair:
    return KeyPair.generate("Test IdP")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email_verified_at = factory.LazyFunction(timezone.now)
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Faker("company")
    slug = factory.Sequence(lambda n: f"org-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Role.MEMBER


class SSOProfileFactory(factory.django.DjangoModelFactory):
    """A draft profile by default; `ActiveProfileFactory` gives one ready to sign users in."""

    class Meta:
        model = SSOProfile

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"IdP {n}")
    idp_kind = IdPKind.OTHER
    sp_certificate_pem = factory.LazyFunction(lambda: shared_sp_key_pair().certificate_pem)
    sp_private_key_encrypted = factory.LazyFunction(
        lambda: shared_sp_key_pair().private_key_encrypted
    )


class IdPCertificateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IdPCertificate

    profile = factory.SubFactory(SSOProfileFactory)
    pem = factory.LazyFunction(lambda: shared_idp_keys().certificate_pem)
    fingerprint_sha256 = factory.LazyAttribute(
        lambda o: parse_certificate(o.pem).fingerprint_sha256
    )
    subject = factory.LazyAttribute(lambda o: parse_certificate(o.pem).subject)
    issuer = factory.LazyAttribute(lambda o: parse_certificate(o.pem).issuer)
    not_before = factory.LazyAttribute(lambda o: parse_certificate(o.pem).not_before)
    not_after = factory.LazyAttribute(lambda o: parse_certificate(o.pem).not_after)


class TrustedDomainFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrustedDomain

    profile = factory.SubFactory(SSOProfileFactory)
    organization = factory.SelfAttribute("profile.organization")
    domain = factory.Sequence(lambda n: f"domain{n}.test")
    verification_state = VerificationState.VERIFIED
    verified_at = factory.LazyFunction(timezone.now)


class ActiveProfileFactory(SSOProfileFactory):
    """Active, with the shared test IdP's issuer, SSO URL and certificate, trusting acme.test."""

    class Meta:
        skip_postgeneration_save = True

    idp_issuer = factory.Sequence(lambda n: f"https://idp{n}.acme.test/saml")
    idp_sso_url = "https://idp.acme.test/sso"
    status = ProfileStatus.ACTIVE
    certificate = factory.RelatedFactory(IdPCertificateFactory, factory_related_name="profile")
    domain = factory.RelatedFactory(
        TrustedDomainFactory, factory_related_name="profile", domain="acme.test"
    )


class SubjectLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SubjectLink

    profile = factory.SubFactory(ActiveProfileFactory)
    name_id_format = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
    name_id = factory.Sequence(lambda n: f"subject-{n}")
    user = factory.SubFactory(UserFactory)


class LoginEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LoginEvent

    profile = factory.SubFactory(SSOProfileFactory)
    organization = factory.SelfAttribute("profile.organization")
    profile_sid = factory.SelfAttribute("profile.sid")
    outcome = LoginOutcome.SUCCESS
    reason = "ok"
    email = factory.Sequence(lambda n: f"person{n}@acme.test")
    created_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(minutes=1))


class AuditEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AuditEvent

    profile = factory.SubFactory(SSOProfileFactory)
    organization = factory.SelfAttribute("profile.organization")
    profile_sid = factory.SelfAttribute("profile.sid")
    actor = factory.SubFactory(UserFactory)
    action = AuditAction.CHANGED
    changes = factory.LazyFunction(lambda: {"name": ["Old", "New"]})


def verified_login(profile, email: str, **attributes: list[str]):
    """What the SAML layer hands the login service once a response for `email` verified."""
    from sso.saml.acs import VerifiedLogin

    return VerifiedLogin(
        profile=profile,
        name_id=email,
        name_id_format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
        issuer=profile.idp_issuer,
        assertion_id="_" + email,
        in_response_to="",
        pending=None,
        attributes=attributes,
    )
