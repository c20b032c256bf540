"""Bounds on the shape of untrusted XML, enforced before any canonicalization or digest."""

from __future__ import annotations

from http import HTTPStatus
from string import Template

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from lxml import etree

from sso.crypto import certificate_body
from sso.models import LoginEvent, LoginOutcome
from sso.reasons import LoginRefused, Reason
from sso.saml.facts import (
    MAX_ATTRIBUTES_PER_ELEMENT,
    MAX_DEPTH,
    MAX_ELEMENTS,
    SAFE_PARSER,
    read_response,
    shape_problem,
)
from sso.saml.metadata import parse_idp_metadata
from tests.factories import ActiveProfileFactory
from tests.fixtures.idp import FIXTURES, ResponseSpec, TestIdP, encode

TOO_MANY_ATTRIBUTES = f"more than {MAX_ATTRIBUTES_PER_ELEMENT} attributes on one element"


def attributes(count: int, prefix: str = "x") -> str:
    """`count` attributes in a foreign namespace, which the SAML schema allows on most elements."""
    return f' xmlns:{prefix}="urn:test:{prefix}"' + "".join(
        f' {prefix}:a{index}="{index}"' for index in range(count - 1)
    )


def declarations(count: int) -> str:
    return "".join(f' xmlns:n{index}="urn:test:n{index}"' for index in range(count))


def inject(xml: str, extra: str, *, tag: str = "<saml:Attribute ") -> str:
    assert tag in xml
    return xml.replace(tag, tag.rstrip() + extra + " ", 1)


def problem_of(xml: str) -> str:
    return shape_problem(etree.fromstring(xml.encode(), SAFE_PARSER))


# The bounds, one by one -------------------------------------------------------------------------


def test_shape_elements_bounded():
    assert problem_of("<r>" + "<e/>" * (MAX_ELEMENTS - 1) + "</r>") == ""
    assert (
        problem_of("<r>" + "<e/>" * MAX_ELEMENTS + "</r>") == f"more than {MAX_ELEMENTS} elements"
    )


def test_shape_depth_bounded():
    assert problem_of("<e>" * MAX_DEPTH + "</e>" * MAX_DEPTH) == ""
    deeper = "<e>" * (MAX_DEPTH + 1) + "</e>" * (MAX_DEPTH + 1)
    assert problem_of(deeper) == f"elements nested more than {MAX_DEPTH} deep"


def test_shape_attributes_per_element_bounded():
    assert problem_of(f"<r><e{attributes(MAX_ATTRIBUTES_PER_ELEMENT)}/></r>") == ""
    assert problem_of(f"<r><e{attributes(MAX_ATTRIBUTES_PER_ELEMENT + 1)}/></r>") == (
        TOO_MANY_ATTRIBUTES
    )


def test_shape_namespace_declarations_count_as_attributes():
    plain = " ".join(f'b{index}="1"' for index in range(MAX_ATTRIBUTES_PER_ELEMENT // 2))
    half = MAX_ATTRIBUTES_PER_ELEMENT // 2
    assert problem_of(f"<r><e {plain}{declarations(half)}/></r>") == ""
    assert problem_of(f"<r><e {plain}{declarations(half + 1)}/></r>") == TOO_MANY_ATTRIBUTES
    assert problem_of(f"<r{declarations(MAX_ATTRIBUTES_PER_ELEMENT + 1)}/>") == TOO_MANY_ATTRIBUTES


def test_shape_many_declarations_spread_over_elements_accepted():
    # What some IdPs do: xmlns:xs and xmlns:xsi again on every AttributeValue.
    values = "".join(
        f"<v{declarations(2)}>{index}</v>" for index in range(MAX_ATTRIBUTES_PER_ELEMENT)
    )
    assert problem_of(f"<r>{values}</r>") == ""


# Responses and metadata ---------------------------------------------------------------------


@pytest.fixture
def idp(idp_keys) -> TestIdP:
    return TestIdP(idp_keys, entity_id="https://idp.acme.test/saml")


@pytest.fixture
def response_xml(idp) -> str:
    spec = ResponseSpec(
        issuer=idp.entity_id,
        destination="https://sso.test/acs/",
        audience="https://sso.test/metadata/",
        email="grace@acme.test",
    )
    return idp.signxml_response(spec)


def test_read_response_refuses_too_many_attributes_as_malformed(response_xml):
    read_response(response_xml.encode())
    xml = inject(response_xml, attributes(MAX_ATTRIBUTES_PER_ELEMENT + 1))

    with pytest.raises(LoginRefused) as caught:
        read_response(xml.encode())

    assert caught.value.reason == Reason.MALFORMED_RESPONSE
    assert caught.value.detail == {"problem": TOO_MANY_ATTRIBUTES}


def test_idp_metadata_with_too_many_attributes_refused(certificate_pem):
    xml = Template((FIXTURES / "idp_metadata.xml").read_text()).substitute(
        entity_id="https://idp.acme.test/saml",
        sso_url="https://idp.acme.test/sso",
        certificate=certificate_body(certificate_pem),
        encryption_certificate=certificate_body(certificate_pem),
    )
    assert parse_idp_metadata(xml).issuer == "https://idp.acme.test/saml"
    bloated = inject(xml, attributes(MAX_ATTRIBUTES_PER_ELEMENT + 1), tag="<md:IDPSSODescriptor ")

    with pytest.raises(ValidationError) as caught:
        parse_idp_metadata(bloated)

    assert caught.value.code == "metadata_too_complex"
    assert TOO_MANY_ATTRIBUTES in caught.value.messages[0]


@pytest.mark.django_db
@pytest.mark.parametrize("backend", ["inprocess", "xmlsec1"])
@pytest.mark.parametrize("count", [MAX_ATTRIBUTES_PER_ELEMENT + 1, 50_000])
def test_acs_refuses_signed_response_with_injected_attributes_before_verifying(
    client, settings, idp_keys, backend, count
):
    settings.SSO_SIGNATURE_BACKEND = backend
    profile = ActiveProfileFactory(allow_idp_initiated=True)
    idp = TestIdP(idp_keys, entity_id=profile.idp_issuer)
    genuine = idp.signxml_response(ResponseSpec.for_profile(profile))
    xml = inject(genuine, attributes(count))

    response = client.post(
        reverse("sso:saml2_acs", args=[profile.sid]), {"SAMLResponse": encode(xml)}
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    event = LoginEvent.objects.get()
    assert (event.outcome, event.reason) == (LoginOutcome.FAILURE, Reason.MALFORMED_RESPONSE)
    assert event.detail["problem"] == TOO_MANY_ATTRIBUTES
    assert "_auth_user_id" not in client.session
