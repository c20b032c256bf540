"""IdP metadata by URL, refreshed against a real HTTPS server (and a real DNS server); with
step 4's and the CLI's use of it, which need the same servers."""

from __future__ import annotations

import datetime as dt
import json
from http import HTTPStatus
from io import StringIO
from string import Template
from types import SimpleNamespace

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from sso.crypto import certificate_body
from sso.models import AuditAction, AuditEvent, ProfileStatus, Role
from sso.profiles.metadata_refresh import (
    profile_metadata_approve,
    profile_metadata_dismiss,
    profile_metadata_fetch,
    profile_metadata_refresh,
    profiles_metadata_refresh,
)
from sso.saml.metadata import MAX_METADATA_BYTES
from sso.validators import parse_certificate
from tests.factories import (
    ActiveProfileFactory,
    IdPCertificateFactory,
    MembershipFactory,
    OrganizationFactory,
    SSOProfileFactory,
)
from tests.fixtures.dns import Answer, Zone, self_signed, start_dns, start_https
from tests.fixtures.idp import FIXTURES, KeyPair, ResponseSpec, TestIdP
from tests.saml.test_acs import assert_refused, post_response, sign_in_once, start_login

pytestmark = pytest.mark.django_db

HOST = "idp.acme.test"
DOCUMENT = Template((FIXTURES / "idp_metadata_refreshed.xml").read_text())
KEY_DESCRIPTOR = Template((FIXTURES / "key_descriptor.xml").read_text())


@pytest.fixture
def zone(settings):
    zone = Zone()
    server, port = start_dns(zone)
    settings.SSO_DNS_NAMESERVER = f"127.0.0.1:{port}"
    settings.SSO_DNS_TIMEOUT_SECONDS = 0.4
    settings.SSO_METADATA_TIMEOUT_SECONDS = 2
    zone.a[HOST] = "127.0.0.1"
    yield zone
    server.stop()


@pytest.fixture
def served(settings, tmp_path, zone):
    """What the IdP's HTTPS server answers, by path; private addresses allowed (loopback)."""
    files: dict[str, str | Answer] = {}
    cert, key = self_signed(tmp_path, HOST)
    server = start_https(files, cert, key)
    settings.SSO_DOMAIN_HTTPS_CA_FILE = str(cert)
    settings.SSO_DOMAIN_HTTPS_ALLOW_PRIVATE = True
    yield SimpleNamespace(files=files, port=server.server_address[1])
    server.shutdown()


def url(served, path: str = "/metadata", host: str = HOST) -> str:
    return f"https://{host}:{served.port}{path}"


def document(profile, *certificates: str, issuer: str | None = None, freshness: str = "") -> str:
    return DOCUMENT.substitute(
        entity_id=issuer or profile.idp_issuer,
        sso_url=profile.idp_sso_url,
        freshness=freshness,
        key_descriptors="".join(
            KEY_DESCRIPTOR.substitute(certificate=certificate_body(pem)) for pem in certificates
        ),
    )


def fingerprint(pem: str) -> str:
    return parse_certificate(pem).fingerprint_sha256


@pytest.fixture
def profile(served, admin, idp_keys):
    profile = ActiveProfileFactory(organization=admin.organization)
    profile.metadata_url = url(served)
    profile.save()
    served.files["/metadata"] = document(profile, idp_keys.certificate_pem)
    return profile


def refresh(profile, now=None):
    profile.refresh_from_db()
    return profile_metadata_refresh(profile=profile, now=now or timezone.now())


def test_refresh_unchanged_records_fetch_and_schedules_next_in_about_a_day(profile):
    now = timezone.now()
    outcome = refresh(profile, now)

    profile.refresh_from_db()
    assert (outcome.error, outcome.changes) == ("", {})
    assert profile.metadata_fetched_at == now
    assert len(profile.metadata_digest) == 64
    assert (
        now + dt.timedelta(hours=21) <= profile.metadata_refresh_at <= now + dt.timedelta(hours=24)
    )
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("freshness", "within"),
    [
        ('cacheDuration="PT6H"', dt.timedelta(hours=6)),
        ('cacheDuration="PT1M"', dt.timedelta(hours=1)),  # never more often than hourly
        ('validUntil="{in_3h}"', dt.timedelta(hours=3)),
    ],
)
def test_refresh_honours_cache_duration_and_valid_until_never_within_the_hour(
    profile, served, idp_keys, freshness, within
):
    now = timezone.now()
    in_3h = (now + dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    served.files["/metadata"] = document(
        profile, idp_keys.certificate_pem, freshness=freshness.format(in_3h=in_3h)
    )
    refresh(profile, now)

    profile.refresh_from_db()
    assert now + dt.timedelta(hours=1) <= profile.metadata_refresh_at <= now + within


def test_refresh_adopts_a_new_signing_certificate_at_once_audited_and_notified(
    profile, served, idp_keys, foreign_keys, admin
):
    owner = MembershipFactory(organization=profile.organization, role=Role.OWNER)
    MembershipFactory(organization=profile.organization, role=Role.MEMBER)
    served.files["/metadata"] = document(
        profile, idp_keys.certificate_pem, foreign_keys.certificate_pem
    )

    outcome = refresh(profile)

    new = fingerprint(foreign_keys.certificate_pem)
    assert outcome.changes["certificates_added"] == [new]
    assert profile.certificates.filter(fingerprint_sha256=new).exists()
    assert profile.certificates.count() == 2
    profile.refresh_from_db()
    assert profile.status == ProfileStatus.ACTIVE
    event = AuditEvent.objects.get(action=AuditAction.METADATA_REFRESHED)
    assert (event.actor, event.changes["certificates_added"]) == (None, [new])
    assert sorted(m.to[0] for m in mail.outbox) == sorted([admin.user.email, owner.user.email])
    assert new in mail.outbox[0].body


def test_refresh_drops_a_removed_certificate_only_after_its_last_use_and_the_acs_refuses_it(
    profile, served, idp_keys, foreign_keys
):
    """Reproduces the field outage the other way round: the IdP stops listing its old
    certificate while it still signs with it; the profile keeps it until the new one has taken
    over, and from the refresh that drops it on, no worker trusts it."""
    spec = ResponseSpec.for_profile(profile)
    old_idp = TestIdP(idp_keys, entity_id=profile.idp_issuer)
    new_idp = TestIdP(foreign_keys, entity_id=profile.idp_issuer)
    old = fingerprint(idp_keys.certificate_pem)
    sign_in_once(Client(), profile, old_idp, spec, email="ada@acme.test")  # warms the cache
    served.files["/metadata"] = document(profile, foreign_keys.certificate_pem)

    refresh(profile)  # adopts the new one; the old one verified a sign-in just now: kept
    assert profile.certificates.count() == 2

    sign_in_once(Client(), profile, old_idp, spec, email="ada@acme.test")
    refresh(profile)  # the IdP still signs with the old one
    assert profile.certificates.filter(fingerprint_sha256=old).exists()

    sign_in_once(Client(), profile, new_idp, spec, email="grace@acme.test")
    outcome = refresh(profile)  # the new one took over: the old one has stopped verifying

    assert outcome.changes["certificates_dropped"] == [old]
    assert list(profile.certificates.values_list("fingerprint_sha256", flat=True)) == [
        fingerprint(foreign_keys.certificate_pem)
    ]
    client = Client()
    request_id = start_login(client, profile)
    xml = old_idp.signxml_response(spec.replace(in_response_to=request_id))
    assert_refused(post_response(client, profile, xml), "signature_invalid")


def test_refresh_drops_a_removed_certificate_unused_lately(profile, served, foreign_keys):
    IdPCertificateFactory(profile=profile, pem=foreign_keys.certificate_pem)
    old = fingerprint(foreign_keys.certificate_pem)
    served.files["/metadata"] = document(
        profile, profile.certificates.exclude(fingerprint_sha256=old).get().pem
    )

    outcome = refresh(profile)

    assert outcome.changes["certificates_dropped"] == [old]
    assert profile.certificates.count() == 1


def test_refresh_without_room_for_a_new_certificate_fails_and_keeps_both(
    profile, served, idp_keys, foreign_keys
):
    third = KeyPair.generate("Third").certificate_pem
    IdPCertificateFactory(profile=profile, pem=foreign_keys.certificate_pem)
    served.files["/metadata"] = document(
        profile, idp_keys.certificate_pem, foreign_keys.certificate_pem, third
    )

    outcome = refresh(profile)

    assert "already trusts two" in outcome.error
    assert profile.certificates.count() == 2


def test_refresh_holds_an_entity_id_change_for_approval_with_its_diff(
    profile, served, idp_keys, admin
):
    before = profile.idp_issuer
    served.files["/metadata"] = document(
        profile, idp_keys.certificate_pem, issuer="https://new-idp.acme.test/saml"
    )

    refresh(profile)

    profile.refresh_from_db()
    assert profile.idp_issuer == before
    assert profile.metadata_pending == {
        "changes": {"idp_issuer": [before, "https://new-idp.acme.test/saml"]},
        "dismissed": False,
    }
    held = AuditEvent.objects.get(action=AuditAction.METADATA_CHANGE_HELD)
    assert held.changes["pending"] == {"idp_issuer": [before, "https://new-idp.acme.test/saml"]}
    assert "https://new-idp.acme.test/saml" in mail.outbox[0].body

    refresh(profile)  # the same change again: not raised twice
    assert len(mail.outbox) == 1

    profile_metadata_approve(profile=profile, actor=admin.user)

    profile.refresh_from_db()
    assert (profile.idp_issuer, profile.metadata_pending) == (
        "https://new-idp.acme.test/saml",
        {},
    )
    assert AuditEvent.objects.filter(
        action=AuditAction.METADATA_CHANGE_APPROVED, actor=admin.user
    ).exists()


def test_dismissed_change_is_not_raised_again_but_a_newer_one_is(profile, served, idp_keys, admin):
    served.files["/metadata"] = document(
        profile, idp_keys.certificate_pem, issuer="https://b.test/"
    )
    refresh(profile)
    profile_metadata_dismiss(profile=profile, actor=admin.user)
    refresh(profile)
    profile.refresh_from_db()
    assert profile.metadata_pending["dismissed"] is True
    assert len(mail.outbox) == 1

    served.files["/metadata"] = document(
        profile, idp_keys.certificate_pem, issuer="https://c.test/"
    )
    refresh(profile)

    profile.refresh_from_db()
    assert profile.metadata_pending["dismissed"] is False
    assert len(mail.outbox) == 2


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (Answer(503, "busy"), "answered HTTP 503"),
        ("<not xml", "This is not XML"),
        ("x" * (MAX_METADATA_BYTES + 1), "too large"),
        (Answer(302, headers={"Location": "https://evil.test/metadata"}), "another host"),
    ],
    ids=["5xx", "malformed", "oversized", "redirect-to-other-host"],
)
def test_refresh_failure_keeps_the_last_good_copy_and_records_why(
    profile, served, idp_keys, foreign_keys, answer, expected
):
    refresh(profile)
    profile.refresh_from_db()
    good_digest, good_fetch = profile.metadata_digest, profile.metadata_fetched_at
    certificates = list(profile.certificates.values_list("fingerprint_sha256", flat=True))
    served.files["/metadata"] = answer
    now = timezone.now()

    outcome = refresh(profile, now)

    profile.refresh_from_db()
    assert expected in outcome.error
    assert expected in profile.metadata_error
    assert profile.metadata_error_at == now
    assert (profile.metadata_digest, profile.metadata_fetched_at) == (good_digest, good_fetch)
    assert list(profile.certificates.values_list("fingerprint_sha256", flat=True)) == certificates
    assert profile.metadata_refresh_at >= now + dt.timedelta(hours=1)
    assert AuditEvent.objects.filter(action=AuditAction.METADATA_REFRESH_FAILED).count() == 1


def test_fetch_follows_a_redirect_on_the_same_host(profile, served):
    served.files["/old"] = Answer(301, headers={"Location": "/metadata"})

    fetched = profile_metadata_fetch(url=url(served, "/old"))

    assert fetched.metadata.issuer == profile.idp_issuer


def test_fetch_refuses_private_addresses_unless_allowed(profile, served, settings):
    settings.SSO_DOMAIN_HTTPS_ALLOW_PRIVATE = False
    for target in (url(served), url(served, host="127.0.0.1"), url(served, host="[::1]")):
        with pytest.raises(ValidationError) as caught:
            profile_metadata_fetch(url=target)
        assert caught.value.code == "metadata_url_private"


@pytest.mark.parametrize(
    "target", ["http://idp.acme.test/metadata", "https://user:pw@idp.acme.test/metadata"]
)
def test_fetch_refuses_plain_http_and_credentials(served, target):
    with pytest.raises(ValidationError) as caught:
        profile_metadata_fetch(url=target)
    assert caught.value.code == "metadata_url_not_https"


def test_refresh_command_runs_due_profiles_once(profile, served, foreign_keys, idp_keys):
    served.files["/metadata"] = document(
        profile, idp_keys.certificate_pem, foreign_keys.certificate_pem
    )
    profile.metadata_refresh_at = None
    profile.save()
    output = StringIO()

    call_command("refresh_metadata", stdout=output)
    call_command("refresh_metadata", stdout=output)  # nothing due any more

    assert "0 unchanged, 1 changed, 0 failed" in output.getvalue()
    assert "0 unchanged, 0 changed, 0 failed" in output.getvalue()
    assert profiles_metadata_refresh(now=timezone.now()) == {
        "refreshed": 0,
        "changed": 0,
        "failed": 0,
    }


# Step 4 of the wizard and the CLI ------------------------------------------------------------


def test_wizard_import_by_url_fills_the_form_and_save_stores_the_url(
    admin_client, served, admin, idp_keys
):
    draft = SSOProfileFactory(organization=admin.organization)
    page = reverse("sso:wizard_idp_metadata", args=[draft.sid])
    draft.idp_issuer, draft.idp_sso_url = "https://idp.acme.test/saml", "https://idp.acme.test/sso"
    served.files["/metadata"] = document(draft, idp_keys.certificate_pem)

    response = admin_client.post(page, {"import": "1", "metadata_url": url(served)})

    form = response.context["form"]
    assert response.status_code == HTTPStatus.OK
    assert (form.initial["idp_issuer"], form.initial["metadata_url"]) == (
        "https://idp.acme.test/saml",
        url(served),
    )
    draft.refresh_from_db()
    assert draft.metadata_url == ""  # nothing saved until Save & Continue

    data = {
        "name": "Okta",
        "idp_kind": "other",
        "idp_issuer": form.initial["idp_issuer"],
        "idp_sso_url": form.initial["idp_sso_url"],
        "certificate": form.initial["certificate"],
        "domains": "acme.test",
        "jit_provisioning": "on",
        "jit_role": Role.MEMBER,
        "metadata_url": url(served),
        "save": "1",
    }
    assert admin_client.post(page, data).status_code == HTTPStatus.FOUND
    draft.refresh_from_db()
    assert draft.metadata_url == url(served)
    assert draft.metadata_refresh_at is not None  # due: the next run fetches it


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (Answer(500), "answered HTTP 500"),
        (Answer(302, headers={"Location": "https://evil.test/"}), "redirects to another host"),
    ],
)
def test_wizard_import_by_url_error_beside_the_field(admin_client, served, admin, answer, message):
    draft = SSOProfileFactory(organization=admin.organization)
    served.files["/metadata"] = answer

    response = admin_client.post(
        reverse("sso:wizard_idp_metadata", args=[draft.sid]),
        {"import": "1", "metadata_url": url(served)},
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert message in " ".join(response.context["import_form"].errors["metadata_url"])


def test_wizard_shows_a_held_change_and_approve_applies_it(admin_client, profile, served, idp_keys):
    served.files["/metadata"] = document(
        profile, idp_keys.certificate_pem, issuer="https://new-idp.acme.test/saml"
    )
    refresh(profile)
    page = reverse("sso:wizard_idp_metadata", args=[profile.sid])

    content = admin_client.get(page).content.decode()

    assert "metadata now says" in content
    assert "https://new-idp.acme.test/saml" in content
    response = admin_client.post(
        reverse("sso:wizard_metadata_change", args=[profile.sid]), {"decision": "approve"}
    )
    assert response.status_code == HTTPStatus.FOUND
    profile.refresh_from_db()
    assert profile.idp_issuer == "https://new-idp.acme.test/saml"
    assert "now says" not in admin_client.get(page).content.decode()


def test_wizard_shows_why_the_last_refresh_failed(admin_client, profile, served):
    refresh(profile)
    served.files["/metadata"] = Answer(503)
    refresh(profile)

    content = admin_client.get(reverse("sso:wizard_idp_metadata", args=[profile.sid])).content

    assert b"answered HTTP 503" in content
    assert b"keeps working with the copy fetched" in content


def test_cli_create_with_metadata_url_fetches_and_stores_it(served, idp_keys):
    OrganizationFactory(slug="acme")
    template = SSOProfileFactory.build(
        idp_issuer="https://idp.acme.test/saml", idp_sso_url="https://idp.acme.test/sso"
    )
    served.files["/metadata"] = document(template, idp_keys.certificate_pem)
    out = StringIO()

    call_command(
        "sso_profile",
        "create",
        "--org",
        "acme",
        "--name",
        "Okta",
        "--domain",
        "acme.test",
        "--metadata-url",
        url(served),
        "--json",
        stdout=out,
    )

    created = json.loads(out.getvalue())
    assert (created["idp_issuer"], created["metadata_url"]) == (
        "https://idp.acme.test/saml",
        url(served),
    )
    assert created["certificates"][0]["fingerprint_sha256"] == fingerprint(idp_keys.certificate_pem)


def test_cli_metadata_url_at_a_private_address_refused(served, settings):
    settings.SSO_DOMAIN_HTTPS_ALLOW_PRIVATE = False
    OrganizationFactory(slug="acme")

    with pytest.raises(CommandError, match="--metadata-url: This URL's host has no public"):
        call_command(
            "sso_profile",
            "create",
            "--org",
            "acme",
            "--name",
            "Okta",
            "--domain",
            "acme.test",
            "--metadata-url",
            url(served),
        )


def test_cli_update_with_empty_metadata_url_stops_the_refresh(profile):
    call_command("sso_profile", "update", profile.sid, "--metadata-url", "", stdout=StringIO())

    profile.refresh_from_db()
    assert (profile.metadata_url, profile.metadata_refresh_at) == ("", None)


def test_refresh_of_metadata_past_its_valid_until_keeps_the_last_good_copy(
    profile, served, idp_keys, foreign_keys
):
    past = (timezone.now() - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    served.files["/metadata"] = document(
        profile, foreign_keys.certificate_pem, freshness=f'validUntil="{past}"'
    )

    outcome = refresh(profile)

    assert "validUntil has passed" in outcome.error
    assert list(profile.certificates.values_list("pem", flat=True)) == [idp_keys.certificate_pem]


def test_refresh_holds_a_new_single_logout_url_for_approval(profile, served, idp_keys, admin):
    slo = (
        '<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" '
        'Location="https://idp.acme.test/slo"/>'
    )
    xml = document(profile, idp_keys.certificate_pem)
    served.files["/metadata"] = xml.replace(
        "<md:SingleSignOnService", slo + "<md:SingleSignOnService", 1
    )

    refresh(profile)

    profile.refresh_from_db()
    assert profile.idp_slo_url == ""
    assert profile.metadata_pending["changes"] == {"idp_slo_url": ["", "https://idp.acme.test/slo"]}

    profile_metadata_approve(profile=profile, actor=admin.user)

    profile.refresh_from_db()
    assert profile.idp_slo_url == "https://idp.acme.test/slo"
