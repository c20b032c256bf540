"""The ACS end to end: real keys, real signatures (signxml and pysaml2's IdP), every reason code."""

from __future__ import annotations

import datetime as dt
import re
from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse
from lxml import etree

from sso.models import (
    AuditAction,
    AuditEvent,
    LoginEvent,
    LoginOutcome,
    Membership,
    ProfileStatus,
    Role,
    TrustedDomain,
    User,
)
from sso.organizations.services import invitation_create
from sso.saml.config import sp_acs_url
from tests.factories import (
    ActiveProfileFactory,
    IdPCertificateFactory,
    MembershipFactory,
    TrustedDomainFactory,
    UserFactory,
)
from tests.fixtures.idp import (
    FIXTURES,
    UNSPECIFIED_FORMAT,
    ResponseSpec,
    TestIdP,
    authn_request_from_redirect,
    encode,
    new_id,
)

pytestmark = pytest.mark.django_db

SAML_NS = "urn:oasis:names:tc:SAML:2.0:assertion"


@pytest.fixture(autouse=True, params=["inprocess", "xmlsec1"])
def signature_backend(request, settings) -> str:
    """Every ACS test runs with the in-process backend and with pysaml2's xmlsec1 program."""
    settings.SSO_SIGNATURE_BACKEND = request.param
    return request.param


@pytest.fixture
def profile():
    return ActiveProfileFactory()


def start_login(client: Client, profile, next_path: str = "/console/?tab=1") -> str:
    """SP-initiated login in this browser; returns the AuthnRequest id."""
    response = client.get(reverse("sso:saml2_login", args=[profile.sid]), {"next": next_path})
    assert response.status_code == HTTPStatus.FOUND
    request, _ = authn_request_from_redirect(response["Location"])
    return request.get("ID")


def post_response(client: Client, profile, xml: str, **extra: str):
    return client.post(
        reverse("sso:saml2_acs", args=[profile.sid]), {"SAMLResponse": encode(xml), **extra}
    )


def last_event() -> LoginEvent:
    return LoginEvent.objects.order_by("-pk").first()


def assert_refused(response, reason: str, status: HTTPStatus = HTTPStatus.FORBIDDEN) -> None:
    event = last_event()
    assert (event.outcome, event.reason) == (LoginOutcome.FAILURE, reason), event.detail
    assert response.status_code == status
    assert f"Support reference: <strong><code>{event.reference}</code>" in response.content.decode()
    assert "_auth_user_id" not in response.wsgi_request.session


# Success -------------------------------------------------------------------------------------


@pytest.mark.parametrize("signer", ["signxml", "pysaml2"])
def test_acs_sp_initiated_login_signs_in_and_follows_relay_state(
    client, profile, idp, spec, signer, tmp_path
):
    request_id = start_login(client, profile)
    spec = spec.replace(in_response_to=request_id)
    xml = (
        idp.signxml_response(spec)
        if signer == "signxml"
        else idp.pysaml2_response(spec, workdir=tmp_path)
    )

    response = post_response(client, profile, xml, RelayState="https://evil.test/")

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/console/?tab=1"
    console = client.get(reverse("sso:console"))
    assert "grace@acme.test" in console.content.decode()
    user = User.objects.get(email="grace@acme.test")
    assert (user.first_name, user.last_name) == ("Grace", "Hopper")
    membership = Membership.objects.get(user=user, organization=profile.organization)
    assert (membership.role, membership.created_just_in_time) == (Role.MEMBER, True)
    event = last_event()
    assert (event.outcome, event.reason, event.in_response_to) == ("success", "ok", request_id)
    assert event.user == user


@pytest.mark.parametrize("signer", ["signxml", "pysaml2"])
def test_acs_idp_initiated_login_allowed_by_profile_signs_in(
    client, profile, idp, spec, signer, tmp_path
):
    profile.allow_idp_initiated = True
    profile.default_redirect_url = "https://app.acme.test/home"
    profile.save()
    xml = (
        idp.signxml_response(spec)
        if signer == "signxml"
        else idp.pysaml2_response(spec, workdir=tmp_path)
    )

    response = post_response(client, profile, xml)

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "https://app.acme.test/home"
    assert response.wsgi_request.user.email == "grace@acme.test"
    assert last_event().detail == {
        "initiated_by": "idp",
        "verified_with": profile.certificates.get().fingerprint_sha256,
        "signed": ["response", "assertion"],
        "signature_policy": "both",
    }


def test_acs_idp_initiated_relay_state_used_only_when_same_origin_path(client, profile, idp, spec):
    profile.allow_idp_initiated = True
    profile.save()

    response = post_response(client, profile, idp.signxml_response(spec), RelayState="/console/x")
    assert response["Location"] == "/console/x"

    client.logout()
    response = post_response(
        client,
        profile,
        idp.signxml_response(spec.replace(assertion_id=new_id())),
        RelayState="//evil.test/phish",
    )
    assert response["Location"] == reverse("sso:console")


def test_acs_existing_member_signs_in_and_names_update(client, profile, idp, spec):
    user = UserFactory(email="grace@acme.test", first_name="", last_name="")
    MembershipFactory(user=user, organization=profile.organization, role=Role.ADMIN)
    request_id = start_login(client, profile)

    post_response(client, profile, idp.signxml_response(spec.replace(in_response_to=request_id)))

    user.refresh_from_db()
    assert user.first_name == "Grace"
    assert Membership.objects.get(user=user).role == Role.ADMIN
    assert last_event().user == user


def test_acs_email_lookup_is_case_insensitive(client, profile, idp, spec):
    user = UserFactory(email="grace@acme.test")
    MembershipFactory(user=user, organization=profile.organization)
    request_id = start_login(client, profile)

    post_response(
        client,
        profile,
        idp.signxml_response(spec.replace(in_response_to=request_id, email="Grace@ACME.test")),
    )

    assert User.objects.filter(email__iexact="grace@acme.test").count() == 1
    assert last_event().user == user


def sign_in_once(client: Client, profile, idp: TestIdP, spec: ResponseSpec, email: str) -> None:
    request_id = start_login(client, profile)
    spec = spec.replace(
        response_id=new_id(), assertion_id=new_id(), in_response_to=request_id, email=email
    )
    xml = idp.signxml_response(spec)
    assert post_response(client, profile, xml).status_code == HTTPStatus.FOUND


@pytest.mark.parametrize(
    ("existing_member", "profile_seen_before", "queries"),
    [(False, False, 22), (True, False, 15), (False, True, 20), (True, True, 13)],
)
def test_acs_successful_login_has_fixed_query_count(
    client,
    profile,
    idp,
    spec,
    django_assert_num_queries,
    existing_member,
    profile_seen_before,
    queries,
):
    """A profile's certificates and domains are read at its first login, then only again
    after they change (tests/profiles/test_selectors.py)."""
    if existing_member:
        user = UserFactory(email="grace@acme.test", first_name="Grace", last_name="Hopper")
        MembershipFactory(user=user, organization=profile.organization)
    if profile_seen_before:
        sign_in_once(Client(), profile, idp, spec, email="ada@acme.test")
    request_id = start_login(client, profile)
    xml = idp.signxml_response(spec.replace(in_response_to=request_id))

    with django_assert_num_queries(queries):
        response = post_response(client, profile, xml)

    assert response.status_code == HTTPStatus.FOUND


def test_acs_certificate_replaced_between_logins_is_honoured_at_once(
    client, profile, idp, spec, foreign_keys
):
    sign_in_once(Client(), profile, idp, spec, email="ada@acme.test")
    profile.certificates.all().delete()
    IdPCertificateFactory(profile=profile, pem=foreign_keys.certificate_pem)

    request_id = start_login(client, profile)
    xml = idp.signxml_response(spec.replace(in_response_to=request_id))
    assert_refused(post_response(client, profile, xml), "signature_invalid")

    rotated = TestIdP(foreign_keys, entity_id=profile.idp_issuer)
    sign_in_once(client, profile, rotated, spec, email="grace@acme.test")


@pytest.mark.parametrize("signed_by", ["first", "second"])
def test_acs_login_event_names_the_certificate_that_verified_it(
    client, profile, idp, spec, foreign_keys, signed_by
):
    second = IdPCertificateFactory(profile=profile, pem=foreign_keys.certificate_pem)
    first = profile.certificates.exclude(pk=second.pk).get()
    signer = idp if signed_by == "first" else TestIdP(foreign_keys, entity_id=profile.idp_issuer)

    sign_in_once(client, profile, signer, spec, email="grace@acme.test")

    expected = first if signed_by == "first" else second
    assert last_event().detail["verified_with"] == expected.fingerprint_sha256


def test_acs_domain_removed_between_logins_is_honoured_at_once(client, profile, idp, spec):
    sign_in_once(Client(), profile, idp, spec, email="ada@acme.test")
    TrustedDomain.objects.filter(profile=profile).delete()

    request_id = start_login(client, profile)
    xml = idp.signxml_response(spec.replace(in_response_to=request_id))
    assert_refused(post_response(client, profile, xml), "domain_not_trusted")


def test_acs_clock_skew_within_allowance_is_accepted(client, profile, idp, spec):
    now = dt.datetime.now(dt.UTC)
    request_id = start_login(client, profile)
    xml = idp.signxml_response(
        spec.replace(in_response_to=request_id, not_before=now + dt.timedelta(seconds=30))
    )

    response = post_response(client, profile, xml)

    assert response.status_code == HTTPStatus.FOUND
    assert last_event().reason == "ok"


# Refusals, one per reason code ---------------------------------------------------------------


def test_acs_unsigned_response_refused(client, profile, idp, spec):
    request_id = start_login(client, profile)
    xml = idp.signxml_response(spec.replace(in_response_to=request_id), sign_response=False)
    assert_refused(post_response(client, profile, xml), "response_unsigned")


def test_acs_unsigned_assertion_refused(client, profile, idp, spec):
    request_id = start_login(client, profile)
    xml = idp.signxml_response(spec.replace(in_response_to=request_id), sign_assertion=False)
    assert_refused(post_response(client, profile, xml), "assertion_unsigned")


def test_acs_signature_by_foreign_key_refused(client, profile, foreign_keys, spec):
    attacker = TestIdP(foreign_keys, entity_id=profile.idp_issuer)
    request_id = start_login(client, profile)
    xml = attacker.signxml_response(spec.replace(in_response_to=request_id))
    assert_refused(post_response(client, profile, xml), "signature_invalid")


def test_acs_tampered_assertion_refused(client, profile, idp, spec):
    request_id = start_login(client, profile)
    xml = idp.signxml_response(spec.replace(in_response_to=request_id))
    tampered = xml.replace("grace@acme.test", "ceo@acme.test")
    assert_refused(post_response(client, profile, tampered), "signature_invalid")
    assert not User.objects.filter(email="ceo@acme.test").exists()


def test_acs_tampered_outer_response_with_intact_assertion_signature_refused(
    client, profile, idp, spec
):
    request_id = start_login(client, profile)
    xml = idp.signxml_response(spec.replace(in_response_to=request_id))
    tampered = xml.replace(
        'Version="2.0" IssueInstant', 'Version="2.0" Consent="urn:x" IssueInstant', 1
    )
    assert_refused(post_response(client, profile, tampered), "signature_invalid")


def test_acs_signature_referencing_another_element_refused(client, profile, idp, spec):
    request_id = start_login(client, profile)
    spec = spec.replace(in_response_to=request_id)
    assertion = idp.signed_assertion(spec)
    # The Response's signature points at the Assertion instead of the Response itself.
    response = etree.fromstring(idp.response_xml(spec, assertion))
    signed = idp.sign(response, spec.assertion_id)
    assert_refused(
        post_response(client, profile, etree.tostring(signed).decode()), "signature_invalid"
    )


def test_acs_encrypted_assertion_refused_plainly(client, profile, idp, spec):
    request_id = start_login(client, profile)
    spec = spec.replace(in_response_to=request_id)
    encrypted = (FIXTURES / "encrypted_assertion.xml").read_text().strip()
    xml = idp.sign_response(spec, encrypted)
    response = post_response(client, profile, xml)
    assert_refused(response, "encrypted_assertion_unsupported")


def test_acs_sha1_signature_refused_unless_allowed(client, profile, idp, spec, tmp_path, settings):
    from saml2.xmldsig import DIGEST_SHA1, SIG_RSA_SHA1

    request_id = start_login(client, profile)
    sha1 = spec.replace(in_response_to=request_id)
    xml = idp.pysaml2_response(
        sha1, workdir=tmp_path, sign_alg=SIG_RSA_SHA1, digest_alg=DIGEST_SHA1
    )
    assert_refused(post_response(client, profile, xml), "weak_signature_algorithm")

    settings.SSO_ALLOW_SHA1_SIGNATURES = True
    request_id = start_login(client, profile)
    sha1 = spec.replace(in_response_to=request_id, assertion_id=new_id())
    xml = idp.pysaml2_response(
        sha1, workdir=tmp_path, sign_alg=SIG_RSA_SHA1, digest_alg=DIGEST_SHA1
    )
    assert post_response(client, profile, xml).status_code == HTTPStatus.FOUND
    assert last_event().reason == "ok"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"issuer": "https://other-idp.test/saml"}, "issuer_mismatch"),
        ({"assertion_issuer": "https://other-idp.test/saml"}, "issuer_mismatch"),
        ({"audience": "https://other-sp.test/metadata/"}, "audience_mismatch"),
        ({"destination": "https://other-sp.test/acs/", "recipient": "ACS"}, "destination_mismatch"),
        ({"recipient": "https://other-sp.test/acs/"}, "recipient_mismatch"),
        ({"name_id_format": UNSPECIFIED_FORMAT}, "nameid_format"),
        ({"email": "grace@other-company.test"}, "domain_not_trusted"),
        ({"email": "not-an-email"}, "email_invalid"),
        ({"status": "urn:oasis:names:tc:SAML:2.0:status:Responder"}, "idp_status_error"),
    ],
)
def test_acs_claim_refused(client, profile, idp, spec, change, reason):
    request_id = start_login(client, profile)
    if change.get("recipient") == "ACS":
        change = {**change, "recipient": sp_acs_url(profile)}
    xml = idp.signxml_response(spec.replace(in_response_to=request_id, **change))
    assert_refused(post_response(client, profile, xml), reason)


def test_acs_not_yet_valid_refused(client, profile, idp, spec):
    request_id = start_login(client, profile)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    xml = idp.signxml_response(spec.replace(in_response_to=request_id, not_before=later))
    assert_refused(post_response(client, profile, xml), "not_yet_valid")
    assert last_event().detail["clock_difference_seconds"] >= 290


def test_acs_expired_refused(client, profile, idp, spec):
    request_id = start_login(client, profile)
    now = dt.datetime.now(dt.UTC)
    xml = idp.signxml_response(
        spec.replace(
            in_response_to=request_id,
            not_before=now - dt.timedelta(minutes=10),
            not_on_or_after=now - dt.timedelta(seconds=90),
        )
    )
    assert_refused(post_response(client, profile, xml), "expired")


def test_acs_unknown_in_response_to_refused(client, profile, idp, spec):
    start_login(client, profile)
    xml = idp.signxml_response(spec.replace(in_response_to="_never-sent"))
    assert_refused(post_response(client, profile, xml), "unknown_in_response_to")


def test_acs_in_response_to_from_another_browser_refused(client, profile, idp, spec):
    request_id = start_login(client, profile)
    xml = idp.signxml_response(spec.replace(in_response_to=request_id))
    assert_refused(post_response(Client(), profile, xml), "unknown_in_response_to")


def test_acs_in_response_to_used_twice_refused(client, profile, idp, spec):
    request_id = start_login(client, profile)
    first = idp.signxml_response(spec.replace(in_response_to=request_id))
    assert post_response(client, profile, first).status_code == HTTPStatus.FOUND
    client.logout()

    second = idp.signxml_response(spec.replace(in_response_to=request_id, assertion_id=new_id()))
    assert_refused(post_response(client, profile, second), "unknown_in_response_to")


def test_acs_unsolicited_refused_and_restarted_as_sp_initiated(client, profile, idp, spec):
    response = post_response(client, profile, idp.signxml_response(spec))

    event = last_event()
    assert (event.outcome, event.reason) == ("failure", "unsolicited_not_allowed")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == reverse("sso:saml2_login", args=[profile.sid])
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("initiated_by", ["sp", "idp"])
def test_acs_replayed_assertion_refused(client, profile, idp, spec, initiated_by):
    profile.allow_idp_initiated = initiated_by == "idp"
    profile.save()
    if initiated_by == "sp":
        spec = spec.replace(in_response_to=start_login(client, profile))
    xml = idp.signxml_response(spec)
    assert post_response(client, profile, xml).status_code == HTTPStatus.FOUND

    attacker = Client()
    attacker.cookies = client.cookies
    attacker.logout()
    assert_refused(post_response(attacker, profile, xml), "replayed_assertion")


def test_acs_replay_refused_after_the_cache_lost_its_data(client, profile, idp, spec):
    """A Redis restart without persistence, or an eviction, forgets the cache's record of an
    assertion; the database's does not."""
    from django.core.cache import cache

    profile.allow_idp_initiated = True
    profile.save()
    xml = idp.signxml_response(spec)
    assert post_response(client, profile, xml).status_code == HTTPStatus.FOUND
    cache.clear()

    attacker = Client()
    assert_refused(post_response(attacker, profile, xml), "replayed_assertion")
    assert "_auth_user_id" not in attacker.session
    assert LoginEvent.objects.filter(outcome=LoginOutcome.SUCCESS).count() == 1


def test_acs_support_reference_is_opaque_and_unguessable(client, profile):
    """The user's reference is not the sequential event id, which leaks volume and can be
    guessed; support finds the event by it."""
    first = client.post(reverse("sso:saml2_acs", args=[profile.sid]), {"SAMLResponse": "%%%"})
    second = client.post(reverse("sso:saml2_acs", args=[profile.sid]), {"SAMLResponse": "%%%"})
    events = list(LoginEvent.objects.order_by("pk"))
    assert len({event.reference for event in events}) == 2
    for event, response in zip(events, (first, second), strict=True):
        assert re.fullmatch(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){3}", event.reference)
        assert event.reference in response.content.decode()
        assert f"<strong>{event.pk}</strong>" not in response.content.decode()
    assert LoginEvent.objects.get(reference=events[0].reference) == events[0]


def test_acs_flood_of_refusals_from_one_client_is_folded_not_stored(client, profile, settings):
    """An anonymous client posting junk cannot grow the login events table without bound."""
    settings.SSO_REFUSAL_EVENTS_PER_MINUTE = 5
    url = reverse("sso:saml2_acs", args=[profile.sid])
    for _ in range(40):
        response = client.post(url, {"SAMLResponse": "%%%"}, REMOTE_ADDR="203.0.113.5")
        assert response.status_code == HTTPStatus.BAD_REQUEST
    events = LoginEvent.objects.filter(client_ip="203.0.113.5")
    assert events.count() == 5
    assert events.order_by("-pk").first().repeats == 35
    assert events.order_by("-pk").first().reference in response.content.decode()

    client.post(url, {"SAMLResponse": "%%%"}, REMOTE_ADDR="198.51.100.1")
    assert LoginEvent.objects.filter(client_ip="198.51.100.1").count() == 1


def test_acs_request_answered_once_even_by_a_refused_answer(client, profile, idp, spec):
    request_id = start_login(client, profile)
    genuine = idp.signxml_response(spec.replace(in_response_to=request_id))
    tampered = genuine.replace("grace@acme.test", "ceo@acme.test")
    assert_refused(post_response(client, profile, tampered), "signature_invalid")

    assert_refused(post_response(client, profile, genuine), "unknown_in_response_to")
    assert not User.objects.filter(email="grace@acme.test").exists()


def test_acs_missing_nameid_refused(client, profile, idp, spec):
    request_id = start_login(client, profile)
    spec = spec.replace(in_response_to=request_id)
    assertion = etree.fromstring(idp.assertion_xml(spec))
    subject = assertion.find(f"{{{SAML_NS}}}Subject")
    subject.remove(subject.find(f"{{{SAML_NS}}}NameID"))
    signed_assertion = etree.tostring(idp.sign(assertion, spec.assertion_id)).decode()
    xml = idp.sign_response(spec, signed_assertion)
    assert_refused(post_response(client, profile, xml), "missing_nameid")


@pytest.mark.parametrize(
    "payload",
    [
        "this is not XML",
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x "y">]><samlp:Response '
        'xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&x;</samlp:Response>',
        '<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>',
    ],
    ids=["not-xml", "doctype", "not-a-response"],
)
def test_acs_malformed_response_refused(client, profile, payload):
    response = post_response(client, profile, payload)
    assert_refused(response, "malformed_response", HTTPStatus.BAD_REQUEST)


def test_acs_two_assertions_refused(client, profile, idp, spec):
    request_id = start_login(client, profile)
    spec = spec.replace(in_response_to=request_id)
    first = idp.signed_assertion(spec)
    second = idp.signed_assertion(spec.replace(assertion_id=new_id(), email="other@acme.test"))
    xml = idp.sign_response(spec, first + second)
    assert_refused(
        post_response(client, profile, xml), "malformed_response", HTTPStatus.BAD_REQUEST
    )


def test_acs_inactive_profile_refused(client, profile, idp, spec):
    request_id = start_login(client, profile)
    profile.status = ProfileStatus.DISABLED
    profile.save()
    xml = idp.signxml_response(spec.replace(in_response_to=request_id))
    assert_refused(post_response(client, profile, xml), "profile_inactive")


def test_login_start_for_inactive_profile_refused(client):
    profile = ActiveProfileFactory(status=ProfileStatus.CONFIGURED)
    response = client.get(reverse("sso:saml2_login", args=[profile.sid]))
    assert_refused(response, "profile_inactive")


def test_acs_unknown_user_refused_when_profile_does_not_create_users(client, profile, idp, spec):
    profile.jit_provisioning = False
    profile.save()
    request_id = start_login(client, profile)
    xml = idp.signxml_response(spec.replace(in_response_to=request_id))
    assert_refused(post_response(client, profile, xml), "user_not_provisioned")
    assert not User.objects.filter(email="grace@acme.test").exists()


def test_acs_deactivated_user_refused(client, profile, idp, spec):
    user = UserFactory(email="grace@acme.test", is_active=False)
    membership = MembershipFactory(user=user, organization=profile.organization)
    request_id = start_login(client, profile)
    xml = idp.signxml_response(spec.replace(in_response_to=request_id))
    assert_refused(post_response(client, profile, xml), "user_inactive")
    membership.refresh_from_db()
    assert membership.last_sign_in_at is None  # the refused sign-in is not recorded


@pytest.mark.parametrize("failing_step", ["login event", "session"])
def test_acs_sign_in_failing_half_way_signs_nobody_in(
    client, profile, idp, spec, monkeypatch, failing_step
):
    """The account, its sign-in and the login event are one transaction, and a session is
    only kept when it commits: a failure anywhere leaves no session, no success event and
    no account created just in time."""
    from django.contrib import auth

    from sso.login import services as login_services

    def fail_after(function):
        def failing(*args, **kwargs):
            result = function(*args, **kwargs)
            if kwargs.get("outcome", LoginOutcome.SUCCESS) == LoginOutcome.SUCCESS:
                raise RuntimeError("the database went away")
            return result

        return failing

    if failing_step == "login event":
        monkeypatch.setattr(
            login_services, "login_event_record", fail_after(login_services.login_event_record)
        )
    else:
        monkeypatch.setattr(auth, "login", fail_after(auth.login))
    request_id = start_login(client, profile)
    xml = idp.signxml_response(spec.replace(in_response_to=request_id))

    response = post_response(client, profile, xml)

    assert_refused(response, "internal_error")
    assert not LoginEvent.objects.filter(outcome=LoginOutcome.SUCCESS).exists()
    assert not User.objects.filter(email="grace@acme.test").exists()
    assert "_auth_user_id" not in client.session


# Attacks ---------------------------------------------------------------------------------------


SAMLP_NS = "urn:oasis:names:tc:SAML:2.0:protocol"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"


def _xsw_variants(idp: TestIdP, spec: ResponseSpec) -> dict[str, str]:
    """Signature wrapping: the legitimately signed message plus an unsigned evil assertion.

    Variants after Somorovsky et al., "On Breaking SAML" (XSW1-XSW8).
    """
    signed = idp.signxml_response(spec)
    evil_spec = spec.replace(email="ceo@acme.test")

    def evil(*, same_id: bool = True) -> etree._Element:
        element = etree.fromstring(idp.strip_placeholder(idp.assertion_xml(evil_spec)))
        if same_id:
            element.set("ID", spec.assertion_id)
        return element

    def document() -> tuple[etree._Element, etree._Element]:
        root = etree.fromstring(signed)
        return root, root.find(f"{{{SAML_NS}}}Assertion")

    variants: dict[str, etree._Element] = {}

    root, assertion = document()
    assertion.addprevious(evil())
    variants["xsw3-sibling-before"] = root

    root, assertion = document()
    assertion.addnext(evil(same_id=False))
    variants["xsw5-sibling-after"] = root

    root, assertion = document()
    wrapper = evil()
    assertion.addprevious(wrapper)
    wrapper.append(assertion)
    variants["xsw4-wrapping"] = root

    root, assertion = document()
    assertion.addprevious(evil())
    extensions = etree.Element(f"{{{SAMLP_NS}}}Extensions")
    root.find(f"{{{SAML_NS}}}Issuer").addnext(extensions)
    extensions.append(assertion)
    variants["xsw7-extensions"] = root

    root, assertion = document()
    wrapper = evil()
    signature = __import__("copy").deepcopy(assertion.find(f"{{{DS_NS}}}Signature"))
    wrapper.find(f"{{{SAML_NS}}}Issuer").addnext(signature)
    etree.SubElement(signature, f"{{{DS_NS}}}Object").append(assertion)
    root.find(f"{{{SAMLP_NS}}}Status").addnext(wrapper)
    variants["xsw6-signature-object"] = root

    outer = etree.fromstring(
        idp.strip_placeholder(idp.response_xml(spec.replace(response_id=new_id()), ""))
    )
    outer.append(evil(same_id=False))
    extensions = etree.SubElement(outer, f"{{{SAMLP_NS}}}Extensions")
    extensions.append(etree.fromstring(signed))
    variants["xsw1-response-wrap"] = outer

    return {name: etree.tostring(root).decode() for name, root in variants.items()}


@pytest.mark.parametrize(
    "variant",
    [
        "xsw1-response-wrap",
        "xsw3-sibling-before",
        "xsw4-wrapping",
        "xsw5-sibling-after",
        "xsw6-signature-object",
        "xsw7-extensions",
    ],
)
def test_acs_signature_wrapping_refused(client, profile, idp, spec, variant):
    profile.allow_idp_initiated = True
    profile.save()
    xml = _xsw_variants(idp, spec)[variant]
    assert "ceo@acme.test" in xml and "grace@acme.test" in xml

    response = post_response(client, profile, xml)

    assert response.status_code in (HTTPStatus.BAD_REQUEST, HTTPStatus.FORBIDDEN)
    assert last_event().outcome == "failure"
    assert last_event().reason in {"malformed_response", "signature_invalid", "response_unsigned"}
    assert not User.objects.filter(email="ceo@acme.test").exists()
    assert "_auth_user_id" not in client.session


def test_acs_nameid_comment_injection_reads_whole_signed_value(client, profile, idp, spec):
    TrustedDomainFactory(profile=profile, domain="*.acme.test")
    request_id = start_login(client, profile)
    xml = idp.signxml_response(
        spec.replace(in_response_to=request_id, email="user@evil.test.acme.test")
    )
    # Comments are outside the canonical form, so the signature still verifies.
    injected = xml.replace(">user@evil.test.acme.test<", ">user@evil.test<!---->.acme.test<")
    assert injected != xml

    response = post_response(client, profile, injected)

    assert response.status_code == HTTPStatus.FOUND
    assert response.wsgi_request.user.email == "user@evil.test.acme.test"
    assert not User.objects.filter(email="user@evil.test").exists()


def test_acs_other_organizations_user_refused(client, profile, idp, spec):
    """Org A's IdP vouches for a user of org B's domain: refused, and B's user is untouched."""
    other = ActiveProfileFactory(domain__domain="beta.test")
    bob = UserFactory(email="bob@beta.test")
    MembershipFactory(user=bob, organization=other.organization, role=Role.OWNER)
    request_id = start_login(client, profile)

    xml = idp.signxml_response(spec.replace(in_response_to=request_id, email="bob@beta.test"))
    response = post_response(client, profile, xml)

    assert_refused(response, "domain_not_trusted")
    assert not Membership.objects.filter(user=bob, organization=profile.organization).exists()


def test_acs_response_for_one_profile_refused_at_another(client, profile, idp, spec):
    other = ActiveProfileFactory(domain__domain="beta.test", allow_idp_initiated=True)
    xml = idp.signxml_response(spec)
    assert_refused(post_response(client, other, xml), "issuer_mismatch")


def test_acs_refusal_page_does_not_echo_response_content(client, profile, idp, spec):
    request_id = start_login(client, profile)
    xml = idp.signxml_response(
        spec.replace(in_response_to=request_id, email="<script>x</script>@other.test")
    )
    response = post_response(client, profile, xml)
    assert "<script>x" not in response.content.decode()


# Accounts an SSO login reaches ---------------------------------------------------------------


def test_acs_first_sso_login_takes_a_pre_registered_account_back_from_the_squatter(
    client, profile, idp, spec
):
    """Issue 20, item 1: an attacker signs up as the CEO before Victim turns SSO on."""
    profile.status = ProfileStatus.TESTED
    profile.save()
    attacker = Client()
    attacker.post(
        reverse("sso:signup"),
        {
            "email": "ceo@acme.test",
            "password": "a long unusual passphrase 42",
            "organization_name": "Shadow",
        },
    )
    profile.status = ProfileStatus.ACTIVE
    profile.save()

    request_id = start_login(client, profile)
    spec = spec.replace(in_response_to=request_id, email="ceo@acme.test")
    assert post_response(client, profile, idp.signxml_response(spec)).status_code == 302

    ceo = User.objects.get(email="ceo@acme.test")
    assert Membership.objects.filter(user=ceo, organization=profile.organization).exists()
    assert not ceo.has_usable_password()
    assert AuditEvent.objects.filter(
        action=AuditAction.PASSWORD_DISABLED_BY_SSO, actor=ceo, profile=profile
    ).exists()
    assert attacker.get(reverse("sso:console")).status_code == HTTPStatus.FOUND, "no session"
    attacker.post(reverse("sso:login"), {"email": "ceo@acme.test", "use_password": "1"})
    refused = attacker.post(
        reverse("sso:login_password"), {"password": "a long unusual passphrase 42"}
    )
    assert refused.status_code == HTTPStatus.BAD_REQUEST
    assert "Your email or password is incorrect." in refused.content.decode()
    assert "_auth_user_id" not in attacker.session
    assert client.get(reverse("sso:console")).status_code == HTTPStatus.OK


def test_acs_invitee_signs_in_through_sso_then_accepts_the_invitation(client, profile, idp, spec):
    """Issue 20, item 2: another organization's invitation to an SSO member is accepted only
    after that member's own IdP signed them in, back on the invitation."""
    member = MembershipFactory(organization=profile.organization, user__email="grace@acme.test")
    other = MembershipFactory(role=Role.OWNER, user__email="boss@b.test")
    _, link = invitation_create(
        organization=other.organization, actor=other.user, email="grace@acme.test", role="admin"
    )
    path = link.removeprefix("https://sso.test")
    sign_in = client.post(path)
    assert sign_in["Location"].startswith(reverse("sso:saml2_login", args=[profile.sid]))
    assert not Membership.objects.filter(organization=other.organization, user=member.user)

    request_id = start_login(client, profile, next_path=path)
    response = post_response(
        client, profile, idp.signxml_response(spec.replace(in_response_to=request_id))
    )
    assert response["Location"] == path
    assert "Accept as grace@acme.test" in client.get(path).content.decode()
    assert client.post(path)["Location"] == reverse("sso:console")
    assert Membership.objects.get(organization=other.organization, user=member.user).role == (
        Role.ADMIN
    )
