"""Management commands: sso_profile for automation, seed_demo for `make run`."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from string import Template

import pytest
from django.core.management import CommandError, call_command

from sso.crypto import certificate_body
from sso.models import (
    AuditAction,
    AuditEvent,
    Membership,
    ProfileStatus,
    SSOProfile,
    TrustedDomain,
    VerificationState,
)
from sso.validators import CERTIFICATE_MAX_LENGTH, parse_certificate
from tests.factories import (
    ActiveProfileFactory,
    OrganizationFactory,
    SSOProfileFactory,
    TrustedDomainFactory,
)
from tests.fixtures.idp import FIXTURES, KeyPair

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("sso_profile", *args, stdout=out)
    return out.getvalue()


def create_args(cert_file, **overrides: str) -> list[str]:
    values = {
        "--org": "acme",
        "--name": "Okta",
        "--issuer": "https://idp.acme.test/saml",
        "--sso-url": "https://idp.acme.test/sso",
        "--cert-file": str(cert_file),
        "--domain": "acme.test",
        **overrides,
    }
    return ["create", *[part for item in values.items() for part in item]]


def test_create_prints_sid_entity_id_and_acs_url_as_json(cert_file):
    OrganizationFactory(slug="acme")

    data = json.loads(run(*create_args(cert_file), "--domain", "*.acme.test", "--json"))

    profile = SSOProfile.objects.get(sid=data["sid"])
    assert data["sp_entity_id"] == f"https://sso.test/sso/saml2/{profile.sid}/metadata/"
    assert data["acs_url"] == f"https://sso.test/sso/saml2/{profile.sid}/acs/"
    assert sorted(data["domains"]) == ["*.acme.test", "acme.test"]
    assert profile.status == ProfileStatus.CONFIGURED


def test_create_activate_and_verified_are_audited(cert_file):
    OrganizationFactory(slug="acme")

    output = run(*create_args(cert_file), "--activate", "--verified", "--allow-idp-initiated")

    profile = SSOProfile.objects.get()
    assert f"sid:          {profile.sid}" in output
    assert profile.status == ProfileStatus.ACTIVE and profile.allow_idp_initiated
    assert profile.domains.get().verification_state == VerificationState.VERIFIED
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"created", "changed", "activated_without_test"} <= actions


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"--sso-url": "http://idp.acme.test/sso"}, "--sso-url: The URL must start with https://."),
        ({"--domain": "*.com"}, "--domain: Domain 1: This is a public suffix"),
        ({"--org": "nope"}, "No organization with slug 'nope'."),
        ({"--issuer": "x" * 1025}, "--issuer: The Issuer can be at most 1024"),
    ],
)
def test_create_bad_input_fails_clearly_and_changes_nothing(cert_file, overrides, message):
    OrganizationFactory(slug="acme")
    with pytest.raises(CommandError, match=message.replace("*", r"\*").replace(".", r"\.")):
        run(*create_args(cert_file, **overrides))
    assert not SSOProfile.objects.exists()


def test_create_private_key_file_refused(tmp_path, idp_keys):
    OrganizationFactory(slug="acme")
    key_file = tmp_path / "key.pem"
    key_file.write_bytes(idp_keys.key_pem)
    with pytest.raises(CommandError, match="--cert-file: This is a private key"):
        run(*create_args(key_file))
    assert not SSOProfile.objects.exists()


def test_create_domain_of_other_organization_refused_without_leftovers(cert_file):
    OrganizationFactory(slug="acme")
    OrganizationFactory(slug="beta")
    run(*create_args(cert_file, **{"--org": "beta", "--issuer": "https://beta.test/idp"}))
    with pytest.raises(CommandError, match="already used by another organization"):
        run(*create_args(cert_file))
    assert SSOProfile.objects.count() == 1


def test_create_domain_of_another_profile_of_the_organization_is_a_clean_error(cert_file):
    OrganizationFactory(slug="acme")
    run(*create_args(cert_file))
    with pytest.raises(
        CommandError, match="--domain: Domain acme.test is already trusted by another SSO profile"
    ):
        run(*create_args(cert_file, **{"--issuer": "https://idp2.acme.test/saml"}))
    assert SSOProfile.objects.count() == 1


def test_list_show_delete(cert_file):
    profile = SSOProfileFactory(organization__slug="acme", name="Draft one")
    assert profile.sid in run("list")
    assert json.loads(run("list", "--org", "acme", "--json"))[0]["sid"] == profile.sid
    assert json.loads(run("show", profile.sid))["name"] == "Draft one"
    assert run("delete", profile.sid).strip() == f"Deleted {profile.sid}."
    with pytest.raises(CommandError, match="No SSO profile"):
        run("show", profile.sid)


def test_seed_demo_is_idempotent_and_prints_login(settings, tmp_path):
    settings.BASE_DIR = tmp_path
    settings.SSO_PUBLIC_BASE_URL = "http://127.0.0.1:8765"
    first, second = StringIO(), StringIO()
    call_command("seed_demo", stdout=first)
    call_command("seed_demo", stdout=second)
    assert "owner@acme.test" in first.getvalue()
    password = (tmp_path / "var" / "demo-owner-password").read_text().strip()
    assert f"password: {password}" in second.getvalue()
    membership = Membership.objects.get()
    assert (membership.organization.slug, membership.role) == ("acme", "owner")
    assert membership.user.check_password(password)
    assert membership.user.email_verified_at is not None, "the demo owner signs in at once"
    assert "Log in at http://127.0.0.1:8765/login/" in first.getvalue()


def test_seed_demo_prints_the_address_it_is_served_at(settings, tmp_path):
    settings.BASE_DIR = tmp_path
    output = StringIO()
    call_command("seed_demo", "--url", "http://0.0.0.0:9000/", stdout=output)
    assert "Log in at http://0.0.0.0:9000/login/" in output.getvalue()


def test_create_certificate_file_too_large_refused_and_nothing_created(cert_file, certificate_pem):
    OrganizationFactory(slug="acme")
    cert_file.write_text(certificate_pem + "#" * CERTIFICATE_MAX_LENGTH)

    with pytest.raises(CommandError, match="--cert-file: This is too long to be one certificate"):
        run(*create_args(cert_file))

    assert not SSOProfile.objects.exists()


def metadata_file(tmp_path: Path, *certificates: str, sso_url: str = "https://idp.acme.test/sso"):
    """IdP metadata with `certificates` for signing, the last one also as encryption key."""
    xml = Template((FIXTURES / "idp_metadata.xml").read_text()).substitute(
        entity_id="https://idp.acme.test/metadata",
        sso_url=sso_url,
        certificate=certificate_body(certificates[0]),
        encryption_certificate=certificate_body(certificates[-1]),
    )
    if len(certificates) > 1:
        signing = f'<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{certificate_body(certificates[1])}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>'  # noqa: E501
        xml = xml.replace("<md:NameIDFormat>", signing + "<md:NameIDFormat>", 1)
    path = tmp_path / "idp-metadata.xml"
    path.write_text(xml)
    return path


def test_create_from_metadata_file_with_kind_policy_and_email_attribute(tmp_path, certificate_pem):
    OrganizationFactory(slug="acme")
    rotation = KeyPair.generate("Next").certificate_pem

    data = json.loads(
        run(
            "create",
            "--org",
            "acme",
            "--name",
            "Keycloak",
            "--domain",
            "acme.test",
            "--metadata-file",
            str(metadata_file(tmp_path, certificate_pem, rotation)),
            "--idp-kind",
            "keycloak",
            "--signature-policy",
            "response",
            "--email-attribute",
            " email ",
            "--json",
        )  # fmt: skip
    )

    assert (data["idp_issuer"], data["idp_sso_url"]) == (
        "https://idp.acme.test/metadata",
        "https://idp.acme.test/sso",
    )
    assert (data["idp_kind"], data["signature_policy"], data["email_attribute"]) == (
        "keycloak",
        "response",
        "email",
    )
    assert {c["fingerprint_sha256"] for c in data["certificates"]} == {
        parse_certificate(certificate_pem).fingerprint_sha256,
        parse_certificate(rotation).fingerprint_sha256,
    }
    assert data["status"] == ProfileStatus.CONFIGURED and data["verified_domains"] == []


@pytest.mark.parametrize(
    ("content", "extra", "message"),
    [
        ("<html/>", [], "--metadata-file: This XML is not SAML metadata"),
        ("not xml", [], "--metadata-file: This is not XML"),
        (None, ["--issuer", "https://x.test/idp"], "--metadata-file: give either"),
        (None, ["--signature-policy", "none"], "invalid choice: 'none'"),
    ],
)
def test_create_bad_metadata_file_fails_clearly_and_creates_nothing(
    tmp_path, certificate_pem, content, extra, message
):
    OrganizationFactory(slug="acme")
    path = metadata_file(tmp_path, certificate_pem)
    if content is not None:
        path.write_text(content)
    args = ["create", "--org", "acme", "--name", "X", "--domain", "acme.test"]
    with pytest.raises(CommandError, match=message):
        run(*args, "--metadata-file", str(path), *extra)
    assert not SSOProfile.objects.exists()


def test_create_without_metadata_file_needs_issuer_sso_url_and_certificate():
    OrganizationFactory(slug="acme")
    with pytest.raises(CommandError, match="--issuer, --cert-file: required without"):
        run("create", "--org", "acme", "--name", "X", "--domain", "acme.test",
            "--sso-url", "https://idp.acme.test/sso")  # fmt: skip
    assert not SSOProfile.objects.exists()


def test_update_changes_only_what_is_given_and_audits_it():
    profile = ActiveProfileFactory(name="Okta", allow_idp_initiated=True)
    before = {f: getattr(profile, f) for f in ("idp_issuer", "idp_sso_url", "idp_kind")}

    data = json.loads(
        run(
            "update",
            profile.sid,
            "--name",
            "Okta EU",
            "--signature-policy",
            "assertion",
            "--email-attribute",
            "mail",
            "--json",
        )  # fmt: skip
    )

    profile.refresh_from_db()
    assert (profile.name, profile.signature_policy, profile.email_attribute) == (
        "Okta EU",
        "assertion",
        "mail",
    )
    assert {f: getattr(profile, f) for f in before} == before
    assert profile.allow_idp_initiated and profile.status == ProfileStatus.ACTIVE
    assert data["domains"] == ["acme.test"] and len(data["certificates"]) == 1
    changed = AuditEvent.objects.get(profile=profile, action=AuditAction.CHANGED)
    assert changed.changes == {
        "name": ["Okta", "Okta EU"],
        "signature_policy": ["both", "assertion"],
        "email_attribute": ["", "mail"],
    }


def test_update_signature_policy_sends_a_tested_profile_back_to_configured():
    profile = ActiveProfileFactory(status=ProfileStatus.TESTED)
    run("update", profile.sid, "--signature-policy", "response")
    profile.refresh_from_db()
    assert (profile.status, profile.signature_policy) == (ProfileStatus.CONFIGURED, "response")


def test_update_metadata_file_and_domains(tmp_path, certificate_pem):
    profile = ActiveProfileFactory(idp_issuer="https://old.acme.test/saml")
    rotation = KeyPair.generate("Next").certificate_pem
    path = metadata_file(tmp_path, certificate_pem, rotation, sso_url="https://new.acme.test/sso")

    data = json.loads(
        run(
            "update",
            profile.sid,
            "--metadata-file",
            str(path),
            "--domain",
            "acme.test",
            "--domain",
            "acme.example",
            "--no-allow-idp-initiated",
            "--json",
        )  # fmt: skip
    )

    assert (data["idp_issuer"], data["idp_sso_url"]) == (
        "https://idp.acme.test/metadata",
        "https://new.acme.test/sso",
    )
    assert len(data["certificates"]) == 2, "the rotation certificate is added, none twice"
    assert sorted(data["domains"]) == ["acme.example", "acme.test"]
    assert data["verified_domains"] == ["acme.test"]


def test_update_verified_marks_the_existing_domains_verified_and_audits_it():
    profile = ActiveProfileFactory(domain__verification_state=VerificationState.UNVERIFIED)

    data = json.loads(run("update", profile.sid, "--verified", "--json"))

    assert data["verified_domains"] == ["acme.test"]
    event = AuditEvent.objects.get(profile=profile, action=AuditAction.DOMAIN_VERIFIED)
    assert event.changes == {"domain": "acme.test", "how": "operator"}


def test_update_verified_refused_when_another_organization_verified_the_domain():
    profile = ActiveProfileFactory(domain__verification_state=VerificationState.UNVERIFIED)
    TrustedDomainFactory(domain="acme.test")  # another organization's, verified

    with pytest.raises(CommandError, match="--domain: Another organization has already verified"):
        run("update", profile.sid, "--verified")

    assert TrustedDomain.objects.get(profile=profile).verification_state == "unverified"
    assert not AuditEvent.objects.filter(action=AuditAction.DOMAIN_VERIFIED).exists()


def test_update_domain_of_another_profile_of_the_organization_is_a_clean_error():
    profile = ActiveProfileFactory()
    other = SSOProfileFactory(organization=profile.organization)
    TrustedDomainFactory(profile=other, domain="acme.example")

    with pytest.raises(CommandError, match="--domain: Domain acme.example is already trusted"):
        run("update", profile.sid, "--domain", "acme.test", "--domain", "acme.example")

    assert [d.domain for d in profile.domains.all()] == ["acme.test"]


def test_update_unknown_sid_fails_clearly():
    with pytest.raises(CommandError, match="No SSO profile with sid JInope."):
        run("update", "JInope", "--verified")
