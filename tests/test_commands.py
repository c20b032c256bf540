"""Management commands: sso_profile for automation, seed_demo for `make run`."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from sso.models import AuditEvent, Membership, ProfileStatus, SSOProfile, VerificationState
from sso.validators import CERTIFICATE_MAX_LENGTH
from tests.factories import OrganizationFactory, SSOProfileFactory

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
