"""Every page, in its normal and its error states, through axe-core and at a phone's width
(the `check` fixture of tests/fixtures/browser.py)."""

from __future__ import annotations

from collections.abc import Callable
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.template.loader import render_to_string
from playwright.sync_api import Page, expect
from pytest_django import Settings
from pytest_django.live_server_helper import LiveServer

from sso.models import LoginOutcome, Role
from tests.factories import (
    ActiveProfileFactory,
    AuditEventFactory,
    LoginEventFactory,
    MembershipFactory,
    SSOProfileFactory,
    UserFactory,
)
from tests.fixtures.browser import Check, LogIn

pytestmark = pytest.mark.django_db(transaction=True)

# Long enough to break a layout that does not wrap: what real organizations have.
LONG = "firstname.middlename.lastname"


def submit(page: Page, name: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=name, exact=True).click()


def test_public_pages(page: Page, check: Check, live_server: LiveServer) -> None:
    user = UserFactory(email=f"{LONG}@example.test")
    profile = ActiveProfileFactory(domain__domain="acme.test")

    page.goto("/login/")
    check(page, "login-email", screenshot=True)
    submit(page, "Next")
    expect(page.locator("#id_email")).to_have_attribute("aria-invalid", "true")
    check(page, "login-email-error")

    page.get_by_label("Email").fill(user.email)
    submit(page, "Next")
    expect(page.get_by_test_id("login-email")).to_have_text(user.email)
    check(page, "login-password")
    page.get_by_label("Password").fill("not the password")
    submit(page, "Log In")
    check(page, "login-password-error", screenshot=True)

    page.goto("/signup/")
    check(page, "signup")
    submit(page, "Create account")
    check(page, "signup-error")

    page.goto("/no-such-page/")
    expect(page.get_by_test_id("error-404")).to_be_visible()
    check(page, "404")

    page.goto("/login/")
    page.context.clear_cookies()
    page.get_by_label("Email").fill(user.email)
    submit(page, "Next")
    expect(page.get_by_test_id("error-403")).to_be_visible()
    check(page, "403")

    unavailable = render_to_string("503.html")
    page.route(
        "**/unavailable/",
        lambda route: route.fulfill(status=503, content_type="text/html", body=unavailable),
    )
    page.goto("/unavailable/")
    expect(page.get_by_test_id("error-503")).to_be_visible()
    check(page, "503")

    page.goto(f"/sso/saml2/{profile.sid}/acs/?SAMLResponse=x")
    check(page, "login-failed", screenshot=True)


def test_admin_center_pages(page: Page, check: Check, log_in: LogIn) -> None:
    owner = MembershipFactory(role=Role.OWNER, user__email=f"{LONG}.owner@example.test")
    organization = owner.organization
    for n in range(3):
        MembershipFactory(
            organization=organization,
            role=Role.MEMBER,
            user__email=f"{LONG}{n}@a-rather-long-subsidiary-domain.example.test",
        )
    profile = ActiveProfileFactory(
        organization=organization, name="Okta production for the whole company"
    )
    SSOProfileFactory(organization=organization, name="Draft")
    success = LoginEventFactory(profile=profile, email=f"{LONG}@acme.test")
    failure = LoginEventFactory(
        profile=profile,
        outcome=LoginOutcome.FAILURE,
        reason="audience_mismatch",
        email=f"{LONG}@acme.test",
        reference="ABCD-EFGH-IJKL-MNOP",
    )
    AuditEventFactory(profile=profile, actor=owner.user)
    log_in(page, owner.user.email)

    check(page, "console")
    page.goto("/admin-center/sso/")
    check(page, "sso", screenshot=True)
    enforcement = page.locator(".enforcement")
    enforcement.get_by_label("Enforce SSO", exact=False).check()
    submit(page, "Save policy")
    check(page, "sso-enforcement-error")

    base = f"/admin-center/sso/{profile.sid}/"
    page.goto(base)
    check(page, "wizard-1-sp-metadata", screenshot=True)
    page.goto(base + "configure-idp/?idp=okta")
    check(page, "wizard-2-configure-idp")
    page.goto(base + "idp-metadata/")
    check(page, "wizard-4-idp-metadata")
    page.get_by_label("Single sign-on URL").fill("http://acme.okta.test/sso")
    submit(page, "Save & Continue")
    expect(page.locator(".has-error")).not_to_have_count(0)
    expect(page.locator("#id_idp_sso_url")).to_be_focused()
    check(page, "wizard-4-idp-metadata-error", screenshot=True)
    page.goto(base + "test/")
    check(page, "wizard-5-test")

    page.goto(base + "events/")
    check(page, "login-events", screenshot=True)
    page.goto(base + f"events/{success.pk}/")
    check(page, "login-event-success")
    page.goto(base + f"events/{failure.pk}/")
    check(page, "login-event-failure")

    page.goto("/admin-center/people/")
    check(page, "people", screenshot=True)
    page.goto("/admin-center/people/invite/")
    check(page, "invite")
    page.get_by_label("Email").fill("not an email")
    submit(page, "Send invitation")
    expect(page.locator("#id_email")).to_be_focused()
    check(page, "invite-error")

    page.goto("/admin-center/organization/")
    check(page, "organization")
    page.locator(".enforcement").get_by_label("Enforce SSO", exact=False).check()
    submit(page, "Save policy")
    check(page, "organization-enforcement-error")

    page.goto("/admin-center/domains/")
    check(page, "domains")
    page.goto("/admin-center/audit-log/")
    check(page, "audit-log", screenshot=True)


def test_member_is_refused_the_admin_center(page: Page, check: Check, log_in: LogIn) -> None:
    member = MembershipFactory(role=Role.MEMBER)
    log_in(page, member.user.email)
    page.goto("/admin-center/sso/")
    check(page, "forbidden")


@pytest.fixture
def demo_seeded(
    live_server: LiveServer, settings: Settings, demo_idp: Callable[..., None], tmp_path: Path
) -> None:
    demo_idp()
    settings.SSO_PUBLIC_BASE_URL = live_server.url
    settings.BASE_DIR = tmp_path
    call_command("seed_demo", stdout=StringIO())


def test_demo_idp_page(page: Page, check: Check, demo_seeded: None) -> None:
    page.goto("/login/")
    page.get_by_label("Email").fill("grace@demo-sso.test")
    page.get_by_role("button", name="Next").click()
    page.wait_for_url(lambda url: "/dev-idp/" in url)
    check(page, "demo-idp", screenshot=True)
    page.locator("#demo-email").fill("nobody@elsewhere.test")
    submit(page, "Sign in with this email")
    expect(page.locator("#demo-email")).to_have_attribute("aria-invalid", "true")
    check(page, "demo-idp-error")


def test_demo_idp_session_pages(page: Page, check: Check, demo_seeded: None) -> None:
    page.goto("/dev-idp/")
    check(page, "demo-idp-nobody")
    page.goto("/login/")
    page.get_by_label("Email").fill("grace@demo-sso.test")
    submit(page, "Next")
    page.get_by_role("button", name="Sign in as Grace Hopper").click()
    page.wait_for_url(lambda url: url.endswith("/console/"))
    page.goto("/dev-idp/")
    check(page, "demo-idp-session", screenshot=True)
    page.get_by_role("button", name="Sign out everywhere").click()
    page.wait_for_url(lambda url: "/dev-idp/slo/" in url)
    check(page, "demo-idp-signed-out", screenshot=True)


def test_skip_link_moves_focus_to_the_main_content(page: Page) -> None:
    page.goto("/signup/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Work email")).to_be_focused()


def test_refused_submit_focuses_the_invalid_field_or_the_error_summary(page: Page) -> None:
    page.goto("/signup/")
    page.get_by_label("Work email").fill("ann@example.test")
    page.get_by_label("Password").fill("correct horse battery staple")
    submit(page, "Create account")
    name = page.get_by_label("Organization name")
    expect(name).to_be_focused()
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(name).to_have_attribute("aria-describedby", "id_organization_name_error")
    expect(page.locator("#id_organization_name_error")).to_be_visible()

    page.goto("/login/")
    page.get_by_label("Email").fill(UserFactory().email)
    submit(page, "Next")
    page.get_by_label("Password").fill("not the password")
    submit(page, "Log In")
    expect(page.locator("[data-error-summary]")).to_be_focused()


def test_copied_and_messages_are_announced_in_the_live_region(
    page: Page, live_server: LiveServer, log_in: LogIn
) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    owner = MembershipFactory(role=Role.OWNER)
    event = LoginEventFactory(
        profile=SSOProfileFactory(organization=owner.organization),
        outcome=LoginOutcome.FAILURE,
        reason="audience_mismatch",
        reference="ABCD-EFGH-IJKL-MNOP",
    )
    log_in(page, owner.user.email)
    page.goto(f"/admin-center/sso/{event.profile_sid}/events/{event.pk}/")
    live = page.locator("#live-region")
    expect(live).to_have_attribute("aria-live", "polite")
    expect(live).to_have_text("")
    page.get_by_role("button", name="Copy").click()
    expect(live).to_have_text("Copied to the clipboard")

    page.goto("/admin-center/people/invite/")
    page.get_by_label("Email").fill("ann@example.test")
    submit(page, "Send invitation")
    page.get_by_role("link", name="Back to People").click()
    page.get_by_role("button", name="Revoke the invitation of ann@example.test").click()
    expect(live).to_have_text("The invitation of ann@example.test was revoked.")
