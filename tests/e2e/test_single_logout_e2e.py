"""Single logout with SimpleSAMLphp in Chromium, both ways: signing out here signs the person
out at SimpleSAMLphp, and signing out at SimpleSAMLphp signs them out here."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect
from pytest_django import Settings
from pytest_django.live_server_helper import LiveServer

from sso.models import AuditAction, AuditEvent, LoginEvent, ProfileStatus, SSOProfile
from sso.saml.config import sp_slo_url
from sso.saml.metadata import parse_idp_metadata
from tests.e2e.idps import GRACE, SimpleSAMLphpIdP
from tests.e2e.test_single_signature_e2e import _configured_profile
from tests.e2e.test_wizard_e2e import CONSOLE
from tests.fixtures.browser import Shot

pytestmark = pytest.mark.django_db(transaction=True)

LOGIN = re.compile(r"/login/$")


def _active_profile(
    idp: SimpleSAMLphpIdP, live_server: LiveServer, settings: Settings, tmp_path: Path
) -> SSOProfile:
    """Configured from SimpleSAMLphp's metadata, its single logout URL included, and on."""
    profile = _configured_profile(idp, live_server, settings, tmp_path)
    profile.idp_slo_url = parse_idp_metadata(idp.metadata_xml()).slo_url
    assert profile.idp_slo_url == f"{idp.base_url}/saml2/idp/SingleLogoutService.php"
    profile.status = ProfileStatus.ACTIVE
    profile.save()
    return profile


def _sso_sign_in(page: Page, idp: SimpleSAMLphpIdP, *, expect_idp_form: bool) -> None:
    page.goto("/login/")
    page.locator("#id_email").fill(GRACE.email)
    page.get_by_role("button", name="Next").click()
    if expect_idp_form:
        idp.login(page, GRACE.username, GRACE.password)
    expect(page).to_have_url(CONSOLE)
    expect(page.locator(".topbar .who")).to_have_text(GRACE.email)


def test_signing_out_here_signs_out_at_simplesamlphp(
    simplesamlphp: SimpleSAMLphpIdP,
    page: Page,
    live_server: LiveServer,
    settings: Settings,
    shot: Shot,
    tmp_path: Path,
) -> None:
    idp = simplesamlphp
    _active_profile(idp, live_server, settings, tmp_path)
    _sso_sign_in(page, idp, expect_idp_form=True)
    slo_requests: list[str] = []
    page.on("request", lambda r: slo_requests.append(r.url) if "SingleLogout" in r.url else None)

    page.get_by_role("button", name="Sign out").click()

    expect(page).to_have_url(LOGIN)
    expect(
        page.locator("[data-messages]").get_by_text(
            "You are signed out here and at your identity provider."
        )
    ).to_be_visible()
    shot(page, "e2e-slo-sp-initiated-signed-out")
    assert any("SAMLRequest=" in url for url in slo_requests), slo_requests
    page.goto("/console/")
    expect(page).to_have_url(re.compile(r"/login/"))
    # SimpleSAMLphp verified our signed LogoutRequest and answered it.
    log = idp.log_text()
    assert "Received SAML 2.0 LogoutRequest from" in log
    assert "Sending logout response to SP" in log
    # Its session is gone too: it asks for the password again.
    _sso_sign_in(page, idp, expect_idp_form=True)


def test_signing_out_at_simplesamlphp_signs_out_here(
    simplesamlphp: SimpleSAMLphpIdP,
    page: Page,
    live_server: LiveServer,
    settings: Settings,
    shot: Shot,
    tmp_path: Path,
) -> None:
    idp = simplesamlphp
    profile = _active_profile(idp, live_server, settings, tmp_path)
    _sso_sign_in(page, idp, expect_idp_form=True)
    our_slo: list[str] = []
    page.on(
        "request",
        lambda r: our_slo.append(r.url) if r.url.startswith(sp_slo_url(profile)) else None,
    )

    back = f"{live_server.url}/login/"
    page.goto(f"{idp.base_url}/saml2/idp/SingleLogoutService.php?ReturnTo={quote(back, safe='')}")

    expect(page).to_have_url(back)
    shot(page, "e2e-slo-idp-initiated-back-at-login")
    assert any("SAMLRequest=" in url for url in our_slo), our_slo
    audit = AuditEvent.objects.get(action=AuditAction.IDP_LOGOUT, profile=profile)
    assert audit.changes["accounts_signed_out"] == [GRACE.email]
    assert not LoginEvent.objects.filter(profile=profile, outcome="failure").exists()
    page.goto("/console/")
    expect(page).to_have_url(re.compile(r"/login/"))
    _sso_sign_in(page, idp, expect_idp_form=True)
