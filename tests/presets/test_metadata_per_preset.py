"""Each preset's IdP metadata, in that IdP's own style, through parse_idp_metadata and the
IdP step's import form (its issuer, HTTP-Redirect SSO URL and signing certificates only)."""

from __future__ import annotations

import pytest

from sso.forms import IdPMetadataImportForm
from sso.models import IdPKind
from sso.saml.metadata import parse_idp_metadata
from sso.validators import parse_certificate
from tests.fixtures.idp import KeyPair
from tests.fixtures.idps import STYLES
from tests.fixtures.idps.builder import StyledIdP


@pytest.fixture(scope="module")
def second_keys() -> KeyPair:
    """Entra's next signing certificate, listed beside the active one."""
    return KeyPair.generate("Microsoft Azure Federated SSO Certificate (next)")


@pytest.fixture(scope="module")
def encryption_keys() -> KeyPair:
    return KeyPair.generate("ADFS Encryption")


def fingerprint(pem: str) -> str:
    return parse_certificate(pem).fingerprint_sha256


@pytest.mark.parametrize("kind", list(STYLES))
def test_preset_metadata_imports_issuer_sso_url_and_signing_certificates(
    kind, idp_keys, second_keys, encryption_keys
):
    style = STYLES[kind]
    idp = StyledIdP(idp_keys, style, second_keys=second_keys)

    form = IdPMetadataImportForm(
        data={"metadata_xml": idp.metadata_xml(encryption_keys=encryption_keys)}
    )

    assert form.is_valid(), form.errors
    metadata = form.cleaned_data["metadata"]
    assert (metadata.issuer, metadata.sso_url) == (style.issuer, style.sso_url)
    expected = [idp_keys.certificate_pem, second_keys.certificate_pem][
        : style.metadata_certificates
    ]
    assert [fingerprint(pem) for pem in metadata.certificates] == [
        fingerprint(pem) for pem in expected
    ]


@pytest.mark.parametrize("kind", [IdPKind.ENTRA_ID, IdPKind.ADFS])
def test_signed_federation_metadata_with_ws_fed_roles_first_imports_the_idp_role(
    kind, idp_keys, second_keys, encryption_keys
):
    """Entra's and AD FS's federation metadata: signed, WS-Federation RoleDescriptors (and for
    AD FS an SPSSODescriptor) before the IDPSSODescriptor, each with its own KeyDescriptors."""
    idp = StyledIdP(idp_keys, STYLES[kind], second_keys=second_keys)
    xml = idp.metadata_xml(encryption_keys=encryption_keys)
    assert "fed:SecurityTokenServiceType" in xml
    assert xml.index("RoleDescriptor") < xml.index("IDPSSODescriptor")
    assert "SignatureValue" in xml

    metadata = parse_idp_metadata(xml)

    assert fingerprint(encryption_keys.certificate_pem) not in {
        fingerprint(pem) for pem in metadata.certificates
    }
