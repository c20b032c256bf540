"""The profile's signature policy at the ACS: which element must be signed, the other verified
when signed, and the signature wrapping each single-signature mode opens. Real keys."""

from __future__ import annotations

import copy
from http import HTTPStatus

import pytest
from lxml import etree

from sso.models import SignaturePolicy, User
from sso.reasons import LoginRefused, Reason
from sso.saml.config import sp_config_for
from sso.saml.facts import read_response
from tests.factories import ActiveProfileFactory, TrustedDomainFactory
from tests.fixtures.idp import FIXTURES, TestIdP, new_id
from tests.fixtures.wrapping import (
    ASSERTION_VARIANTS,
    DS,
    EVIL_EMAIL,
    RESPONSE_VARIANTS,
    SAML,
    Wrapper,
    wrapped,
)
from tests.saml.test_acs import assert_refused, last_event, post_response, start_login

pytestmark = pytest.mark.django_db

# How each policy's IdP signs: (sign_response, sign_assertion).
SIGNING = {
    SignaturePolicy.BOTH: (True, True),
    SignaturePolicy.ASSERTION: (False, True),
    SignaturePolicy.RESPONSE: (True, False),
}
SIGNED = {
    SignaturePolicy.BOTH: ["response", "assertion"],
    SignaturePolicy.ASSERTION: ["assertion"],
    SignaturePolicy.RESPONSE: ["response"],
}
MISSING = {
    SignaturePolicy.ASSERTION: "response_unsigned",
    SignaturePolicy.RESPONSE: "assertion_unsigned",
}


@pytest.fixture(autouse=True, params=["inprocess", "xmlsec1"])
def signature_backend(request, settings) -> str:
    settings.SSO_SIGNATURE_BACKEND = request.param
    return request.param


@pytest.fixture
def profile():
    return ActiveProfileFactory()


def set_policy(profile, policy: str, **changes: object) -> None:
    profile.signature_policy = policy
    for name, value in changes.items():
        setattr(profile, name, value)
    profile.save()


def signed_as(idp: TestIdP, spec, policy: str) -> str:
    sign_response, sign_assertion = SIGNING[policy]
    return idp.signxml_response(spec, sign_response=sign_response, sign_assertion=sign_assertion)


def assert_signed_in(response, email: str = "grace@acme.test") -> None:
    assert response.status_code == HTTPStatus.FOUND, last_event().reason
    assert response.wsgi_request.user.email == email


# Each policy -----------------------------------------------------------------------------------


@pytest.mark.parametrize("policy", [SignaturePolicy.ASSERTION, SignaturePolicy.RESPONSE])
def test_single_signature_refused_under_both_naming_the_missing_one_accepted_under_its_policy(
    client, profile, idp, spec, policy
):
    request_id = start_login(client, profile)
    xml = signed_as(idp, spec.replace(in_response_to=request_id), policy)
    assert_refused(post_response(client, profile, xml), MISSING[policy])
    assert last_event().detail["signature_policy"] == "both"

    set_policy(profile, policy)
    request_id = start_login(client, profile)
    xml = signed_as(idp, spec.replace(in_response_to=request_id, assertion_id=new_id()), policy)
    assert_signed_in(post_response(client, profile, xml))
    event = last_event()
    assert (event.detail["signed"], event.detail["signature_policy"]) == (SIGNED[policy], policy)


@pytest.mark.parametrize("policy", list(SignaturePolicy))
def test_both_signed_accepted_under_every_policy(client, profile, idp, spec, policy):
    set_policy(profile, policy)
    request_id = start_login(client, profile)
    assert_signed_in(
        post_response(
            client, profile, idp.signxml_response(spec.replace(in_response_to=request_id))
        )
    )
    assert last_event().detail["signed"] == ["response", "assertion"]


@pytest.mark.parametrize(
    ("policy", "signed_instead", "reason"),
    [
        (SignaturePolicy.ASSERTION, SignaturePolicy.RESPONSE, "assertion_unsigned"),
        (SignaturePolicy.RESPONSE, SignaturePolicy.ASSERTION, "response_unsigned"),
    ],
)
def test_policy_requires_its_element(client, profile, idp, spec, policy, signed_instead, reason):
    set_policy(profile, policy)
    request_id = start_login(client, profile)
    xml = signed_as(idp, spec.replace(in_response_to=request_id), signed_instead)
    assert_refused(post_response(client, profile, xml), reason)


def test_assertion_policy_verifies_a_response_signature_when_present(client, profile, idp, spec):
    set_policy(profile, SignaturePolicy.ASSERTION)
    request_id = start_login(client, profile)
    xml = idp.signxml_response(spec.replace(in_response_to=request_id))
    tampered = xml.replace(
        'Version="2.0" IssueInstant', 'Version="2.0" Consent="urn:x" IssueInstant', 1
    )
    assert_refused(post_response(client, profile, tampered), "signature_invalid")


def test_response_policy_verifies_an_assertion_signature_when_present(
    client, profile, idp, spec, foreign_keys
):
    set_policy(profile, SignaturePolicy.RESPONSE)
    request_id = start_login(client, profile)
    spec = spec.replace(in_response_to=request_id)
    foreign = TestIdP(foreign_keys, entity_id=profile.idp_issuer).signed_assertion(spec)
    assert_refused(
        post_response(client, profile, idp.sign_response(spec, foreign)), "signature_invalid"
    )


def test_sp_config_follows_the_policy_without_a_save(profile):
    """The SPConfig cache is keyed on the policy itself, not only on the row's updated_at."""
    wants = []
    for policy in (SignaturePolicy.BOTH, SignaturePolicy.ASSERTION, SignaturePolicy.RESPONSE):
        profile.signature_policy = policy
        config = sp_config_for(profile)
        wants.append(
            (
                config.getattr("want_response_signed", "sp"),
                config.getattr("want_assertions_signed", "sp"),
            )
        )
    assert wants == [(True, True), (False, True), (True, False)]


# An unsigned Response is trusted for nothing -------------------------------------------------


def test_unsigned_response_cannot_make_an_unsolicited_assertion_answer_a_request(
    client, profile, idp, spec
):
    """A genuine IdP-initiated assertion, put in an unsigned Response that claims to answer the
    victim's request: the profile allows SP-initiated logins only."""
    set_policy(profile, SignaturePolicy.ASSERTION)
    request_id = start_login(client, profile)
    assertion = idp.signed_assertion(spec)
    xml = idp.strip_placeholder(
        idp.response_xml(spec.replace(in_response_to=request_id), assertion)
    )
    assert_refused(post_response(client, profile, xml), "unknown_in_response_to")
    assert not User.objects.exists()
    # Refused before pysaml2 (which also refuses it), with the reason the admin can act on.
    assert last_event().detail["problem"] == (
        "the unsigned Response answers a request the signed assertion does not"
    )


def test_unsigned_response_without_the_assertions_in_response_to_refused(
    client, profile, idp, spec
):
    set_policy(profile, SignaturePolicy.ASSERTION)
    request_id = start_login(client, profile)
    assertion = idp.signed_assertion(spec.replace(in_response_to=request_id))
    xml = idp.strip_placeholder(idp.response_xml(spec, assertion))
    assert_refused(post_response(client, profile, xml), "unknown_in_response_to")
    assert last_event().detail["problem"] == (
        "the unsigned Response has no InResponseTo, the signed assertion has one"
    )


def test_unsigned_response_destination_must_be_the_acs(client, profile, idp, spec):
    set_policy(profile, SignaturePolicy.ASSERTION)
    request_id = start_login(client, profile)
    spec = spec.replace(in_response_to=request_id)
    assertion = idp.signed_assertion(spec)
    other = spec.replace(destination="https://evil.test/acs/")
    xml = idp.strip_placeholder(idp.response_xml(other, assertion))
    assert_refused(post_response(client, profile, xml), "destination_mismatch")


# Signature wrapping ----------------------------------------------------------------------------

WRAPPING = [(SignaturePolicy.ASSERTION, name) for name in ASSERTION_VARIANTS] + [
    (SignaturePolicy.RESPONSE, name) for name in RESPONSE_VARIANTS
]


@pytest.mark.parametrize(("policy", "variant"), WRAPPING, ids=[f"{p}-{v}" for p, v in WRAPPING])
def test_signature_wrapping_refused_and_the_genuine_document_accepted(
    client, profile, idp, spec, policy, variant
):
    set_policy(profile, policy, allow_idp_initiated=True)
    wrapper = Wrapper(
        idp, spec, sign_response=SIGNING[policy][0], sign_assertion=SIGNING[policy][1]
    )
    xml = wrapped(wrapper, policy, variant)
    assert EVIL_EMAIL in xml

    response = post_response(client, profile, xml)

    assert response.status_code in (HTTPStatus.BAD_REQUEST, HTTPStatus.FORBIDDEN)
    assert last_event().outcome == "failure"
    assert last_event().reason in {
        "malformed_response",
        "signature_invalid",
        "response_unsigned",
        "assertion_unsigned",
    }, last_event().detail
    assert not User.objects.filter(email=EVIL_EMAIL).exists()
    assert "_auth_user_id" not in client.session

    assert_signed_in(post_response(client, profile, wrapper.genuine))
    assert not User.objects.filter(email=EVIL_EMAIL).exists()


def test_signature_outside_the_response_and_its_assertion_refused(profile, idp, spec):
    """A spare copy of a genuine signature elsewhere (Extensions) is what wrapping needs."""
    root = etree.fromstring(signed_as(idp, spec, SignaturePolicy.ASSERTION))
    spare = copy.deepcopy(root.find(f".//{{{DS}}}Signature"))
    extensions = etree.fromstring((FIXTURES / "extensions.xml").read_text())
    root.find(f"{{{SAML}}}Issuer").addnext(extensions)
    extensions.append(spare)
    with pytest.raises(LoginRefused) as refused:
        read_response(etree.tostring(root), policy=SignaturePolicy.ASSERTION)
    assert refused.value.reason == Reason.MALFORMED_RESPONSE
    assert refused.value.detail["problem"] == "a signature outside the Response and its Assertion"


@pytest.mark.parametrize("policy", list(SignaturePolicy))
def test_nameid_comment_injection_reads_the_whole_signed_value(client, profile, idp, spec, policy):
    set_policy(profile, policy)
    TrustedDomainFactory(profile=profile, domain="*.evil.test")
    request_id = start_login(client, profile)
    xml = signed_as(
        idp, spec.replace(in_response_to=request_id, email="grace@acme.test.evil.test"), policy
    )
    injected = xml.replace(">grace@acme.test.evil.test<", ">grace@acme.test<!---->.evil.test<")
    assert injected != xml

    assert_signed_in(post_response(client, profile, injected), "grace@acme.test.evil.test")
    assert not User.objects.filter(email="grace@acme.test").exists()
