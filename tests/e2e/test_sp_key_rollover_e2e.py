"""Our SP key rollover against SimpleSAMLphp, which checks every AuthnRequest's signature against
the certificates in our SP metadata: while both are published people sign in with the old key
signing, after the finish with the new one; an IdP left with the old certificate only refuses."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from lxml import etree
from playwright.sync_api import Page, Request, expect
from pytest_django import Settings
from pytest_django.live_server_helper import LiveServer

from sso.crypto import certificate_body
from sso.models import LoginEvent, ProfileStatus
from sso.profiles.sp_keys import sp_keys_rollover_due
from sso.saml.config import sp_entity_id
from tests.e2e.idps import GRACE, SimpleSAMLphpIdP, http_get
from tests.e2e.test_single_signature_e2e import _configured_profile, _test_connection
from tests.e2e.test_wizard_e2e import (
    CONSOLE,
    OWNER_EMAIL,
    _idp_asks_for_login,
    _password_login,
    _sign_out,
)
from tests.fixtures.browser import Shot
from tests.views.test_saml import verify_redirect_signature

pytestmark = pytest.mark.django_db(transaction=True)

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
PREFIX = "e2e-simplesamlphp-sp-key-rollover"


def test_sp_key_rollover_with_simplesamlphp_checking_our_request_signatures(
    simplesamlphp: SimpleSAMLphpIdP,
    page: Page,
    live_server: LiveServer,
    settings: Settings,
    shot: Shot,
    tmp_path: Path,
) -> None:
    idp = simplesamlphp
    profile = _configured_profile(idp, live_server, settings, tmp_path)
    metadata_url = sp_entity_id(profile)  # the Entity ID is the metadata URL
    old = profile.sp_certificate_pem
    old_only = http_get(metadata_url)  # what the IdP was started with
    assert _signing_certificates(old_only) == [certificate_body(old)]
    sent: list[str] = []  # every AuthnRequest the browser takes to the IdP, as a URL
    page.on("request", lambda request: _record_authn_request(request, idp, sent))

    # The owner tests and activates the profile, then starts the rollover on step 1.
    _password_login(page, OWNER_EMAIL)
    _test_connection(page, idp, profile)
    expect(page.get_by_test_id("test-result")).to_contain_text("The connection works.")
    page.get_by_role("button", name="Activate", exact=True).click()
    main = page.locator("main")  # not the live region, which repeats the message 250 ms later
    expect(main.get_by_text(f"SSO is on for “{idp.name}”.")).to_be_visible()
    page.goto(f"/admin-center/sso/{profile.sid}/")
    page.get_by_role("button", name="Create the next SP certificate").click()
    expect(main.get_by_text("Next SP certificate created: give it to your IdP.")).to_be_visible()
    profile.refresh_from_db()
    new = profile.sp_next_certificate_pem
    assert (profile.status, profile.sp_certificate_pem) == (ProfileStatus.ACTIVE, old)
    assert new and new != old
    expect(page.locator("#sp-next-certificate")).to_contain_text(certificate_body(new)[:64])
    ends = profile.sp_rollover_ends_at
    expect(page.get_by_test_id("sp-key-rollover")).to_contain_text(
        f"beside the current one until {ends:%Y-%m-%d %H:%M} UTC. Then it signs"
    )
    shot(page, f"{PREFIX}-01-started")

    # During the overlap our metadata carries both, and the IdP reads it anew.
    overlap = http_get(metadata_url)
    assert _signing_certificates(overlap) == [certificate_body(old), certificate_body(new)]
    idp.sp_metadata_replace(overlap)

    # Grace signs in: the old key still signs, and SimpleSAMLphp accepts it.
    _sign_out(page)
    _grace_signs_in(page, idp)
    shot(page, f"{PREFIX}-02-console-old-key")
    verify_redirect_signature(sent[-1], old)
    with pytest.raises(InvalidSignature):
        verify_redirect_signature(sent[-1], new)

    # The overlap ends: the hourly job finishes the rollover, the old certificate is withdrawn.
    assert sp_keys_rollover_due(now=ends + dt.timedelta(minutes=1)) == 1
    profile.refresh_from_db()
    assert (profile.sp_certificate_pem, profile.sp_rollover_ends_at) == (new, None)
    assert _signing_certificates(http_get(metadata_url)) == [certificate_body(new)]

    # Grace again: the new key signs, and SimpleSAMLphp, trusting both, accepts it.
    _sign_out(page)
    _grace_signs_in(page, idp)
    shot(page, f"{PREFIX}-03-console-new-key")
    verify_redirect_signature(sent[-1], new)
    with pytest.raises(InvalidSignature):
        verify_redirect_signature(sent[-1], old)
    logins = LoginEvent.objects.filter(profile=profile, is_test=False)
    assert list(logins.values_list("reason", "email")) == [("ok", GRACE.email)] * 2

    # The same IdP given only the old certificate: it refuses the request the new key signed.
    idp.sp_metadata_replace(old_only)
    _sign_out(page)
    page.locator("#id_email").fill(GRACE.email)
    page.get_by_role("button", name="Next").click()
    expect(page.locator("body")).to_contain_text("Unable to validate signature on query string")
    assert page.url.startswith(idp.sso_url), page.url
    shot(page, f"{PREFIX}-04-idp-refuses-new-key")
    verify_redirect_signature(sent[-1], new)
    assert "Unable to validate signature on query string" in idp.log_text()
    assert logins.count() == 2


def _grace_signs_in(page: Page, idp: SimpleSAMLphpIdP) -> None:
    """The email step, the IdP (its form only when its session has ended), the console."""
    page.locator("#id_email").fill(GRACE.email)
    page.get_by_role("button", name="Next").click()
    if _idp_asks_for_login(page, idp, landing=page.locator(".topbar .who")):
        idp.login(page, GRACE.username, GRACE.password)
    expect(page).to_have_url(CONSOLE)
    expect(page.locator(".topbar .who")).to_have_text(GRACE.email)


def _record_authn_request(request: Request, idp: SimpleSAMLphpIdP, sent: list[str]) -> None:
    if request.url.startswith(f"{idp.sso_url}?") and "SAMLRequest=" in request.url:
        sent.append(request.url)


def _signing_certificates(metadata_xml: str) -> list[str]:
    descriptor = etree.fromstring(metadata_xml.encode()).find(f"{{{MD}}}SPSSODescriptor")
    assert descriptor is not None
    return [
        "".join(key.findtext(f".//{{{DS}}}X509Certificate", "").split())
        for key in descriptor.findall(f"{{{MD}}}KeyDescriptor")
        if key.get("use") in (None, "signing")
    ]
