"""The Admin Center's SSO page and wizard: access, every screen, validation, audit."""

from __future__ import annotations

import datetime as dt
from http import HTTPStatus
from string import Template

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from sso.crypto import certificate_body
from sso.models import AuditAction, AuditEvent, ProfileStatus, Role, SSOProfile
from sso.validators import CERTIFICATE_MAX_LENGTH
from tests.factories import (
    ActiveProfileFactory,
    IdPCertificateFactory,
    LoginEventFactory,
    MembershipFactory,
    SSOProfileFactory,
    TrustedDomainFactory,
)
from tests.fixtures.idp import FIXTURES, KeyPair

pytestmark = pytest.mark.django_db

METADATA = Template((FIXTURES / "idp_metadata.xml").read_text())
PROFILE_URLS = [
    ("sso:wizard_sp_metadata", "get"),
    ("sso:wizard_sp_certificate", "get"),
    ("sso:wizard_configure_idp", "get"),
    ("sso:wizard_configure_idp", "post"),
    ("sso:wizard_idp_metadata", "get"),
    ("sso:wizard_idp_metadata", "post"),
    ("sso:wizard_test", "get"),
    ("sso:wizard_certificate_remove", "post"),
    ("sso:profile_activate", "post"),
    ("sso:profile_disable", "post"),
    ("sso:profile_delete", "get"),
    ("sso:profile_delete", "post"),
]


@pytest.fixture
def organization(admin):
    return admin.organization


@pytest.fixture
def draft(organization):
    return SSOProfileFactory(organization=organization, name="Okta")


def settings_data(certificate_pem: str, **overrides) -> dict:
    return {
        "name": "Okta production",
        "idp_kind": "okta",
        "idp_issuer": "http://www.okta.com/exk1",
        "idp_sso_url": "https://acme.okta.test/app/sso/saml",
        "certificate": certificate_pem,
        "domains": ["acme.test", "*.acme.test"],
        "default_redirect_url": "",
        "jit_provisioning": "on",
        "jit_role": "member",
        "save": "1",
        **overrides,
    }


# Access -----------------------------------------------------------------------------------------


def test_admin_center_requires_login(client):
    response = client.get(reverse("sso:admin_sso"))
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith(reverse("sso:login"))


def test_admin_center_refuses_members_with_plain_page(client):
    member = MembershipFactory(role=Role.MEMBER)
    client.force_login(member.user)
    response = client.get(reverse("sso:admin_sso"))
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "You need admin rights" in response.content.decode()


@pytest.mark.parametrize(("name", "method"), PROFILE_URLS)
def test_other_organizations_profile_is_404(admin_client, name, method):
    other = ActiveProfileFactory()
    response = getattr(admin_client, method)(reverse(name, args=[other.sid]))
    assert response.status_code == HTTPStatus.NOT_FOUND
    other.refresh_from_db()
    assert other.status == ProfileStatus.ACTIVE


def test_forms_are_csrf_protected(admin):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin.user)
    assert client.post(reverse("sso:admin_sso")).status_code == HTTPStatus.FORBIDDEN
    assert not SSOProfile.objects.exists()


def test_owner_has_access_too(client):
    owner = MembershipFactory(role=Role.OWNER)
    client.force_login(owner.user)
    assert client.get(reverse("sso:admin_sso")).status_code == HTTPStatus.OK


# SSO page ---------------------------------------------------------------------------------------


def test_sso_page_lists_only_own_profiles_with_badges(admin_client, organization):
    expiring = KeyPair.generate("Expiring", days=10, offset_days=-5).certificate_pem
    profile = ActiveProfileFactory(organization=organization, name="Entra", certificate=None)
    IdPCertificateFactory(profile=profile, pem=expiring)
    profile.last_test_outcome, profile.last_test_code = "failure", "audience_mismatch"
    profile.last_tested_at = timezone.now()
    profile.save()
    ActiveProfileFactory(name="Someone else's", domain__domain="beta.test")

    content = admin_client.get(reverse("sso:admin_sso")).content.decode()

    assert "Entra" in content and "Someone else" not in content
    assert "Active" in content and "acme.test" in content
    assert 'class="badge warning">Expires' in content
    assert "audience_mismatch" in content
    assert "Create new SSO Profile" in content


def test_sso_page_expired_certificate_badge(admin_client, organization):
    profile = SSOProfileFactory(organization=organization)
    IdPCertificateFactory(profile=profile, not_after=timezone.now() - dt.timedelta(days=1))
    content = admin_client.get(reverse("sso:admin_sso")).content.decode()
    assert 'class="badge error">Expired' in content


def test_create_profile_persists_draft_and_opens_step_one(admin_client, organization, admin):
    response = admin_client.post(reverse("sso:admin_sso"))

    profile = SSOProfile.objects.get(organization=organization)
    assert response["Location"] == reverse("sso:wizard_sp_metadata", args=[profile.sid])
    assert profile.status == ProfileStatus.DRAFT
    assert AuditEvent.objects.get(profile=profile).actor == admin.user


# Steps ------------------------------------------------------------------------------------------


def test_step_one_shows_sp_values_and_download(admin_client, draft):
    content = admin_client.get(reverse("sso:wizard_sp_metadata", args=[draft.sid])).content.decode()
    assert f"https://sso.test/sso/saml2/{draft.sid}/metadata/" in content
    assert f"https://sso.test/sso/saml2/{draft.sid}/acs/" in content
    assert f"/sso/saml2/{draft.sid}/metadata/?download=1" in content
    assert "Recipient" in content and "Destination" in content
    assert 'data-copy="entity-id"' in content and "readonly" in content


@pytest.mark.parametrize(
    ("kind", "wording"),
    [
        ("okta", "Audience URI (SP Entity ID)"),
        ("entra_id", "Identifier (Entity ID)"),
        ("google", "ACS URL"),
        ("other", "Audience URI / Entity ID / Identifier"),
    ],
)
def test_configure_idp_step_uses_vendor_wording(admin_client, draft, kind, wording):
    url = reverse("sso:wizard_configure_idp", args=[draft.sid])
    content = admin_client.get(url, {"idp": kind}).content.decode()
    assert wording in content
    assert f"https://sso.test/sso/saml2/{draft.sid}/acs/" in content
    assert "email" in content.lower()


def test_step_one_shows_sp_certificate_to_copy_and_download_and_no_encryption(admin_client, draft):
    content = admin_client.get(reverse("sso:wizard_sp_metadata", args=[draft.sid])).content.decode()
    assert certificate_body(draft.sp_certificate_pem)[:64] in content
    assert 'data-copy="sp-certificate"' in content
    assert reverse("sso:wizard_sp_certificate", args=[draft.sid]) in content
    assert "Client signature required" in content
    assert "we do not accept encrypted assertions" in content
    assert "PRIVATE" not in content

    response = admin_client.get(reverse("sso:wizard_sp_certificate", args=[draft.sid]))
    assert response["Content-Type"] == "application/x-pem-file"
    assert response["Content-Disposition"] == 'attachment; filename="okta-sp-certificate.pem"'
    assert response.content.decode() == draft.sp_certificate_pem
    assert b"PRIVATE" not in response.content


def test_configure_idp_select_does_not_submit_on_change(admin_client, draft):
    content = admin_client.get(reverse("sso:wizard_configure_idp", args=[draft.sid])).content
    assert b"data-autosubmit" not in content
    assert b'<button class="button small" type="submit">Show instructions</button>' in content


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        (
            "keycloak",
            [
                "Sign documents",
                "Sign assertions",
                "Force name ID format",
                "Client signature required",
                "Encrypt assertions",
            ],
        ),
        ("google", ["Signed response", "never both", "Response signed"]),
        ("adfs", ["-SamlResponseSignature MessageAndAssertion", "no NameID"]),
        ("entra_id", ["Signing Option", "NotBefore equal to IssueInstant"]),
    ],
)
def test_configure_idp_instructions_name_the_idps_switches(admin_client, draft, kind, words):
    url = reverse("sso:wizard_configure_idp", args=[draft.sid])
    content = admin_client.get(url, {"idp": kind}).content.decode().replace("&#x27;", "'")
    assert all(word in content for word in words), [w for w in words if w not in content]


def test_chosen_idp_kind_carries_through_to_step_four_with_its_labels_and_policy(
    admin_client, draft, admin
):
    url = reverse("sso:wizard_configure_idp", args=[draft.sid])

    response = admin_client.post(url, {"idp": "entra_id"})

    assert response["Location"] == reverse("sso:wizard_idp_metadata", args=[draft.sid])
    draft.refresh_from_db()
    assert draft.idp_kind == "entra_id"
    audit = AuditEvent.objects.filter(profile=draft).first()
    assert audit.actor == admin.user and audit.changes["idp_kind"] == ["other", "entra_id"]
    page = admin_client.get(response["Location"]).content.decode()
    assert '<option value="entra_id" selected>' in page
    for label in ("Microsoft Entra Identifier", "Login URL", "Certificate (Base64)"):
        assert label in page
    assert '<select name="signature_policy"' in page
    assert '<option value="both" selected>' in page
    assert "Signing Option &#x27;Sign SAML response and assertion&#x27; signs both." in page


def test_google_defaults_to_response_policy_in_step_four(admin_client, draft):
    admin_client.post(reverse("sso:wizard_configure_idp", args=[draft.sid]), {"idp": "google"})
    page = admin_client.get(reverse("sso:wizard_idp_metadata", args=[draft.sid])).content.decode()
    assert '<option value="response" selected>' in page
    assert "never both" in page


def test_step_four_saves_the_signature_policy(admin_client, draft, certificate_pem):
    url = reverse("sso:wizard_idp_metadata", args=[draft.sid])
    response = admin_client.post(url, settings_data(certificate_pem, signature_policy="assertion"))
    assert response.status_code == HTTPStatus.FOUND
    draft.refresh_from_db()
    assert draft.signature_policy == "assertion"
    assert AuditEvent.objects.filter(profile=draft).first().changes["signature_policy"] == [
        "both",
        "assertion",
    ]
    refused = admin_client.post(url, settings_data(certificate_pem, signature_policy="none"))
    assert refused.status_code == HTTPStatus.BAD_REQUEST


def test_idp_metadata_save_configures_and_continues_to_test(admin_client, draft, certificate_pem):
    url = reverse("sso:wizard_idp_metadata", args=[draft.sid])

    response = admin_client.post(url, settings_data(certificate_pem))

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == reverse("sso:wizard_test", args=[draft.sid])
    draft.refresh_from_db()
    assert draft.status == ProfileStatus.CONFIGURED
    assert draft.idp_issuer == "http://www.okta.com/exk1"
    assert sorted(d.domain for d in draft.domains.all()) == ["*.acme.test", "acme.test"]
    page = admin_client.get(url).content.decode()
    assert "✔ Saved" in page
    assert draft.certificates.get().fingerprint_sha256 in page


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"idp_issuer": ""}, "idp_issuer", "Enter the IdP&#x27;s Issuer ID/URL."),
        ({"idp_sso_url": "http://acme.okta.test/sso"}, "idp_sso_url", "must start with https://"),
        ({"certificate": "garbage"}, "certificate", "must begin with -----BEGIN CERTIFICATE-----"),
        ({"domains": ["*.com"]}, "domains", "public suffix"),
        (
            {"default_redirect_url": "javascript:alert(1)"},
            "default_redirect_url",
            "Enter a complete URL",
        ),
    ],
)
def test_idp_metadata_errors_beside_field_and_nothing_saved(
    admin_client, draft, certificate_pem, overrides, field, message
):
    url = reverse("sso:wizard_idp_metadata", args=[draft.sid])

    response = admin_client.post(url, settings_data(certificate_pem, **overrides))

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert message in response.content.decode()
    assert field in response.context["form"].errors
    draft.refresh_from_db()
    assert (draft.status, draft.idp_issuer) == (ProfileStatus.DRAFT, "")
    assert not draft.certificates.exists() and not draft.domains.exists()


def test_idp_metadata_domain_of_other_organization_shown_beside_field(
    admin_client, draft, certificate_pem
):
    TrustedDomainFactory(domain="acme.test")
    url = reverse("sso:wizard_idp_metadata", args=[draft.sid])
    response = admin_client.post(url, settings_data(certificate_pem))
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.context["form"].errors["domains"] == [
        "Domain acme.test is already used by another organization."
    ]
    assert not draft.certificates.exists()


def test_idp_metadata_domain_of_another_own_profile_shown_beside_field(
    admin_client, draft, certificate_pem
):
    TrustedDomainFactory(profile__organization=draft.organization, domain="acme.test")
    url = reverse("sso:wizard_idp_metadata", args=[draft.sid])
    response = admin_client.post(url, settings_data(certificate_pem))
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.context["form"].errors["domains"] == [
        "Domain acme.test is already trusted by another SSO profile of this organization; "
        "remove it from that profile first."
    ]
    assert not draft.domains.exists()


def test_idp_metadata_import_fills_form_without_saving(admin_client, draft, certificate_pem):
    rotation = KeyPair.generate("Next").certificate_pem
    xml = METADATA.substitute(
        entity_id="https://idp.acme.test/metadata",
        sso_url="https://idp.acme.test/sso",
        certificate=certificate_body(certificate_pem),
        encryption_certificate=certificate_body(rotation),
    )
    url = reverse("sso:wizard_idp_metadata", args=[draft.sid])

    response = admin_client.post(url, {"import": "1", "metadata_xml": xml})

    form = response.context["form"]
    assert form.initial["idp_issuer"] == "https://idp.acme.test/metadata"
    assert form.initial["idp_sso_url"] == "https://idp.acme.test/sso"
    assert certificate_body(form.initial["certificate"]) == certificate_body(certificate_pem)
    assert form.initial["additional_certificate"] == ""
    draft.refresh_from_db()
    assert draft.idp_issuer == "" and draft.status == ProfileStatus.DRAFT


def test_idp_metadata_import_upload_file(admin_client, draft, certificate_pem):
    xml = METADATA.substitute(
        entity_id="https://idp.acme.test/metadata",
        sso_url="https://idp.acme.test/sso",
        certificate=certificate_body(certificate_pem),
        encryption_certificate=certificate_body(certificate_pem),
    )
    upload = SimpleUploadedFile("idp.xml", xml.encode(), content_type="text/xml")
    url = reverse("sso:wizard_idp_metadata", args=[draft.sid])
    response = admin_client.post(url, {"import": "1", "metadata_file": upload})
    assert response.context["form"].initial["idp_issuer"] == "https://idp.acme.test/metadata"


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        ("<html><body>login</body></html>", "not SAML metadata"),
        (
            '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x">'
            "<md:SPSSODescriptor protocolSupportEnumeration="
            '"urn:oasis:names:tc:SAML:2.0:protocol"/></md:EntityDescriptor>',
            "no IDPSSODescriptor",
        ),
        (
            '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
            "DOCTYPE",
        ),
        ("not xml at all", "This is not XML"),
        ("", "Paste the IdP&#x27;s metadata XML"),
    ],
)
def test_idp_metadata_import_errors(admin_client, draft, xml, message):
    url = reverse("sso:wizard_idp_metadata", args=[draft.sid])
    response = admin_client.post(url, {"import": "1", "metadata_xml": xml})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert message in response.content.decode()
    assert "metadata_xml" in response.context["import_form"].errors


@pytest.mark.parametrize("field", ["certificate", "certificate_file", "additional_certificate"])
def test_certificate_too_large_refused_beside_field_and_nothing_saved(
    admin_client, draft, certificate_pem, field
):
    # A valid certificate padded past the cap: refused for its size, not parsed.
    padded = certificate_pem + "#" * CERTIFICATE_MAX_LENGTH
    if field == "certificate_file":
        value = SimpleUploadedFile("idp.pem", padded.encode())
        data = settings_data(certificate_pem, certificate="", certificate_file=value)
    else:
        data = settings_data(certificate_pem, **{field: padded})
    url = reverse("sso:wizard_idp_metadata", args=[draft.sid])

    response = admin_client.post(url, data)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    errors = response.context["form"].errors.as_data()
    assert [error.code for error in errors[field]] == ["certificate_too_large"]
    assert list(errors) == [field]
    assert "This is too long to be one certificate" in response.content.decode()
    draft.refresh_from_db()
    assert (draft.status, draft.idp_issuer) == (ProfileStatus.DRAFT, "")
    assert not draft.certificates.exists() and not draft.domains.exists()


def test_certificate_upload_der_cer_file(admin_client, draft, certificate_pem):
    der = x509.load_pem_x509_certificate(certificate_pem.encode()).public_bytes(
        serialization.Encoding.DER
    )
    upload = SimpleUploadedFile("idp.cer", der)
    data = settings_data(certificate_pem, certificate="", certificate_file=upload)
    url = reverse("sso:wizard_idp_metadata", args=[draft.sid])
    assert admin_client.post(url, data).status_code == HTTPStatus.FOUND
    assert draft.certificates.count() == 1


def test_second_certificate_for_rotation_shows_newer_and_older(
    admin_client, draft, certificate_pem
):
    url = reverse("sso:wizard_idp_metadata", args=[draft.sid])
    admin_client.post(url, settings_data(certificate_pem))
    newer = KeyPair.generate("Newer", days=800).certificate_pem
    admin_client.post(url, settings_data("", additional_certificate=newer))

    content = admin_client.get(url).content.decode()

    assert draft.certificates.count() == 2
    assert content.count("✔ Saved") == 2
    assert content.index("Newer") < content.index("Older")


def test_remove_certificate(admin_client, draft, certificate_pem):
    url = reverse("sso:wizard_idp_metadata", args=[draft.sid])
    admin_client.post(url, settings_data(certificate_pem))
    fingerprint = draft.certificates.get().fingerprint_sha256

    admin_client.post(
        reverse("sso:wizard_certificate_remove", args=[draft.sid]), {"fingerprint": fingerprint}
    )

    assert not draft.certificates.exists()
    draft.refresh_from_db()
    assert draft.status == ProfileStatus.DRAFT
    assert AuditEvent.objects.filter(changes__certificate_removed=fingerprint).exists()


def test_remove_certificate_that_verified_a_recent_sign_in_asks_first(
    admin_client, draft, certificate_pem
):
    url = reverse("sso:wizard_idp_metadata", args=[draft.sid])
    newer = KeyPair.generate("Newer", days=800).certificate_pem
    admin_client.post(url, settings_data(certificate_pem, additional_certificate=newer))
    old = draft.certificates.get(pem=certificate_pem).fingerprint_sha256
    LoginEventFactory(profile=draft, detail={"verified_with": old})
    remove = reverse("sso:wizard_certificate_remove", args=[draft.sid])

    page = admin_client.get(url).content.decode()
    asked = admin_client.post(remove, {"fingerprint": old})

    assert page.count('data-testid="certificate-last-used"') == 2
    assert "Not in the last 30 days" in page  # the newer one
    assert asked.status_code == HTTPStatus.OK
    assert "Remove a certificate in use?" in asked.content.decode()
    assert old in asked.content.decode()
    assert draft.certificates.count() == 2

    confirmed = admin_client.post(remove, {"fingerprint": old, "confirm": "yes"})

    assert confirmed["Location"] == url
    assert not draft.certificates.filter(fingerprint_sha256=old).exists()


def test_test_step_of_draft_redirects_to_idp_metadata(admin_client, draft):
    response = admin_client.get(reverse("sso:wizard_test", args=[draft.sid]))
    assert response["Location"] == reverse("sso:wizard_idp_metadata", args=[draft.sid])


def test_activate_without_test_needs_confirmation_and_is_audited(
    admin_client, draft, certificate_pem, admin
):
    admin_client.post(
        reverse("sso:wizard_idp_metadata", args=[draft.sid]), settings_data(certificate_pem)
    )
    url = reverse("sso:profile_activate", args=[draft.sid])

    refused = admin_client.post(url, {"override": "true"})
    assert refused.status_code == HTTPStatus.BAD_REQUEST
    assert "Confirm that you want" in refused.content.decode()
    draft.refresh_from_db()
    assert draft.status == ProfileStatus.CONFIGURED

    admin_client.post(url, {"override": "true", "confirm": "on"})
    draft.refresh_from_db()
    assert draft.status == ProfileStatus.ACTIVE
    event = AuditEvent.objects.filter(profile=draft).first()
    assert (event.action, event.actor) == (AuditAction.ACTIVATED_WITHOUT_TEST, admin.user)


def test_activate_tested_profile_and_disable_and_enable(admin_client, organization):
    profile = ActiveProfileFactory(
        organization=organization, status=ProfileStatus.TESTED, last_test_outcome="success"
    )
    admin_client.post(reverse("sso:profile_activate", args=[profile.sid]))
    profile.refresh_from_db()
    assert profile.status == ProfileStatus.ACTIVE

    admin_client.post(
        reverse("sso:profile_disable", args=[profile.sid]), {"confirm_name": profile.name}
    )
    profile.refresh_from_db()
    assert profile.status == ProfileStatus.DISABLED

    admin_client.post(reverse("sso:profile_activate", args=[profile.sid]))
    profile.refresh_from_db()
    assert profile.status == ProfileStatus.ACTIVE
    actions = list(AuditEvent.objects.filter(profile=profile).values_list("action", flat=True))
    assert actions == ["activated", "disabled", "activated"]


def test_delete_asks_for_confirmation_then_deletes(admin_client, draft):
    url = reverse("sso:profile_delete", args=[draft.sid])
    page = admin_client.get(url)
    assert "cannot be undone" in page.content.decode()
    assert SSOProfile.objects.filter(pk=draft.pk).exists()

    response = admin_client.post(url)

    assert response["Location"] == reverse("sso:admin_sso")
    assert not SSOProfile.objects.filter(pk=draft.pk).exists()
    assert AuditEvent.objects.filter(profile_sid=draft.sid, action="deleted").exists()


def test_audit_log_lists_changes_without_secrets(admin_client, draft, certificate_pem, admin):
    admin_client.post(
        reverse("sso:wizard_idp_metadata", args=[draft.sid]), settings_data(certificate_pem)
    )
    ActiveProfileFactory(name="Other org profile", domain__domain="beta.test")

    content = admin_client.get(reverse("sso:admin_audit_log")).content.decode()

    assert admin.user.email in content
    assert "http://www.okta.com/exk1" in content
    assert "BEGIN CERTIFICATE" not in content
    assert draft.sp_private_key_encrypted not in content
    assert "Other org profile" not in content


def test_idp_metadata_import_fills_the_single_logout_url(admin_client, draft, certificate_pem):
    redirect = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
    xml = METADATA.substitute(
        entity_id="https://idp.acme.test/metadata",
        sso_url="https://idp.acme.test/sso",
        certificate=certificate_body(certificate_pem),
        encryption_certificate=certificate_body(certificate_pem),
    ).replace(
        "<md:NameIDFormat>",
        '<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" '
        'Location="https://idp.acme.test/slo/post"/>'
        f'<md:SingleLogoutService Binding="{redirect}" Location="https://idp.acme.test/slo"/>'
        "<md:NameIDFormat>",
    )
    url = reverse("sso:wizard_idp_metadata", args=[draft.sid])

    response = admin_client.post(url, {"import": "1", "metadata_xml": xml})

    assert response.context["form"].initial["idp_slo_url"] == "https://idp.acme.test/slo"
    data = settings_data(certificate_pem) | {"idp_slo_url": "https://idp.acme.test/slo"}
    assert admin_client.post(url, data).status_code == HTTPStatus.FOUND
    draft.refresh_from_db()
    assert draft.idp_slo_url == "https://idp.acme.test/slo"


def test_idp_single_logout_url_must_be_https(admin_client, draft, certificate_pem):
    url = reverse("sso:wizard_idp_metadata", args=[draft.sid])
    data = settings_data(certificate_pem) | {"idp_slo_url": "ftp://idp.acme.test/slo"}

    response = admin_client.post(url, data)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "idp_slo_url" in response.context["form"].errors
    draft.refresh_from_db()
    assert (draft.idp_slo_url, draft.status) == ("", ProfileStatus.DRAFT)
