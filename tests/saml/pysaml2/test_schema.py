"""The compiled (libxml2) SAML schema validator gives pysaml2's (xmlschema) verdicts."""

from __future__ import annotations

import pytest
import saml2.sigver
from saml2.xml.schema import XMLSchemaError
from saml2.xml.schema import validate as xmlschema_validate

from sso.saml.pysaml2 import schema
from tests.fixtures.idp import ResponseSpec


@pytest.fixture
def xml(idp) -> str:
    spec = ResponseSpec(
        issuer="https://idp.test",
        destination="https://sp.test/acs/",
        audience="https://sp.test/metadata/",
        email="grace@acme.test",
        in_response_to="_request",
    )
    return idp.signxml_response(spec)


MUTATIONS = {
    "valid": lambda xml: xml,
    "no Version": lambda xml: xml.replace('Version="2.0"', "", 1),
    "unknown element": lambda xml: xml.replace("<saml:Subject>", "<saml:Bogus/><saml:Subject>"),
    "bad dateTime": lambda xml: xml.replace('IssueInstant="', 'IssueInstant="yesterday', 1),
    "element out of order": lambda xml: xml.replace(
        "<samlp:Status>", "<samlp:Status><samlp:StatusMessage>x</samlp:StatusMessage>"
    ),
    "foreign attribute allowed": lambda xml: xml.replace(
        "<saml:Assertion ", '<saml:Assertion xmlns:x="urn:x" x:extra="1" ', 1
    ),
    "missing Issuer text ok": lambda xml: xml,
    "not SAML": lambda xml: "<html/>",
}


def verdict(validate, document: str) -> str:
    try:
        validate(document)
    except XMLSchemaError:
        return "invalid"
    return "valid"


@pytest.mark.parametrize("mutation", MUTATIONS)
def test_same_verdict_as_pysaml2(xml, mutation):
    document = MUTATIONS[mutation](xml)
    assert verdict(schema.validate, document) == verdict(xmlschema_validate, document)


def test_valid_document_is_valid_and_broken_one_is_not(xml):
    assert verdict(schema.validate, xml) == "valid"
    assert verdict(schema.validate, MUTATIONS["unknown element"](xml)) == "invalid"


def test_pysaml2_uses_the_compiled_validator():
    assert saml2.sigver.validate_doc_with_schema is schema.validate
