"""SP metadata and SP-initiated login: what the IdP receives from us."""

from __future__ import annotations

import base64
from http import HTTPStatus
from urllib.parse import unquote, urlsplit

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from django.core.cache import cache
from django.urls import reverse
from lxml import etree

from sso.crypto import certificate_body
from sso.profiles.services import profile_create
from sso.saml.config import sp_acs_url, sp_entity_id
from sso.saml.signing import SHA1_ALGORITHMS, allowed_algorithms
from tests.factories import ActiveProfileFactory, OrganizationFactory, SSOProfileFactory
from tests.fixtures.idp import authn_request_from_redirect

pytestmark = pytest.mark.django_db

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
EMAIL = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
ALG = "urn:oasis:names:tc:SAML:metadata:algsupport"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"


def verify_redirect_signature(location: str, certificate_pem: str) -> None:
    """Check the HTTP-Redirect binding signature over the raw query, as an IdP does."""
    raw = dict(part.split("=", 1) for part in urlsplit(location).query.split("&"))
    signed = "&".join(
        f"{key}={raw[key]}" for key in ("SAMLRequest", "RelayState", "SigAlg") if key in raw
    )
    certificate = x509.load_pem_x509_certificate(certificate_pem.encode())
    certificate.public_key().verify(
        base64.b64decode(unquote(raw["Signature"])),
        signed.encode(),
        padding.PKCS1v15(),
        hashes.SHA256(),
    )


def test_metadata_describes_the_profile_as_its_own_sp(client):
    profile = SSOProfileFactory()

    response = client.get(reverse("sso:saml2_metadata", args=[profile.sid]))

    assert response.status_code == HTTPStatus.OK
    root = etree.fromstring(response.content)
    assert root.get("entityID") == f"https://sso.test/sso/saml2/{profile.sid}/metadata/"
    descriptor = root.find(f"{{{MD}}}SPSSODescriptor")
    assert descriptor.get("AuthnRequestsSigned") == "true"
    assert descriptor.get("WantAssertionsSigned") == "true"
    acs = descriptor.findall(f"{{{MD}}}AssertionConsumerService")
    assert [(a.get("Binding"), a.get("Location")) for a in acs] == [
        (
            "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
            f"https://sso.test/sso/saml2/{profile.sid}/acs/",
        )
    ]
    assert [n.text for n in descriptor.findall(f"{{{MD}}}NameIDFormat")] == [EMAIL]
    certificates = [c.text.strip() for c in descriptor.iter(f"{{{DS}}}X509Certificate")]
    assert certificate_body(profile.sp_certificate_pem) in certificates
    assert "PRIVATE" not in response.content.decode()


def test_metadata_advertises_only_algorithms_the_acs_accepts_and_no_encryption_key(client):
    profile = SSOProfileFactory()

    root = etree.fromstring(client.get(reverse("sso:saml2_metadata", args=[profile.sid])).content)

    advertised = {
        element.get("Algorithm")
        for element in root.iter(f"{{{ALG}}}DigestMethod", f"{{{ALG}}}SigningMethod")
    }
    assert RSA_SHA256 in advertised and "http://www.w3.org/2001/04/xmlenc#sha256" in advertised
    assert advertised <= allowed_algorithms()
    assert not advertised & SHA1_ALGORITHMS
    assert not any("md5" in algorithm or "sha1" in algorithm for algorithm in advertised)
    uses = [key.get("use") for key in root.iter(f"{{{MD}}}KeyDescriptor")]
    assert uses == ["signing"]


def test_login_hint_goes_to_entra_and_keycloak_on_the_sso_url_outside_the_signature(client):
    for kind in ("entra_id", "keycloak"):
        profile = ActiveProfileFactory(idp_kind=kind)
        response = client.get(
            reverse("sso:saml2_login", args=[profile.sid]),
            {"login_hint": "grace+sso@acme.test", "next": "/console/"},
        )
        location = response["Location"]
        assert location.endswith("&login_hint=grace%2Bsso%40acme.test")
        request, query = authn_request_from_redirect(location)
        assert query["login_hint"] == "grace+sso@acme.test"
        assert query["RelayState"] == "/console/"
        verify_redirect_signature(location, profile.sp_certificate_pem)
        assert request.find(f"{{{SAML}}}Subject") is None


@pytest.mark.parametrize(
    ("kind", "hint"),
    [
        ("okta", "grace@acme.test"),
        ("other", "grace@acme.test"),
        ("entra_id", "grace@evil.test"),
        ("entra_id", "not an email"),
        ("entra_id", "grace@acme.test&SAMLRequest=x"),
    ],
)
def test_login_hint_left_out_for_other_idps_and_other_domains(client, kind, hint):
    profile = ActiveProfileFactory(idp_kind=kind)
    response = client.get(reverse("sso:saml2_login", args=[profile.sid]), {"login_hint": hint})
    location = response["Location"]
    assert "login_hint" not in location
    verify_redirect_signature(location, profile.sp_certificate_pem)


def test_metadata_download_is_an_attachment_named_after_the_profile(client):
    profile = SSOProfileFactory(name="Okta Production")
    response = client.get(reverse("sso:saml2_metadata", args=[profile.sid]), {"download": "1"})
    assert (
        response["Content-Disposition"] == 'attachment; filename="okta-production-sp-metadata.xml"'
    )


def test_metadata_unknown_profile_is_404(client):
    response = client.get(reverse("sso:saml2_metadata", args=["JI" + "0" * 32]))
    assert response.status_code == HTTPStatus.NOT_FOUND


def test_login_sends_signed_authn_request_to_the_idp(client):
    profile = ActiveProfileFactory()

    response = client.get(reverse("sso:saml2_login", args=[profile.sid]), {"next": "/console/"})

    assert response.status_code == HTTPStatus.FOUND
    location = response["Location"]
    assert location.startswith(profile.idp_sso_url + "?")
    request, query = authn_request_from_redirect(location)
    assert query["SigAlg"] == RSA_SHA256
    assert query["RelayState"] == "/console/"
    verify_redirect_signature(location, profile.sp_certificate_pem)
    assert request.tag == f"{{{SAMLP}}}AuthnRequest"
    assert request.get("Destination") == profile.idp_sso_url
    assert request.get("AssertionConsumerServiceURL") == sp_acs_url(profile)
    assert request.find(f"{{{SAML}}}Issuer").text == sp_entity_id(profile)
    assert request.find(f"{{{SAMLP}}}NameIDPolicy").get("Format") == EMAIL
    assert cache.get(f"sso:authn-request:{request.get('ID')}")["sid"] == profile.sid


def test_login_binds_request_to_browser_with_cross_site_cookie(client, settings):
    profile = ActiveProfileFactory()

    response = client.get(reverse("sso:saml2_login", args=[profile.sid]))

    cookie = response.cookies[settings.SSO_REQUEST_COOKIE_NAME]
    assert cookie["secure"] and cookie["httponly"]
    assert cookie["samesite"] == "None"
    assert cookie["path"] == "/sso/saml2/"
    assert 0 < int(cookie["max-age"]) <= 600
    assert settings.SESSION_COOKIE_SAMESITE == "Lax"


def test_login_drops_next_that_leaves_the_site(client):
    profile = ActiveProfileFactory()
    for target in ("https://evil.test/", "//evil.test/", "/\\evil.test"):
        response = client.get(reverse("sso:saml2_login", args=[profile.sid]), {"next": target})
        _, query = authn_request_from_redirect(response["Location"])
        assert query.get("RelayState", "") == ""


def test_login_signs_with_each_profiles_own_key(client):
    organization = OrganizationFactory()
    first, second = (profile_create(organization=organization, actor=None) for _ in "ab")
    assert first.sp_certificate_pem != second.sp_certificate_pem
    for profile in (first, second):
        profile.idp_issuer = f"https://idp.test/{profile.sid}"
        profile.idp_sso_url = "https://idp.test/sso"
        profile.status = "active"
        profile.save()

        response = client.get(reverse("sso:saml2_login", args=[profile.sid]))

        verify_redirect_signature(response["Location"], profile.sp_certificate_pem)
    with pytest.raises(InvalidSignature):
        verify_redirect_signature(response["Location"], first.sp_certificate_pem)
