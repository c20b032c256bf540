"""The in-process security context keeps every check of pysaml2's, once per document."""

from __future__ import annotations

import copy

import pytest
from django.test import Client
from django.urls import reverse
from lxml import etree
from saml2 import BINDING_HTTP_POST, samlp
from saml2.response import AuthnResponse
from saml2.sigver import SecurityContext, SignatureError

from sso.models import LoginEvent
from sso.saml.config import saml_client_for
from sso.saml.pysaml2.client import (
    InProcessSecurityContext,
    ProfileAuthnResponse,
    xmldsig_profile_violations,
)
from sso.saml.pysaml2.signature import ReceivedDocument
from tests.factories import ActiveProfileFactory
from tests.fixtures.idp import encode

pytestmark = pytest.mark.django_db

DS = "http://www.w3.org/2000/09/xmldsig#"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
INCLUSIVE_C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"

@pytest.fixture
def profile():
    return ActiveProfileFactory(allow_idp_initiated=True)


def _signature(root: etree._Element) -> etree._Element:
    return root.find(f"{{{DS}}}Signature")


def _transforms(root: etree._Element) -> etree._Element:
    return _signature(root).find(f"{{{DS}}}SignedInfo/{{{DS}}}Reference/{{{DS}}}Transforms")


def _with_object(root):
    etree.SubElement(_signature(root), f"{{{DS}}}Object").text = "unsigned data"


def _with_third_transform(root):
    etree.SubElement(_transforms(root), f"{{{DS}}}Transform", Algorithm=EXC_C14N)


def _without_enveloped_transform(root):
    transforms = _transforms(root)
    for transform in list(transforms):
        if transform.get("Algorithm").endswith("enveloped-signature"):
            transforms.remove(transform)


def _with_duplicated_transform(root):
    transforms = _transforms(root)
    for transform in list(transforms):
        transform.set("Algorithm", EXC_C14N)


def _with_inclusive_c14n(root):
    method = _signature(root).find(f"{{{DS}}}SignedInfo/{{{DS}}}CanonicalizationMethod")
    method.set("Algorithm", INCLUSIVE_C14N)


def _with_foreign_reference(root):
    reference = _signature(root).find(f"{{{DS}}}SignedInfo/{{{DS}}}Reference")
    reference.set("URI", "#elsewhere")


MUTATIONS = {
    "object element": _with_object,
    "third transform": _with_third_transform,
    "no enveloped transform": _without_enveloped_transform,
    "duplicated transform": _with_duplicated_transform,
    "inclusive c14n": _with_inclusive_c14n,
    "foreign reference": _with_foreign_reference,
}


def _stock_violations(context: SecurityContext, xml: bytes) -> list[str]:
    """The xmldsig rules pysaml2's own _check_signature reports broken for this response."""
    response = samlp.response_from_string(xml)
    with pytest.raises(SignatureError) as refused:
        context._check_signature(xml, response, "urn:oasis:names:tc:SAML:2.0:protocol:Response")
    validators = refused.value.args[0]["validators"]
    return [rule for rule, holds in validators.items() if not holds]


@pytest.mark.parametrize("mutation", MUTATIONS)
def test_xmldsig_profile_rules_are_pysaml2s(profile, idp, spec, mutation, settings):
    settings.SSO_SIGNATURE_BACKEND = "xmlsec1"
    root = etree.fromstring(idp.signxml_response(spec))
    MUTATIONS[mutation](root)
    xml = etree.tostring(root)

    stock = _stock_violations(saml_client_for(profile).sec, xml)
    ours = xmldsig_profile_violations(samlp.response_from_string(xml))

    assert ours == stock
    assert ours


def test_untouched_response_breaks_no_xmldsig_rule(idp, spec):
    response = samlp.response_from_string(idp.signxml_response(spec))
    assert xmldsig_profile_violations(response) == []
    assert xmldsig_profile_violations(response.assertion[0]) == []


@pytest.mark.parametrize("backend", ["inprocess", "xmlsec1"])
def test_acs_refuses_an_unsigned_object_in_a_valid_signature(
    client: Client, profile, idp, spec, backend, settings
):
    """A ds:Object is outside what the enveloped signature digests: the signature still
    verifies, and SAML core 5.4 (as pysaml2 enforces it) refuses it, on either path."""
    settings.SSO_SIGNATURE_BACKEND = backend
    root = etree.fromstring(idp.signxml_response(spec))
    assertion = root.find(f"{{{SAML}}}Assertion")
    _with_object(assertion)

    response = client.post(
        reverse("sso:saml2_acs", args=[profile.sid]),
        {"SAMLResponse": encode(etree.tostring(root).decode())},
    )

    assert response.status_code == 403
    assert "_auth_user_id" not in client.session
    assert LoginEvent.objects.get().reason == "signature_invalid"


def _parse(profile, xml: str, received: ReceivedDocument | None = None):
    client = saml_client_for(profile, allow_unsolicited=True, received=received)
    return client.parse_authn_request_response(encode(xml), BINDING_HTTP_POST, {})


def test_in_process_client_verifies_and_reads_the_response(profile, idp, spec, settings):
    settings.SSO_SIGNATURE_BACKEND = "inprocess"
    verified = _parse(profile, idp.signxml_response(spec))
    assert isinstance(verified.sec, InProcessSecurityContext)
    assert isinstance(verified, ProfileAuthnResponse)
    assert verified.name_id.text == "grace@acme.test"
    assert verified.ava["givenName"] == ["Grace"]


def test_a_document_parsed_earlier_stands_in_only_for_the_same_bytes(profile, idp, spec, settings):
    settings.SSO_SIGNATURE_BACKEND = "inprocess"
    genuine = idp.signxml_response(spec)
    tampered = genuine.replace("grace@acme.test", "ceo@acme.test")

    # A genuine tree handed over for other bytes is not what gets verified...
    with pytest.raises(SignatureError):
        _parse(profile, tampered, received=ReceivedDocument(genuine.encode()))
    # ...and a tampered one does not spoil the verification of the genuine response.
    verified = _parse(profile, genuine, received=ReceivedDocument(tampered.encode()))
    assert verified.name_id.text == "grace@acme.test"


def test_a_decoded_post_stands_in_only_for_the_text_it_was_decoded_from(
    profile, idp, spec, settings
):
    settings.SSO_SIGNATURE_BACKEND = "inprocess"
    genuine = idp.signxml_response(spec)
    tampered = genuine.replace("grace@acme.test", "ceo@acme.test")
    received = ReceivedDocument(genuine.encode(), posted=encode(genuine))
    client = saml_client_for(profile, allow_unsolicited=True, received=received)

    assert client.unravel(encode(genuine), BINDING_HTTP_POST) is received.data
    assert client.unravel(encode(tampered), BINDING_HTTP_POST) == tampered.encode()
    with pytest.raises(SignatureError):
        client.parse_authn_request_response(encode(tampered), BINDING_HTTP_POST, {})


def test_doctype_refused_before_pysaml2_parses(profile, idp, spec, settings):
    settings.SSO_SIGNATURE_BACKEND = "inprocess"
    xml = idp.signxml_response(spec)
    with_doctype = '<!DOCTYPE r [<!ENTITY e "x">]>' + xml
    with pytest.raises(SignatureError, match="DOCTYPE"):
        _parse(profile, with_doctype)


def test_get_identity_reads_what_pysaml2s_reads(profile, idp, spec, settings):
    settings.SSO_SIGNATURE_BACKEND = "inprocess"
    spec = spec.replace(attributes={"givenName": "Grace", "sn": "Hopper", "role": "admin"})
    verified = _parse(profile, idp.signxml_response(spec))
    stock = copy.copy(verified)
    assert ProfileAuthnResponse.get_identity(verified) == AuthnResponse.get_identity(stock)
    assert verified.ava == {"givenName": ["Grace"], "sn": ["Hopper"], "role": ["admin"]}
