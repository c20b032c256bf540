"""`make run`'s demo in a real Chromium: seed_demo, then /login/ → grace@demo-sso.test → the
built-in demo IdP → Sign in → the console; the owner then finds the login in the Admin Center.
Single logout with the demo IdP, both ways: Sign out here signs out there too, and the demo
IdP's Sign out everywhere signs the person out here."""

from __future__ import annotations

import re
from collections.abc import Callable
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import Page, expect
from pytest_django import Settings
from pytest_django.live_server_helper import LiveServer

from sso.models import AuditAction, AuditEvent, LoginEvent, LoginOutcome, SSOProfile
from tests.fixtures.browser import LogIn, Shot

pytestmark = pytest.mark.django_db(transaction=True)

CONSOLE = re.compile(r"^http://[^/]+/console/$")
DEMO_IDP = re.compile(r"^http://[^/]+/dev-idp/sso/\?SAMLRequest=")
LOGIN = re.compile(r"^http://[^/]+/login/$")
DEMO_IDP_SLO = re.compile(r"^http://[^/]+/dev-idp/slo/\?SAMLResponse=")


def test_demo_idp_signs_grace_in_and_the_owner_sees_the_login_event(
    page: Page,
    live_server: LiveServer,
    settings: Settings,
    demo_idp: Callable[..., None],
    tmp_path: Path,
    shot: Shot,
    log_in: LogIn,
) -> None:
    demo_idp()
    settings.SSO_PUBLIC_BASE_URL = live_server.url
    settings.BASE_DIR = tmp_path  # the printed owner password goes to tmp_path/var/
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert f"Try SSO: go to {live_server.url}/login/, type grace@demo-sso.test" in out.getvalue()
    profile = SSOProfile.objects.get(name="Demo IdP")

    page.goto("/login/")
    page.get_by_label("Email").fill("grace@demo-sso.test")
    shot(page, "demo-idp-1-email")
    page.get_by_role("button", name="Next").click()
    page.wait_for_url(DEMO_IDP)
    expect(page.get_by_role("heading", name="Sign in to Acme")).to_be_visible()
    shot(page, "demo-idp-2-idp-page")
    page.get_by_role("button", name="Sign in as Grace Hopper").click()
    page.wait_for_url(CONSOLE)
    expect(page.locator(".topbar .who")).to_have_text("grace@demo-sso.test")
    expect(page.get_by_test_id("console-organization")).to_have_text("Acme")
    # A member: no way to the Admin Center.
    expect(page.locator(".topnav").get_by_role("link", name="Admin Center")).to_have_count(0)
    shot(page, "demo-idp-3-console")
    event = LoginEvent.objects.get(profile=profile, is_test=False)
    assert (event.outcome, event.reason, event.email) == (
        LoginOutcome.SUCCESS,
        "ok",
        "grace@demo-sso.test",
    )
    page.locator(".topbar").get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/login/$"))

    password = (tmp_path / "var" / "demo-owner-password").read_text().strip()
    log_in(page, "owner@acme.test", password)
    page.wait_for_url(CONSOLE)
    shot(page, "demo-idp-4-owner-console")
    page.locator(".topnav").get_by_role("link", name="Admin Center").click()
    page.wait_for_url(re.compile(r"/admin-center/sso/$"))
    page.goto(reverse("sso:profile_login_events", args=[profile.sid]))
    expect(page.locator("main")).to_contain_text("grace@demo-sso.test")
    shot(page, "demo-idp-5-login-events")


@pytest.fixture
def seeded(
    live_server: LiveServer, settings: Settings, demo_idp: Callable[..., None], tmp_path: Path
) -> SSOProfile:
    demo_idp()
    settings.SSO_PUBLIC_BASE_URL = live_server.url
    settings.BASE_DIR = tmp_path
    call_command("seed_demo", stdout=StringIO())
    return SSOProfile.objects.get(name="Demo IdP")


def _sign_in_as_grace(page: Page) -> None:
    page.goto("/login/")
    page.get_by_label("Email").fill("grace@demo-sso.test")
    page.get_by_role("button", name="Next").click()
    page.wait_for_url(DEMO_IDP)
    page.get_by_role("button", name="Sign in as Grace Hopper").click()
    page.wait_for_url(CONSOLE)
    expect(page.locator(".topbar .who")).to_have_text("grace@demo-sso.test")


def test_sign_out_signs_out_at_the_demo_idp_too(page: Page, seeded: SSOProfile, shot: Shot) -> None:
    _sign_in_as_grace(page)
    page.goto("/dev-idp/")
    expect(page.get_by_role("heading", name="Signed in as Grace Hopper")).to_be_visible()
    shot(page, "demo-idp-slo-1-idp-session")

    page.goto("/console/")
    page.locator(".topbar").get_by_role("button", name="Sign out").click()
    page.wait_for_url(LOGIN)
    expect(page.locator("[data-messages]")).to_have_text(
        "You are signed out here and at your identity provider."
    )
    shot(page, "demo-idp-slo-2-signed-out-both")

    page.goto("/dev-idp/")
    expect(page.get_by_role("heading", name="Nobody is signed in here")).to_be_visible()
    shot(page, "demo-idp-slo-3-idp-no-session")
    page.goto("/login/")
    page.get_by_label("Email").fill("grace@demo-sso.test")
    page.get_by_role("button", name="Next").click()
    page.wait_for_url(DEMO_IDP)
    expect(page.get_by_role("button", name="Sign in as Grace Hopper")).to_be_visible()
    expect(page.get_by_text("You are signed in at the demo IdP")).to_have_count(0)
    shot(page, "demo-idp-slo-4-idp-asks-again")


def test_sign_out_everywhere_at_the_demo_idp_signs_out_here(
    page: Page, seeded: SSOProfile, shot: Shot
) -> None:
    _sign_in_as_grace(page)
    # Signed in here, a new sign-in through the profile: the demo IdP remembers Grace.
    page.goto(reverse("sso:saml2_login", args=[seeded.sid]))
    page.wait_for_url(DEMO_IDP)
    expect(page.locator("[data-demo-session]")).to_have_text(
        "You are signed in at the demo IdP as Grace Hopper."
    )
    shot(page, "demo-idp-slo-5-idp-page-signed-in")
    page.get_by_role("link", name="Demo IdP").click()
    page.wait_for_url(re.compile(r"/dev-idp/$"))

    page.get_by_role("button", name="Sign out everywhere").click()
    page.wait_for_url(DEMO_IDP_SLO)
    expect(page.get_by_role("heading", name="You are signed out everywhere")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Acme confirmed that it signed you out too.")
    shot(page, "demo-idp-slo-6-signed-out-everywhere")
    event = AuditEvent.objects.get(profile=seeded, action=AuditAction.IDP_LOGOUT)
    assert event.changes["accounts_signed_out"] == ["grace@demo-sso.test"]

    page.goto("/console/")
    page.wait_for_url(re.compile(r"/login/"))
    page.goto("/dev-idp/")
    expect(page.get_by_role("heading", name="Nobody is signed in here")).to_be_visible()
