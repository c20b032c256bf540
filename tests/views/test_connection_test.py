"""Test connection: a real round trip marked as the admin's test, with a result page and fixes."""

from __future__ import annotations

import datetime as dt
from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse

from sso.crypto import certificate_body, fingerprint_of
from sso.models import AuditAction, AuditEvent, LoginEvent, ProfileStatus, SubjectLink, User
from sso.profiles.diagnostics import FIXES, fix_for
from sso.reasons import Reason
from sso.saml.config import sp_acs_url, sp_entity_id
from tests.factories import ActiveProfileFactory, LoginEventFactory
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

ENCRYPTED = (FIXTURES / "encrypted_assertion.xml").read_text()


@pytest.fixture
def profile(admin):
    return ActiveProfileFactory(
        organization=admin.organization, status=ProfileStatus.CONFIGURED, idp_kind="okta"
    )


def start_test(client: Client, profile) -> tuple[ResponseSpec, str]:
    response = client.post(reverse("sso:wizard_test", args=[profile.sid]))
    assert response.status_code == HTTPStatus.FOUND
    request, query = authn_request_from_redirect(response["Location"])
    spec = ResponseSpec.for_profile(
        profile,
        in_response_to=request.get("ID"),
        attributes={"givenName": "Grace", "sn": "Hopper", "groups": "<b>admins</b>"},
    )
    return spec, query["RelayState"]


def post(client: Client, profile, xml: str, relay_state: str | None):
    data = {"SAMLResponse": encode(xml)}
    if relay_state is not None:
        data["RelayState"] = relay_state
    return client.post(reverse("sso:saml2_acs", args=[profile.sid]), data)


def result_page(client: Client, response) -> str:
    assert response.status_code == HTTPStatus.FOUND
    page = client.get(response["Location"])
    assert page.status_code == HTTPStatus.OK
    return page.content.decode()


def test_start_sends_signed_request_marked_as_test(admin_client, profile, admin):
    spec, relay_state = start_test(admin_client, profile)
    assert relay_state == f"test:{spec.in_response_to}"


def test_draft_profile_cannot_be_tested_yet(admin_client, admin):
    draft = ActiveProfileFactory(
        organization=admin.organization, status=ProfileStatus.DRAFT, idp_issuer="", certificate=None
    )
    response = admin_client.post(reverse("sso:wizard_test", args=[draft.sid]))
    assert response["Location"] == reverse("sso:wizard_idp_metadata", args=[draft.sid])


def test_success_shows_diagnostics_marks_tested_and_keeps_admin_signed_in(
    admin_client, profile, idp, admin
):
    spec, relay_state = start_test(admin_client, profile)

    response = post(admin_client, profile, idp.signxml_response(spec), relay_state)
    content = result_page(admin_client, response)

    assert "The connection works." in content
    assert "grace@acme.test" in content
    assert "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress" in content
    assert profile.idp_issuer in content
    assert "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" in content
    assert profile.certificates.get().fingerprint_sha256 in content
    assert "s (IdP minus us)" in content
    assert "acme.test is a trusted domain" in content
    assert "Hopper" in content
    assert "&lt;b&gt;admins&lt;/b&gt;" in content and "<b>admins</b>" not in content
    assert ">Activate</button>" in content
    profile.refresh_from_db()
    assert (profile.status, profile.last_test_outcome, profile.last_test_code) == (
        ProfileStatus.TESTED,
        "success",
        "ok",
    )
    event = LoginEvent.objects.get(is_test=True)
    assert (event.outcome, event.user) == ("success", None)
    audit = AuditEvent.objects.get(action=AuditAction.TESTED)
    assert audit.actor == admin.user
    assert admin_client.get(reverse("sso:console")).wsgi_request.user == admin.user


def test_success_with_untrusted_domain_says_so(admin_client, profile, idp):
    spec, relay_state = start_test(admin_client, profile)
    xml = idp.signxml_response(spec.replace(email="grace@elsewhere.test"))
    content = result_page(admin_client, post(admin_client, profile, xml, relay_state))
    assert "elsewhere.test is not a trusted domain of this profile" in content


def test_test_response_cannot_be_replayed_as_a_real_login(admin_client, profile, idp):
    profile.status = ProfileStatus.ACTIVE
    profile.save()
    spec, relay_state = start_test(admin_client, profile)
    xml = idp.signxml_response(spec)
    post(admin_client, profile, xml, relay_state)

    victim = Client()
    victim.cookies = admin_client.cookies
    response = post(victim, profile, xml, None)

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert LoginEvent.objects.first().reason == "replayed_assertion"


def test_unused_test_request_never_signs_anybody_in(admin_client, profile, idp):
    profile.status = ProfileStatus.ACTIVE
    profile.save()
    spec, _ = start_test(admin_client, profile)

    response = post(admin_client, profile, idp.signxml_response(spec), relay_state=None)

    assert response.status_code == HTTPStatus.FORBIDDEN
    event = LoginEvent.objects.first()
    assert (event.reason, event.is_test) == ("unknown_in_response_to", False)
    assert response.wsgi_request.user.email == "admin@acme.test"


def test_test_started_in_another_browser_is_not_honoured(admin_client, profile, idp, admin):
    spec, relay_state = start_test(admin_client, profile)
    other_browser = Client()
    response = post(other_browser, profile, idp.signxml_response(spec), relay_state)
    assert LoginEvent.objects.first().is_test is False
    assert response.status_code == HTTPStatus.FORBIDDEN


def _foreign(idp_keys, foreign_keys, profile):
    return TestIdP(foreign_keys, entity_id=profile.idp_issuer)


FAILURES = [
    (
        "audience",
        lambda idp, spec, p: idp.signxml_response(spec.replace(audience="https://wrong.test/sp")),
        "audience_mismatch",
        lambda p: ["https://wrong.test/sp", "Audience URI (SP Entity ID)", sp_entity_id(p)],
    ),
    (
        "assertion unsigned",
        lambda idp, spec, p: idp.signxml_response(spec, sign_assertion=False),
        "assertion_unsigned",
        lambda p: [
            "In Okta, Show Advanced Settings → Assertion Signature: Signed",
            "policy (both)",
            "Response signed",
        ],
    ),
    (
        "response unsigned",
        lambda idp, spec, p: idp.signxml_response(spec, sign_response=False),
        "response_unsigned",
        lambda p: [
            "The SAML Response is not signed",
            "policy (both)",
            "In Okta, Show Advanced Settings → Response: Signed",
            "Assertion signed",
        ],
    ),
    (
        "encrypted",
        lambda idp, spec, p: idp.sign_response(spec, ENCRYPTED.strip()),
        "encrypted_assertion_unsupported",
        lambda p: ["Turn encryption off", "Assertion Encryption: Unencrypted"],
    ),
    (
        "nameid unspecified",
        lambda idp, spec, p: idp.signxml_response(spec.replace(name_id_format=UNSPECIFIED_FORMAT)),
        "nameid_format",
        lambda p: [UNSPECIFIED_FORMAT, "Name ID format: EmailAddress"],
    ),
    (
        "clock ahead",
        lambda idp, spec, p: idp.signxml_response(
            spec.replace(not_before=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10))
        ),
        "not_yet_valid",
        lambda p: ["seconds ahead of ours", "NTP"],
    ),
    (
        "expired",
        lambda idp, spec, p: idp.signxml_response(
            spec.replace(
                not_before=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=20),
                not_on_or_after=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10),
            )
        ),
        "expired",
        lambda p: ["seconds before it arrived"],
    ),
    (
        "issuer",
        lambda idp, spec, p: idp.signxml_response(spec.replace(issuer="https://other.test/idp")),
        "issuer_mismatch",
        lambda p: ["https://other.test/idp", p.idp_issuer, "Issuer ID/URL"],
    ),
    (
        "destination",
        lambda idp, spec, p: idp.signxml_response(
            spec.replace(destination="https://wrong.test/acs", recipient=sp_acs_url(p))
        ),
        "destination_mismatch",
        lambda p: ["https://wrong.test/acs", sp_acs_url(p), "Single sign-on URL"],
    ),
    (
        "recipient",
        lambda idp, spec, p: idp.signxml_response(spec.replace(recipient="https://wrong.test/r")),
        "recipient_mismatch",
        lambda p: ["https://wrong.test/r", "Recipient URL and Destination URL", sp_acs_url(p)],
    ),
    (
        "idp error",
        lambda idp, spec, p: idp.signxml_response(
            spec.replace(status="urn:oasis:names:tc:SAML:2.0:status:Requester")
        ),
        "idp_status_error",
        lambda p: ["urn:oasis:names:tc:SAML:2.0:status:Requester", "assigned to the application"],
    ),
]


@pytest.mark.parametrize(
    ("label", "build", "reason", "expected"), FAILURES, ids=[f[0] for f in FAILURES]
)
def test_failure_shows_reason_and_fix_with_values(
    admin_client, profile, idp, label, build, reason, expected
):
    spec, relay_state = start_test(admin_client, profile)

    content = result_page(
        admin_client, post(admin_client, profile, build(idp, spec, profile), relay_state)
    )

    assert f'data-testid="reason-code">{reason}<' in content
    for text in expected(profile):
        assert text in content, text
    profile.refresh_from_db()
    assert (profile.status, profile.last_test_outcome, profile.last_test_code) == (
        ProfileStatus.CONFIGURED,
        "failure",
        reason,
    )


def test_failure_wrong_certificate_names_both_fingerprints(admin_client, profile, foreign_keys):
    attacker = TestIdP(foreign_keys, entity_id=profile.idp_issuer)
    spec, relay_state = start_test(admin_client, profile)

    content = result_page(
        admin_client, post(admin_client, profile, attacker.signxml_response(spec), relay_state)
    )

    signed_with = fingerprint_of(certificate_body(foreign_keys.certificate_pem))
    assert "signature_invalid" in content
    assert f"signed with the certificate whose SHA-256 fingerprint is {signed_with}" in content
    assert profile.certificates.get().fingerprint_sha256 in content


def test_every_reason_code_has_its_own_fix():
    profile = ActiveProfileFactory()
    fixes = set()
    for reason in Reason:
        assert reason.value in FIXES
        if reason == Reason.OK:
            continue
        text = fix_for(LoginEventFactory(profile=profile, reason=reason.value, detail={}), profile)
        assert text and "{" not in text
        fixes.add(text)
    assert len(fixes) == len(Reason) - 1


def test_login_events_page_lists_attempts_and_detail(admin_client, profile):
    LoginEventFactory(
        profile=profile,
        outcome="failure",
        reason="audience_mismatch",
        email="bob@acme.test",
        detail={"received": ["x"], "expected": sp_entity_id(profile)},
    )
    listing = admin_client.get(reverse("sso:profile_login_events", args=[profile.sid]))
    assert "bob@acme.test" in listing.content.decode()
    event = LoginEvent.objects.get()
    detail = admin_client.get(reverse("sso:profile_login_event", args=[profile.sid, event.pk]))
    assert "set Audience URI (SP Entity ID) to" in detail.content.decode()


def test_other_organizations_events_are_404(admin_client, profile):
    other_event = LoginEventFactory(profile=ActiveProfileFactory(domain__domain="beta.test"))
    url = reverse("sso:profile_login_event", args=[profile.sid, other_event.pk])
    assert admin_client.get(url).status_code == HTTPStatus.NOT_FOUND
    url = reverse("sso:profile_login_event", args=[other_event.profile.sid, other_event.pk])
    assert admin_client.get(url).status_code == HTTPStatus.NOT_FOUND


def test_activate_after_successful_test(admin_client, profile, idp):
    spec, relay_state = start_test(admin_client, profile)
    post(
        admin_client,
        profile,
        idp.signxml_response(spec.replace(assertion_id=new_id())),
        relay_state,
    )
    admin_client.post(reverse("sso:profile_activate", args=[profile.sid]))
    profile.refresh_from_db()
    assert profile.status == ProfileStatus.ACTIVE


def test_success_shows_which_elements_were_signed_under_which_policy(admin_client, profile, idp):
    profile.signature_policy = "assertion"
    profile.save()
    spec, relay_state = start_test(admin_client, profile)

    response = post(
        admin_client, profile, idp.signxml_response(spec, sign_response=False), relay_state
    )
    content = result_page(admin_client, response)

    assert "The connection works." in content
    assert 'data-testid="signed">assertion (signature policy: assertion)<' in content
    event = LoginEvent.objects.get(is_test=True)
    assert (event.detail["signed"], event.detail["signature_policy"]) == (
        ["assertion"],
        "assertion",
    )


def test_success_shows_received_beside_mapped_with_each_claims_source(admin_client, profile, idp):
    profile.email_attribute = "mail"
    profile.save()
    spec, relay_state = start_test(admin_client, profile)
    spec = spec.replace(
        email="ghopper",
        name_id_format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
        attributes={**spec.attributes, "mail": "Grace@ACME.test", "groups": ["eng", "<i>ops</i>"]},
    )

    content = result_page(
        admin_client, post(admin_client, profile, idp.signxml_response(spec), relay_state)
    )

    received = content[
        content.index('data-testid="attributes"') : content.index('data-testid="mapped"')
    ]
    assert "ghopper" in received and "nameid-format:persistent" in received
    assert "<code>mail</code></td><td>Grace@ACME.test" in received
    mapped = content[content.index('data-testid="mapped"') :]
    assert "<td>Email (the account)</td><td>grace@acme.test</td><td><code>mail</code>" in mapped
    assert "<td>First name</td><td>Grace</td><td><code>givenName</code>" in mapped
    assert "eng, &lt;i&gt;ops&lt;/i&gt;" in mapped and "<i>ops</i>" not in content
    assert 'data-testid="subject-note"' in content
    assert not User.objects.filter(email="grace@acme.test").exists(), "a test signs nobody in"
    assert not SubjectLink.objects.exists()


def test_missing_mapped_email_attribute_fails_the_test_with_the_names_received(
    admin_client, profile, idp
):
    profile.email_attribute = "mail"
    profile.save()
    spec, relay_state = start_test(admin_client, profile)

    content = result_page(
        admin_client, post(admin_client, profile, idp.signxml_response(spec), relay_state)
    )

    assert 'data-testid="reason-code">email_attribute_missing<' in content
    assert "The attributes received were: givenName, groups, sn." in content
    assert 'data-testid="attributes"' in content  # what did arrive, in full
    profile.refresh_from_db()
    assert profile.last_test_code == "email_attribute_missing"
