"""Domain verification against a real DNS server (dnslib on a loopback port) and real HTTPS."""

from __future__ import annotations

import datetime as dt
import re
from http import HTTPStatus
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from sso.domains.proof import WELL_KNOWN_PATH, expected_value
from sso.domains.selectors import profile_for_email
from sso.domains.services import domain_check, domain_mark_verified, domains_recheck
from sso.login.services import sso_user_for_login
from sso.models import AuditAction, AuditEvent, User, VerificationState
from sso.organizations.selectors import organization_enforcing_sso_for
from sso.profiles.services import profile_configure
from sso.reasons import LoginRefused, Reason
from sso.validators import normalize_domain_pattern
from tests.factories import (
    ActiveProfileFactory,
    MembershipFactory,
    SSOProfileFactory,
    TrustedDomainFactory,
    UserFactory,
    verified_login,
)
from tests.fixtures.dns import Zone, self_signed, start_dns, start_https

pytestmark = pytest.mark.django_db


@pytest.fixture
def zone(settings):
    zone = Zone(delay=1.0)
    server, port = start_dns(zone)
    settings.SSO_DNS_NAMESERVER = f"127.0.0.1:{port}"
    settings.SSO_DNS_TIMEOUT_SECONDS = 0.4
    settings.SSO_DOMAIN_HTTPS_TIMEOUT_SECONDS = 1
    yield zone
    server.stop()


@pytest.fixture
def https_files(settings, tmp_path, zone):
    files: dict[str, str] = {}
    cert, key = self_signed(tmp_path, "acme.test")
    server = start_https(files, cert, key)
    settings.SSO_DOMAIN_HTTPS_PORT = server.server_address[1]
    settings.SSO_DOMAIN_HTTPS_CA_FILE = str(cert)
    settings.SSO_DOMAIN_HTTPS_ALLOW_PRIVATE = True
    zone.a["acme.test"] = "127.0.0.1"
    yield files
    server.shutdown()


@pytest.fixture
def profile(admin):
    return ActiveProfileFactory(
        organization=admin.organization,
        domain__domain="acme.test",
        domain__verification_state=VerificationState.UNVERIFIED,
        domain__verified_at=None,
    )


@pytest.fixture
def domain(profile):
    return profile.domains.get(domain="acme.test")


def publish(zone: Zone, domain, value: str | None = None) -> None:
    zone.txt["_sso-challenge.acme.test"] = [value or expected_value(domain.verification_token)]


def test_verify_now_with_txt_record_verifies_domain_and_its_wildcard(admin_client, zone, domain):
    wildcard = TrustedDomainFactory(
        profile=domain.profile, domain="*.acme.test", verification_state="unverified"
    )
    publish(zone, domain)

    response = admin_client.post(reverse("sso:admin_domains"), {"domain": "acme.test"}, follow=True)

    assert "acme.test is verified." in response.content.decode()
    domain.refresh_from_db()
    wildcard.refresh_from_db()
    assert domain.is_verified and wildcard.is_verified
    assert AuditEvent.objects.filter(action=AuditAction.DOMAIN_VERIFIED).count() == 2


def test_wrong_token_fails(zone, domain, admin):
    publish(zone, domain, "sso-domain-verification=not-the-token")
    check = domain_check(domain=domain, actor=admin.user)
    domain.refresh_from_db()
    assert (check.proof, domain.verification_state) == ("missing", VerificationState.FAILED)
    assert "holds another value" in domain.check_detail


def test_missing_record_fails(zone, domain, admin):
    domain_check(domain=domain, actor=admin.user)
    domain.refresh_from_db()
    assert domain.verification_state == VerificationState.FAILED
    assert "no TXT record at _sso-challenge.acme.test" in domain.check_detail


def test_dns_timeout_is_no_proof_and_changes_nothing(admin_client, zone, domain):
    zone.slow.add("_sso-challenge.acme.test")
    response = admin_client.post(reverse("sso:admin_domains"), {"domain": "acme.test"}, follow=True)
    assert "Could not check acme.test right now" in response.content.decode()
    domain.refresh_from_db()
    assert domain.verification_state == VerificationState.UNVERIFIED


def test_proof_removed_keeps_working_for_grace_period_then_fails(zone, domain):
    publish(zone, domain)
    domain_check(domain=domain)
    assert domain.is_verified

    del zone.txt["_sso-challenge.acme.test"]
    domains_recheck()
    domain.refresh_from_db()
    assert domain.is_verified
    assert domain.grace_deadline.date() == (timezone.now() + dt.timedelta(days=30)).date()

    zone.slow.add("_sso-challenge.acme.test")  # DNS failure never removes proof
    domain.proof_missing_since = timezone.now() - dt.timedelta(days=31)
    domain.save()
    domains_recheck()
    domain.refresh_from_db()
    assert domain.is_verified

    zone.slow.clear()
    domains_recheck()
    domain.refresh_from_db()
    assert domain.verification_state == VerificationState.FAILED


def test_proof_back_within_grace_clears_deadline(zone, domain):
    publish(zone, domain)
    domain_check(domain=domain)
    del zone.txt["_sso-challenge.acme.test"]
    domain_check(domain=domain)
    publish(zone, domain)
    domain_check(domain=domain)
    domain.refresh_from_db()
    assert domain.is_verified and domain.proof_missing_since is None


def test_https_file_is_proof(https_files, domain):
    https_files[WELL_KNOWN_PATH] = expected_value(domain.verification_token)
    check = domain_check(domain=domain)
    domain.refresh_from_db()
    assert (check.proof, check.method) == ("found", "https")
    assert domain.is_verified


def test_https_refuses_private_addresses_unless_allowed(https_files, domain, settings):
    https_files[WELL_KNOWN_PATH] = expected_value(domain.verification_token)
    settings.SSO_DOMAIN_HTTPS_ALLOW_PRIVATE = False
    check = domain_check(domain=domain)
    assert check.proof == "missing"
    assert "no public address" in check.detail


@pytest.mark.parametrize("allow_private", [True, False])
def test_https_file_on_an_ipv6_only_domain(settings, tmp_path, zone, domain, allow_private):
    cert, key = self_signed(tmp_path, "acme.test")
    files = {WELL_KNOWN_PATH: expected_value(domain.verification_token)}
    server = start_https(files, cert, key, address="::1")
    settings.SSO_DOMAIN_HTTPS_PORT = server.server_address[1]
    settings.SSO_DOMAIN_HTTPS_CA_FILE = str(cert)
    settings.SSO_DOMAIN_HTTPS_ALLOW_PRIVATE = allow_private
    zone.aaaa["acme.test"] = "::1"  # and no A record

    check = domain_check(domain=domain)
    server.shutdown()

    if allow_private:
        assert (check.proof, check.method) == ("found", "https")
    else:
        assert check.proof == "missing"
        assert "no public address" in check.detail


def test_https_wrong_content_is_not_proof(https_files, domain):
    https_files[WELL_KNOWN_PATH] = "something else"
    assert domain_check(domain=domain).proof == "missing"


@pytest.mark.parametrize("consumer", ["gmail.com", "Outlook.com", "*.proton.me", "yahoo.co.uk"])
def test_consumer_domains_cannot_be_claimed(consumer):
    with pytest.raises(ValidationError) as caught:
        normalize_domain_pattern(consumer)
    assert caught.value.code == "domain_consumer"


def test_domain_verified_by_one_organization_refused_to_others(zone, domain, certificate_pem):
    publish(zone, domain)
    domain_check(domain=domain)
    other = SSOProfileFactory()
    with pytest.raises(ValidationError) as caught:
        profile_configure(
            profile=other,
            actor=None,
            name="x",
            idp_kind="other",
            idp_issuer="https://other.test/idp",
            idp_sso_url="https://other.test/sso",
            domains=["acme.test"],
        )
    assert caught.value.error_dict["domains"][0].code == "domain_taken"


def test_stale_unverified_claim_stops_blocking_and_cannot_be_verified_later(zone, domain):
    type(domain).objects.filter(pk=domain.pk).update(
        created_at=timezone.now() - dt.timedelta(days=8)
    )
    other = SSOProfileFactory()
    profile_configure(
        profile=other,
        actor=None,
        name="Real owner",
        idp_kind="other",
        idp_issuer="https://owner.test/idp",
        idp_sso_url="https://owner.test/sso",
        domains=["acme.test"],
    )
    owner_row = other.domains.get()
    zone.txt["_sso-challenge.acme.test"] = [expected_value(owner_row.verification_token)]
    domain_check(domain=owner_row)
    owner_row.refresh_from_db()
    assert owner_row.is_verified

    zone.txt["_sso-challenge.acme.test"].append(expected_value(domain.verification_token))
    domain_check(domain=domain)
    domain.refresh_from_db()
    assert domain.verification_state == VerificationState.FAILED
    assert "Another organization has already verified" in domain.check_detail


def test_unverified_domain_does_not_route_provision_or_enforce(client, zone, domain, profile):
    assert profile_for_email(email="grace@acme.test") is None
    response = client.post(reverse("sso:login"), {"email": "grace@acme.test"})
    assert response["Location"] == reverse("sso:login_password")

    with pytest.raises(LoginRefused) as caught:
        sso_user_for_login(request=None, login=verified_login(profile, "grace@acme.test"))
    assert caught.value.reason == Reason.DOMAIN_UNVERIFIED
    assert not User.objects.filter(email="grace@acme.test").exists()

    outsider = UserFactory(email="ann@acme.test")
    with pytest.raises(LoginRefused):
        sso_user_for_login(request=None, login=verified_login(profile, "ann@acme.test"))
    assert not outsider.memberships.exists()

    member = MembershipFactory(organization=profile.organization, user__email="bob@acme.test")
    signed_in = sso_user_for_login(request=None, login=verified_login(profile, "bob@acme.test"))
    assert signed_in == member.user

    profile.organization.enforce_sso = True
    profile.organization.save()
    assert organization_enforcing_sso_for(email="bob@acme.test") is None

    publish(zone, domain)
    domain_check(domain=domain)
    assert profile_for_email(email="grace@acme.test") == profile
    assert organization_enforcing_sso_for(email="bob@acme.test") == profile.organization


def test_domains_page_shows_instructions_and_scopes_to_organization(admin_client, domain):
    other = TrustedDomainFactory(domain="beta.test", verification_state="unverified")
    content = admin_client.get(reverse("sso:admin_domains")).content.decode()
    assert "_sso-challenge.acme.test" in content
    assert expected_value(domain.verification_token) in content
    assert "https://acme.test/.well-known/sso-domain-verification.txt" in content
    assert "beta.test" not in content
    response = admin_client.post(reverse("sso:admin_domains"), {"domain": other.domain})
    assert response.status_code == HTTPStatus.NOT_FOUND


def test_verify_domains_command(zone, domain):
    publish(zone, domain)
    out = StringIO()
    call_command("verify_domains", stdout=out)
    assert "1 with proof" in out.getvalue()
    domain.refresh_from_db()
    assert domain.is_verified


def test_operator_mark_verified_is_audited(domain):
    staff = UserFactory(is_staff=True)
    domain_mark_verified(domain=domain, actor=staff, how="operator")
    event = AuditEvent.objects.get(action=AuditAction.DOMAIN_VERIFIED)
    assert (event.actor, event.changes) == (staff, {"domain": "acme.test", "how": "operator"})


def _txt_values(page: str) -> dict[str, str]:
    """The TXT value the Domains page asks for, per domain row."""
    sections = re.findall(
        r'data-domain="([^"]+)".*?id="txt-value-[^"]*"[^>]*value="([^"]+)"', page, re.S
    )
    return dict(sections)


@pytest.mark.parametrize("wildcard_first", [False, True], ids=["base-first", "wildcard-first"])
def test_domains_page_base_and_wildcard_share_one_txt_value(
    admin_client, profile, domain, wildcard_first
):
    if wildcard_first:
        domain.delete()
        wildcard = TrustedDomainFactory(
            profile=profile, domain="*.acme.test", verification_state="unverified"
        )
        domain = TrustedDomainFactory(
            profile=profile, domain="acme.test", verification_state="unverified"
        )
        first = wildcard
    else:
        wildcard = TrustedDomainFactory(
            profile=profile, domain="*.acme.test", verification_state="unverified"
        )
        first = domain
    assert wildcard.verification_token != domain.verification_token

    values = _txt_values(admin_client.get(reverse("sso:admin_domains")).content.decode())

    assert values == {
        "acme.test": expected_value(first.verification_token),
        "*.acme.test": expected_value(first.verification_token),
    }


@pytest.mark.parametrize("checked", ["acme.test", "*.acme.test"])
def test_shared_txt_value_verifies_base_and_wildcard_from_either_row(
    zone, profile, domain, admin, checked
):
    wildcard = TrustedDomainFactory(
        profile=profile, domain="*.acme.test", verification_state="unverified"
    )
    publish(zone, domain)  # the base row's token: the one the page shows for both

    check = domain_check(domain=profile.domains.get(domain=checked), actor=admin.user)

    assert check.proof == "found"
    domain.refresh_from_db()
    wildcard.refresh_from_db()
    assert domain.is_verified and wildcard.is_verified


def test_wildcard_own_token_published_earlier_still_proves(zone, profile, domain, admin):
    wildcard = TrustedDomainFactory(
        profile=profile, domain="*.acme.test", verification_state="unverified"
    )
    publish(zone, wildcard)

    assert domain_check(domain=wildcard, actor=admin.user).proof == "found"


def test_token_of_same_base_in_another_organization_is_no_proof(zone, profile, domain, admin):
    other = TrustedDomainFactory(domain="*.acme.test", verification_state="unverified")
    publish(zone, other)

    assert domain_check(domain=domain, actor=admin.user).proof == "missing"
