"""The email-first login in a real Chromium: through SSO with Playwright playing the IdP, and
with a password.

The browser talks to the live server at http://localhost:PORT and the IdP page is served by
Playwright at https://idp.acme.test, another site: its auto-submitting form is a cross-site
POST to the ACS, exactly what a real IdP sends.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import escape

import pytest
from django.core import mail
from playwright.sync_api import Browser, BrowserContext, Page, Response, Route, expect
from pytest_django import Settings
from pytest_django.live_server_helper import LiveServer

from sso.models import LoginEvent, LoginOutcome, ProfileStatus, SSOProfile, User
from sso.saml.config import sp_acs_url, sp_entity_id
from tests.factories import ActiveProfileFactory, MembershipFactory, UserFactory, shared_idp_keys
from tests.fixtures.browser import PASSWORD, Shot
from tests.fixtures.idp import ResponseSpec, TestIdP, authn_request_from_redirect, encode

pytestmark = pytest.mark.django_db(transaction=True)

IDP_ORIGIN = "https://idp.acme.test"
REQUEST_COOKIE = "sso_request"
# Whole URLs: "/console/$" alone would already match "/login/?next=/console/".
CONSOLE = re.compile(r"^http://[^/]+/console/$")
PASSWORD_STEP = re.compile(r"^http://[^/]+/login/password/$")
LOGIN = re.compile(r"^http://[^/]+/login/$")


@pytest.fixture
def context(browser: Browser, live_server: LiveServer) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live_server.url)
    yield context
    context.close()


def play_idp(
    context: BrowserContext,
    profile: SSOProfile,
    email: str,
) -> list[tuple[str, str | None]]:
    """Answer the profile's IdP SSO URL like a real IdP: a page on the IdP's own origin whose
    form POSTs a signed Response (cross-site) to the ACS.

    Returns the (AuthnRequest ID, RelayState) pairs the IdP received.
    """
    idp = TestIdP(shared_idp_keys(), entity_id=profile.idp_issuer)
    acs_url = sp_acs_url(profile)
    audience = sp_entity_id(profile)
    seen: list[tuple[str, str | None]] = []

    def answer(route: Route) -> None:
        request, query = authn_request_from_redirect(route.request.url)
        request_id = request.get("ID")
        seen.append((request_id, query.get("RelayState")))
        spec = ResponseSpec(
            issuer=profile.idp_issuer,
            destination=acs_url,
            audience=audience,
            email=email,
            in_response_to=request_id,
        )
        fields = {"SAMLResponse": encode(idp.signxml_response(spec))}
        if "RelayState" in query:
            fields["RelayState"] = query["RelayState"]
        inputs = "".join(
            f'<input type="hidden" name="{name}" value="{escape(value)}">'
            for name, value in fields.items()
        )
        route.fulfill(
            status=200,
            content_type="text/html",
            body=(
                "<!doctype html><html><head><title>Test IdP</title></head><body>"
                f'<form method="post" action="{escape(acs_url)}">{inputs}</form>'
                "<script>document.forms[0].submit()</script></body></html>"
            ),
        )

    context.route(f"{IDP_ORIGIN}/**", answer)
    return seen


def is_acs_post(response: Response) -> bool:
    return response.request.method == "POST" and response.url.endswith("/acs/")


def _event(event: LoginEvent | None) -> str:
    if event is None:
        return "no login event"
    return f"login event: outcome={event.outcome} reason={event.reason} detail={event.detail}"


def sign_out(page: Page) -> None:
    page.locator(".topbar").get_by_role("button", name="Sign out").click()
    page.wait_for_url(LOGIN)
    expect(page.get_by_role("heading", name="Log In")).to_be_visible()
    page.goto("/console/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/console/$"))


def test_login_page_signs_in_through_sso_and_with_password(
    browser: Browser,
    context: BrowserContext,
    live_server: LiveServer,
    settings: Settings,
    shot: Shot,
) -> None:
    # A) SSO. The ACS URL and Entity ID must name the live server the browser talks to.
    settings.SSO_PUBLIC_BASE_URL = live_server.url
    profile = ActiveProfileFactory(domain__domain="acme.test")
    seen = play_idp(context, profile, "grace@acme.test")
    page = context.new_page()

    page.goto("/login/?next=/console/")
    page.fill("#id_email", "grace@acme.test")
    shot(page, "login-sso-1-email")
    with page.expect_response(is_acs_post) as acs_info:
        page.get_by_role("button", name="Next").click()
    acs = acs_info.value
    assert [relay for _, relay in seen] == ["/console/"]
    [(request_id, _)] = seen

    # The browser-binding cookie went along on the IdP's cross-site POST.
    assert f"{REQUEST_COOKIE}=" in (acs.request.all_headers().get("cookie") or "")
    page.wait_for_url(CONSOLE)
    event = LoginEvent.objects.first()
    assert event is not None
    assert (event.outcome, event.reason) == (LoginOutcome.SUCCESS, "ok"), _event(event)
    assert event.in_response_to == request_id
    assert event.detail == {
        "initiated_by": "sp",
        "verified_with": event.profile.certificates.get().fingerprint_sha256,
        "signed": ["response", "assertion"],
        "signature_policy": "both",
    }
    expect(page.locator(".topbar .who")).to_have_text("grace@acme.test")
    expect(page.locator("body")).to_contain_text("grace@acme.test")
    shot(page, "login-sso-2-console")
    assert User.objects.filter(email="grace@acme.test").exists()
    sign_out(page)

    # B) Password, in a fresh context.
    user = UserFactory(email="ann@example.test")
    password_context = browser.new_context(
        viewport={"width": 1280, "height": 900}, base_url=live_server.url
    )
    try:
        page = password_context.new_page()
        page.goto("/login/")
        page.fill("#id_email", user.email)
        page.get_by_role("button", name="Next").click()
        page.wait_for_url(PASSWORD_STEP)
        expect(page.get_by_test_id("login-email")).to_have_text("ann@example.test")
        expect(page.get_by_role("link", name="Change")).to_be_visible()
        expect(page.get_by_role("link", name="Forgot Password?")).to_be_visible()
        page.fill("#id_password", PASSWORD)
        shot(page, "login-password-1-step")
        page.get_by_role("button", name="Log In").click()
        page.wait_for_url(CONSOLE)
        expect(page.locator(".topbar .who")).to_have_text("ann@example.test")
        shot(page, "login-password-2-console")
        sign_out(page)
    finally:
        password_context.close()


def test_password_step_refuses_sso_enforced_user_with_sso_button(
    context: BrowserContext, live_server: LiveServer, settings: Settings, shot: Shot
) -> None:
    """SSO is turned on and enforced while a member sits on the password step: the password is
    refused and the page offers "Continue with SSO", which leads through the IdP."""
    settings.SSO_PUBLIC_BASE_URL = live_server.url
    profile = ActiveProfileFactory(domain__domain="acme.test", status=ProfileStatus.DRAFT)
    membership = MembershipFactory(organization=profile.organization, user__email="bob@acme.test")
    seen = play_idp(context, profile, "bob@acme.test")
    page = context.new_page()

    # No active profile yet: the email step leads to the password step.
    page.goto("/login/")
    page.fill("#id_email", "bob@acme.test")
    page.get_by_role("button", name="Next").click()
    page.wait_for_url(PASSWORD_STEP)
    expect(page.get_by_test_id("login-email")).to_have_text("bob@acme.test")

    # Meanwhile an admin activates the profile and enforces SSO.
    profile.status = ProfileStatus.ACTIVE
    profile.save(update_fields=["status"])
    organization = membership.organization
    organization.enforce_sso = True
    organization.save(update_fields=["enforce_sso"])

    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log In").click()
    alert = page.locator("[data-error-summary]")
    expect(alert).to_contain_text("Your organization requires single sign-on.")
    continue_sso = alert.get_by_role("link", name="Continue with SSO")
    expect(continue_sso).to_have_attribute("href", f"/sso/saml2/{profile.sid}/login/")
    expect(page.locator(".topbar .who")).to_have_count(0)
    shot(page, "login-password-sso-required")

    continue_sso.click()
    page.wait_for_url(CONSOLE)
    assert len(seen) == 1
    expect(page.locator(".topbar .who")).to_have_text("bob@acme.test")


def test_sign_up_needs_the_emailed_link_before_the_password_signs_in(
    page: Page, shot: Shot
) -> None:
    page.goto("/signup/")
    page.get_by_label("Work email").fill("founder@newco.test")
    page.get_by_label("Password").fill("a long unusual passphrase 42")
    page.get_by_label("Organization name").fill("NewCo")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    shot(page, "signup-1-check-email")

    page.goto("/login/")
    page.get_by_label("Email").fill("founder@newco.test")
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Password").fill("a long unusual passphrase 42")
    page.get_by_role("button", name="Log In").click()
    alert = page.locator("[data-error-summary]")
    expect(alert).to_contain_text("Confirm your email address first")
    shot(page, "signup-2-unverified-refused")
    alert.get_by_role("button", name="Send the link again").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    assert len(mail.outbox) == 2
    link = re.search(r"https://sso\.test(/signup/verify/\S+/)", mail.outbox[-1].body).group(1)
    page.goto(link)
    page.get_by_role("button", name="Confirm my email address").click()
    expect(
        page.locator("[data-messages]").get_by_text("Your email address is confirmed.")
    ).to_be_visible()
    shot(page, "signup-3-confirmed")
    expect(page.get_by_label("Email")).to_have_value("founder@newco.test")
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Password").fill("a long unusual passphrase 42")
    page.get_by_role("button", name="Log In").click()
    expect(page).to_have_url(re.compile(r"/console/$"))
