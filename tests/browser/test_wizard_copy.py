"""Steps 1-3 in Chromium: every value copies to the clipboard, the sheet copies and downloads;
the connection test's result keeps the stepper and offers the decoded response."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from sso.events import TEST_RESPONSE_XML
from sso.models import ProfileStatus, Role
from sso.saml.config import sp_acs_url, sp_entity_id
from tests.factories import ActiveProfileFactory, LoginEventFactory, MembershipFactory
from tests.fixtures.browser import LogIn, Shot
from tests.fixtures.idp import FIXTURES

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def admin_page(page: Page, live_server: LiveServer, log_in: LogIn) -> Page:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    membership = MembershipFactory(role=Role.ADMIN)
    page.profile = ActiveProfileFactory(
        organization=membership.organization,
        name="Okta production",
        idp_kind="okta",
        status=ProfileStatus.CONFIGURED,
    )
    log_in(page, membership.user.email)
    return page


def _clipboard(page: Page) -> str:
    return page.evaluate("navigator.clipboard.readText()")


def test_steps_1_to_3_copy_every_value_and_the_sheet(admin_page: Page, shot: Shot) -> None:
    page, profile = admin_page, admin_page.profile
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"/admin-center/sso/{profile.sid}/")
    page.wait_for_load_state()
    values = {
        "entity-id": sp_entity_id(profile),
        "acs-url": sp_acs_url(profile),
        "metadata-url": sp_entity_id(profile),
        "sp-certificate": profile.sp_certificate_pem,
    }
    for field, value in values.items():
        button = page.locator(f'[data-copy="{field}"]')
        button.click()
        expect(button).to_have_text("Copied")
        assert _clipboard(page).strip() == value.strip(), field

    sheet = page.get_by_label("SP values (plain text)")
    expect(sheet).to_contain_text("Audience URI (SP Entity ID):")
    page.get_by_role("button", name="Copy all values").click()
    assert _clipboard(page) == sheet.input_value()
    assert sp_acs_url(profile) in _clipboard(page)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download as .txt").click()
    download = download_info.value
    assert download.suggested_filename == "okta-production-sp-values.txt"
    assert Path(download.path()).read_text() == sheet.input_value()
    page.get_by_test_id("sp-values").scroll_into_view_if_needed()
    shot(page, "polish-1-sp-values-sheet")

    page.get_by_role("link", name="Continue", exact=True).click()
    for name, value in [
        ("Copy the Entity ID", sp_entity_id(profile)),
        ("Copy the ACS URL", sp_acs_url(profile)),
        ("Copy the Recipient URL", sp_acs_url(profile)),
        ("Copy the SP metadata URL", sp_entity_id(profile)),
    ]:
        button = page.get_by_role("button", name=name)
        button.click()
        expect(button).to_have_text("Copied")
        assert _clipboard(page) == value, name
    shot(page, "polish-2-configure-idp-copy")
    assert errors == []


def test_connection_test_result_has_stepper_and_decoded_response(
    admin_page: Page, shot: Shot
) -> None:
    page, profile = admin_page, admin_page.profile
    xml = (FIXTURES / "encrypted_assertion.xml").read_text()  # any XML the IdP might post
    event = LoginEventFactory(profile=profile, is_test=True, detail={TEST_RESPONSE_XML: xml})

    page.goto(f"/admin-center/sso/{profile.sid}/events/{event.pk}/")

    stepper = page.get_by_role("navigation", name="SSO setup steps")
    expect(stepper.locator('[aria-current="step"]')).to_have_text("Test connection")
    page.get_by_text("Show the XML").click()
    assert page.locator("pre.response-xml").inner_text().strip() == xml.strip()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the response (.xml)").click()
    assert Path(download_info.value.path()).read_text() == xml
    shot(page, "polish-3-test-result-response")
