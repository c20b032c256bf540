"""The SSO profile wizard, walked through in a real Chromium the way an organization admin would."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from sso.models import ProfileStatus, Role, SSOProfile
from sso.profiles.services import profile_create
from tests.factories import (
    ActiveProfileFactory,
    IdPCertificateFactory,
    LoginEventFactory,
    MembershipFactory,
)
from tests.fixtures.browser import LogIn, Shot
from tests.fixtures.idp import KeyPair

pytestmark = pytest.mark.django_db(transaction=True)

SID = r"/sso/saml2/JI[0-9a-f]{32}"


def test_admin_walks_the_sso_wizard(
    page: Page, shot: Shot, idp_keys: KeyPair, live_server: LiveServer, log_in: LogIn
) -> None:
    # 1. An organization admin logs in with a password.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    membership = MembershipFactory(role=Role.ADMIN)
    log_in(page, membership.user.email)

    # 2. The Single Sign-On page, with no profile yet.
    page.goto("/admin-center/sso/")
    expect(page.get_by_role("heading", name="Single Sign-On", exact=True)).to_be_visible()
    expect(page.get_by_text("No SSO profile yet.")).to_be_visible()
    shot(page, "wizard-0-sso-page-empty")

    # 3. Step 1: the SP metadata to copy into the IdP.
    page.get_by_role("button", name="Create new SSO Profile").click()
    expect(page.get_by_role("heading", name="Step 1: SP metadata")).to_be_visible()
    entity_id = page.get_by_label("Entity ID / Audience URI")
    acs_url = page.get_by_label("Assertion Consumer Service (ACS) URL")
    expect(entity_id).to_have_value(re.compile(SID + r"/metadata/$"))
    expect(acs_url).to_have_value(re.compile(SID + r"/acs/$"))
    expect(entity_id).to_have_attribute("readonly", "")
    entity_id_value = entity_id.input_value()
    page.wait_for_load_state()  # admin-center.js (deferred) wires up the Copy buttons

    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # Not get_by_role(name="Copy"): that stops matching once the button says "Copied".
    copy_acs = page.locator(".copy-row", has=acs_url).locator("button")
    expect(copy_acs).to_have_text("Copy")
    copy_acs.click()
    expect(copy_acs).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == acs_url.input_value()
    assert errors == []

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download SP metadata").click()
    download = download_info.value
    assert download.suggested_filename.endswith("-sp-metadata.xml")
    metadata = Path(download.path()).read_text()
    assert "EntityDescriptor" in metadata
    assert entity_id_value in metadata
    shot(page, "wizard-1-sp-metadata")

    # 4. Steps 2 and 3: IdP-specific instructions; choosing changes nothing until submitted.
    page.get_by_role("link", name="Continue", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile("Steps 2 and 3"))).to_be_visible()
    page.get_by_label("Your identity provider").select_option(label="Okta")
    expect(page).to_have_url(re.compile(r"/configure-idp/$"))
    page.get_by_role("button", name="Show instructions").click()
    page.wait_for_url(re.compile(r"/configure-idp/\?idp=okta$"))
    expect(page.get_by_role("heading", name="In Okta")).to_be_visible()
    expect(page.locator(".instructions")).to_contain_text("Audience URI (SP Entity ID)")
    expect(page.locator(".instructions")).to_contain_text(entity_id_value)
    shot(page, "wizard-2-configure-idp")

    # 5. Step 4: the IdP metadata form. A plain http SSO URL is refused beside the field.
    page.get_by_role("button", name="I have configured Okta — Continue").click()
    expect(page.get_by_role("heading", name="Step 4: IdP metadata")).to_be_visible()
    expect(page.get_by_label("Identity provider", exact=True)).to_have_value("okta")
    expect(page.get_by_label("Signature policy")).to_have_value("both")
    sso_url = page.get_by_label("Single sign-on URL")
    sso_url.fill("http://acme.okta.test/app/sso/saml")
    page.get_by_role("button", name="Save & Continue").click()
    expect(page.get_by_role("heading", name="Step 4: IdP metadata")).to_be_visible()
    sso_field = page.locator(".field", has=page.locator("#id_idp_sso_url"))
    expect(sso_field).to_have_class(re.compile(r"\bhas-error\b"))
    expect(sso_field.locator(".errorlist")).to_have_text("The URL must start with https://.")
    expect(page.get_by_text("Nothing was saved.")).to_be_visible()
    page.wait_for_load_state()  # admin-center.js wires up the domain rows' Add button
    shot(page, "wizard-3-idp-metadata-error")

    page.get_by_label("Friendly name").fill("Okta production")
    page.get_by_label("Identity provider", exact=True).select_option(label="Okta")
    page.get_by_label("Identity Provider Issuer").fill("http://www.okta.com/exk1")
    sso_url.fill("https://acme.okta.test/app/sso/saml")
    page.get_by_label("Paste the certificate", exact=True).fill(idp_keys.certificate_pem)
    domain_rows = page.locator("[data-domain-row] input")
    domain_rows.first.click()
    page.keyboard.type("acme.test")
    rows_before = domain_rows.count()
    page.get_by_role("button", name="Add", exact=True).click()
    expect(domain_rows).to_have_count(rows_before + 1)
    new_row = domain_rows.last
    expect(new_row).to_be_focused()
    expect(new_row).to_have_value("")
    page.keyboard.type("*.acme.test")
    shot(page, "wizard-4-idp-metadata-filled")
    page.get_by_role("button", name="Save & Continue").click()

    # 6. Step 5: test the connection.
    expect(page).to_have_url(re.compile(r"/admin-center/sso/JI[0-9a-f]{32}/test/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Test the connection")
    expect(
        page.locator("[data-messages]").get_by_text("SSO profile saved. Now test the connection.")
    ).to_be_visible()
    shot(page, "wizard-5-test-connection")

    # 7. Back on the Single Sign-On page: the configured profile and its domains.
    page.goto("/admin-center/sso/")
    row = page.locator("table.profiles tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Okta production")
    expect(row.locator(".badge.status-configured")).to_have_text("Configured")
    chips = row.locator(".chip")
    expect(chips).to_have_count(2)
    # Each with its verification state: an unverified domain routes nobody.
    assert sorted(chips.all_inner_texts()) == ["*.acme.test · Unverified", "acme.test · Unverified"]
    shot(page, "wizard-6-sso-page")

    # 8. The profile's IdP metadata step shows the saved certificate.
    row.get_by_role("link", name="Okta production").click()
    expect(page.get_by_role("heading", name="Step 4: IdP metadata")).to_be_visible()
    saved = page.get_by_test_id("saved-certificate")
    expect(saved).to_have_count(1)
    expect(saved).to_contain_text("✔ Saved")
    expect(saved.locator("dt", has_text="SHA-256 fingerprint")).to_be_visible()
    expect(saved.locator("dd.mono")).to_have_text(re.compile(r"^\s*([0-9A-Fa-f]{2}:?){32}\s*$"))
    expect(page.get_by_label("Friendly name")).to_have_value("Okta production")
    shot(page, "wizard-7-saved-certificate")

    # 9. The same page on a phone: nothing wider than the screen.
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "wizard-8-phone")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), (
        _too_wide(page)
    )

    profile = SSOProfile.objects.get()
    assert profile.status == ProfileStatus.CONFIGURED
    assert profile.name == "Okta production"
    assert profile.idp_kind == "okta"
    assert profile.idp_issuer == "http://www.okta.com/exk1"
    assert profile.idp_sso_url == "https://acme.okta.test/app/sso/saml"
    assert sorted(d.domain for d in profile.domains.all()) == ["*.acme.test", "acme.test"]
    assert profile.certificates.count() == 1
    assert entity_id_value.endswith(f"/sso/saml2/{profile.sid}/metadata/")


def test_keyboard_focus_order_on_idp_metadata_step(page: Page, log_in: LogIn) -> None:
    membership = MembershipFactory(role=Role.ADMIN)
    profile = profile_create(organization=membership.organization, actor=membership.user)
    log_in(page, membership.user.email)

    page.goto(f"/admin-center/sso/{profile.sid}/idp-metadata/")
    page.get_by_label("Friendly name").focus()
    assert _focused_name(page) == "name"
    page.keyboard.press("Tab")
    assert _focused_name(page) == "idp_kind"
    page.keyboard.press("Tab")
    assert _focused_name(page) == "idp_issuer"
    page.keyboard.press("Tab")
    assert _focused_name(page) == "idp_sso_url"
    page.keyboard.press("Shift+Tab")
    assert _focused_name(page) == "idp_issuer"


def test_admin_removing_the_certificate_in_use_is_asked_first(
    page: Page, shot: Shot, idp_keys: KeyPair, log_in: LogIn
) -> None:
    membership = MembershipFactory(role=Role.ADMIN)
    profile = ActiveProfileFactory(organization=membership.organization)
    old = profile.certificates.get()
    rotated = KeyPair.generate("Rotated", days=800)
    IdPCertificateFactory(profile=profile, pem=rotated.certificate_pem)
    LoginEventFactory(profile=profile, detail={"verified_with": old.fingerprint_sha256})
    log_in(page, membership.user.email)

    page.goto(f"/admin-center/sso/{profile.sid}/idp-metadata/")
    used = page.get_by_test_id("certificate-last-used")
    expect(used.nth(0)).to_have_text("Not in the last 30 days")  # the newer, listed first
    expect(used.nth(1)).to_contain_text(" UTC")
    shot(page, "certificate-1-last-used")
    page.get_by_test_id("saved-certificate").nth(1).get_by_role("button", name="Remove").click()

    expect(page.get_by_role("heading")).to_have_text("Remove a certificate in use?")
    expect(page.locator("main .errors")).to_contain_text("your IdP may still sign with it")
    shot(page, "certificate-2-asked")
    page.get_by_role("link", name="Keep it").click()
    expect(page.get_by_test_id("saved-certificate")).to_have_count(2)

    page.get_by_test_id("saved-certificate").nth(1).get_by_role("button", name="Remove").click()
    page.get_by_role("button", name="Remove anyway").click()
    expect(page.locator("[data-messages]").get_by_text("Certificate removed.")).to_be_visible()
    expect(page.get_by_test_id("saved-certificate")).to_have_count(1)
    assert not profile.certificates.filter(pk=old.pk).exists()


def _focused_name(page: Page) -> str:
    return page.evaluate("document.activeElement.name")


def _too_wide(page: Page) -> str:
    """Which elements stick out to the right, to say why the page scrolls sideways."""
    return page.evaluate(
        """() => {
            const limit = window.innerWidth + 1;
            const wide = [...document.querySelectorAll('body *')]
                .filter(el => el.getBoundingClientRect().right > limit)
                .map(el => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}`
                    + `${el.className ? '.' + String(el.className).split(' ').join('.') : ''}`
                    + ` right=${Math.round(el.getBoundingClientRect().right)}`);
            return `page is ${document.documentElement.scrollWidth}px wide for a`
                + ` ${window.innerWidth}px window; too wide: ${wide.slice(0, 10).join(', ')}`;
        }"""
    )
