"""`make run`'s demo in a real Chromium: seed_demo, then /login/ → grace@demo-sso.test → the
built-in demo IdP → Sign in → the console; the owner then finds the login in the Admin Center."""

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

from sso.models import LoginEvent, LoginOutcome, SSOProfile
from tests.fixtures.browser import LogIn, Shot

pytestmark = pytest.mark.django_db(transaction=True)

CONSOLE = re.compile(r"^http://[^/]+/console/$")
DEMO_IDP = re.compile(r"^http://[^/]+/dev-idp/sso/\?SAMLRequest=")


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
