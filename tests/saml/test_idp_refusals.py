"""Refusals an IdP causes, each with its own code and fix (issue 21 item 6). Real keys."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.urls import reverse
from lxml import etree
from signxml import SignatureMethod

from sso.models import LoginEvent, SignaturePolicy
from sso.profiles.diagnostics import fix_for
from tests.factories import ActiveProfileFactory
from tests.fixtures.idp import encode, new_id, status_response_xml
from tests.saml.test_acs import assert_refused, last_event, post_response, start_login

pytestmark = pytest.mark.django_db

SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
STATUS = "urn:oasis:names:tc:SAML:2.0:status:"
REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"


@pytest.fixture(autouse=True, params=["inprocess", "xmlsec1"])
def signature_backend(request, settings) -> str:
    settings.SSO_SIGNATURE_BACKEND = request.param
    return request.param


@pytest.fixture
def profile():
    return ActiveProfileFactory(idp_kind="other")


def without(idp, spec, element: str, *, sign_response: bool = True) -> str:
    """The response with the assertion's `element` (Issuer, AuthnStatement) removed, or the
    Response's Issuer (`element="Response Issuer"`), signed after the removal."""
    assertion = etree.fromstring(idp.assertion_xml(spec))
    if element != "Response Issuer":
        assertion.remove(assertion.find(f"{{{SAML}}}{element}"))
    signed = etree.tostring(idp.sign(assertion, spec.assertion_id)).decode()
    response = etree.fromstring(
        idp.strip_placeholder(idp.response_xml(spec, signed))
        if not sign_response
        else idp.response_xml(spec, signed)
    )
    if element == "Response Issuer":
        response.remove(response.find(f"{{{SAML}}}Issuer"))
    if sign_response:
        response = idp.sign(response, spec.response_id)
    return etree.tostring(response).decode()


@pytest.mark.parametrize(
    "algorithm", [SignatureMethod.SHA256_RSA_MGF1, SignatureMethod.SHA512_RSA_MGF1]
)
def test_rsa_pss_signature_refused_as_unsupported_naming_keycloaks_setting(
    client, profile, idp, spec, algorithm
):
    request_id = start_login(client, profile)
    spec = spec.replace(in_response_to=request_id)
    assertion = idp.signed_assertion(spec, algorithm=algorithm)
    xml = idp.sign_response(spec, assertion, algorithm=algorithm)
    assert algorithm.value.endswith("-rsa-MGF1")

    assert_refused(post_response(client, profile, xml), "unsupported_signature_algorithm")

    event = last_event()
    assert event.detail["algorithm"] == algorithm.value
    fix = fix_for(event, profile)
    assert "Signature algorithm: RSA_SHA256" in fix and "RSA_SHA256_MGF1" in fix
    assert "certificate" not in fix


@pytest.mark.parametrize(
    ("second_level", "message", "fix_says"),
    [
        ("InvalidNameIDPolicy", "User has no email", "NameID format: EmailAddress"),
        ("RequestDenied", "User not assigned", "not assigned to it. Assign them"),
        ("AuthnFailed", "Wrong password", "did not sign in at the IdP"),
    ],
)
def test_idp_status_error_keeps_the_second_level_status_and_message_for_its_fix(
    client, profile, idp, spec, second_level, message, fix_says
):
    request_id = start_login(client, profile)
    xml = status_response_xml(
        spec.replace(in_response_to=request_id, status=STATUS + "Responder"),
        second_level_status=STATUS + second_level,
        status_message=message,
    )

    assert_refused(post_response(client, profile, xml), "idp_status_error")

    event = last_event()
    assert event.detail == {
        "status": STATUS + "Responder",
        "second_level_status": STATUS + second_level,
        "status_message": message,
    }
    fix = fix_for(event, profile)
    assert fix_says in fix and STATUS + second_level in fix


def test_assertion_without_issuer_refused_as_missing_issuer(client, profile, idp, spec):
    request_id = start_login(client, profile)
    xml = without(idp, spec.replace(in_response_to=request_id), "Issuer")
    assert_refused(post_response(client, profile, xml), "missing_issuer")
    assert last_event().detail == {"element": "Assertion"}


def test_signed_response_without_issuer_refused_as_missing_issuer(client, profile, idp, spec):
    profile.signature_policy = SignaturePolicy.RESPONSE
    profile.save()
    request_id = start_login(client, profile)
    xml = without(idp, spec.replace(in_response_to=request_id), "Response Issuer")
    assert_refused(post_response(client, profile, xml), "missing_issuer")
    assert last_event().detail == {"element": "Response"}


def test_unsigned_response_may_omit_its_issuer(client, profile, idp, spec):
    """SAML profiles 4.1.4.2: only a signed Response must name its Issuer."""
    profile.signature_policy = SignaturePolicy.ASSERTION
    profile.save()
    request_id = start_login(client, profile)
    xml = without(
        idp, spec.replace(in_response_to=request_id), "Response Issuer", sign_response=False
    )
    response = post_response(client, profile, xml)
    assert response.status_code == HTTPStatus.FOUND, last_event().reason


def test_assertion_without_authn_statement_refused(client, profile, idp, spec):
    request_id = start_login(client, profile)
    xml = without(idp, spec.replace(in_response_to=request_id), "AuthnStatement")
    assert_refused(post_response(client, profile, xml), "missing_authn_statement")


@pytest.mark.parametrize(
    ("parameter", "binding"),
    [("SAMLResponse", REDIRECT), ("SAMLart", "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact")],
)
def test_acs_get_refused_as_binding_not_supported(client, profile, idp, spec, parameter, binding):
    xml = idp.signxml_response(spec.replace(assertion_id=new_id()))
    response = client.get(reverse("sso:saml2_acs", args=[profile.sid]), {parameter: encode(xml)})

    assert_refused(response, "binding_not_supported", HTTPStatus.BAD_REQUEST)
    event = last_event()
    assert event.detail["binding"] == binding
    assert binding in fix_for(event, profile)


def test_acs_get_without_a_saml_message_is_not_allowed_and_not_recorded(client, profile):
    response = client.get(reverse("sso:saml2_acs", args=[profile.sid]))
    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert not LoginEvent.objects.exists()
