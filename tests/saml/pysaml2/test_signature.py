"""The in-process signature backend verifies exactly the element it is asked about."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from lxml import etree
from saml2.sigver import SignatureError

from sso.saml.pysaml2.signature import InProcessXmlSecBackend
from tests.fixtures.idp import KeyPair, ResponseSpec, TestIdP

ASSERTION = "urn:oasis:names:tc:SAML:2.0:assertion:Assertion"
RESPONSE = "urn:oasis:names:tc:SAML:2.0:protocol:Response"
DS = "http://www.w3.org/2000/09/xmldsig#"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"


@pytest.fixture
def spec() -> ResponseSpec:
    return ResponseSpec(
        issuer="https://idp.test",
        destination="https://sp.test/acs/",
        audience="https://sp.test/metadata/",
        email="grace@acme.test",
    )


@pytest.fixture
def backend() -> InProcessXmlSecBackend:
    return InProcessXmlSecBackend()


def verify(backend, xml: str, cert_file: Path, node_name: str, node_id: str) -> bool:
    return backend.validate_signature(xml, str(cert_file), "pem", node_name, node_id)


def test_valid_response_and_assertion_verify(backend, idp, spec, cert_file):
    xml = idp.signxml_response(spec)
    assert verify(backend, xml, cert_file, RESPONSE, spec.response_id)
    assert verify(backend, xml, cert_file, ASSERTION, spec.assertion_id)


def test_other_key_does_not_verify(backend, spec, cert_file):
    xml = TestIdP(KeyPair.generate("Other")).signxml_response(spec)
    assert not verify(backend, xml, cert_file, ASSERTION, spec.assertion_id)


def test_tampered_outer_response_with_intact_assertion_signature(backend, idp, spec, cert_file):
    xml = idp.signxml_response(spec).replace(
        'Version="2.0" IssueInstant', 'Version="2.0" Consent="x" IssueInstant', 1
    )
    assert verify(backend, xml, cert_file, ASSERTION, spec.assertion_id)
    assert not verify(backend, xml, cert_file, RESPONSE, spec.response_id)


def test_duplicate_ids_refused(backend, idp, spec, cert_file):
    root = etree.fromstring(idp.signxml_response(spec))
    assertion = root.find(f"{{{SAML}}}Assertion")
    twin = copy.deepcopy(assertion)
    root.append(twin)
    with pytest.raises(SignatureError, match="2 elements"):
        verify(backend, etree.tostring(root).decode(), cert_file, ASSERTION, spec.assertion_id)


def test_second_signature_refused(backend, idp, spec, cert_file):
    root = etree.fromstring(idp.signxml_response(spec))
    assertion = root.find(f"{{{SAML}}}Assertion")
    assertion.append(copy.deepcopy(assertion.find(f"{{{DS}}}Signature")))
    with pytest.raises(SignatureError, match="one Signature"):
        verify(backend, etree.tostring(root).decode(), cert_file, ASSERTION, spec.assertion_id)


def test_reference_to_another_element_refused(backend, idp, spec, cert_file):
    assertion = idp.signed_assertion(spec)
    signed = idp.sign(etree.fromstring(idp.response_xml(spec, assertion)), spec.assertion_id)
    with pytest.raises(SignatureError, match="reference the signed element"):
        verify(backend, etree.tostring(signed).decode(), cert_file, RESPONSE, spec.response_id)


def test_id_of_another_kind_of_element_refused(backend, idp, spec, cert_file):
    xml = idp.signxml_response(spec)
    with pytest.raises(SignatureError, match="another kind"):
        verify(backend, xml, cert_file, ASSERTION, spec.response_id)


def test_sha1_refused_unless_allowed(backend, idp, spec, cert_file, tmp_path, settings):
    from saml2.xmldsig import DIGEST_SHA1, SIG_RSA_SHA1

    xml = idp.pysaml2_response(
        spec, workdir=tmp_path, sign_alg=SIG_RSA_SHA1, digest_alg=DIGEST_SHA1
    )
    assertion_id = etree.fromstring(xml.encode()).find(f"{{{SAML}}}Assertion").get("ID")
    with pytest.raises(SignatureError, match="algorithm"):
        verify(backend, xml, cert_file, ASSERTION, assertion_id)
    settings.SSO_ALLOW_SHA1_SIGNATURES = True
    assert verify(backend, xml, cert_file, ASSERTION, assertion_id)
