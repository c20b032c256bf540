"""Smoke tests: the login page renders in a real Chromium, and a password login works."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.factories import UserFactory
from tests.fixtures.browser import Shot

pytestmark = pytest.mark.django_db(transaction=True)


def test_login_page_renders_in_chromium(page: Page, shot: Shot) -> None:
    page.goto("/login/")
    expect(page.get_by_role("heading", name="Log In")).to_be_visible()
    shot(page, "smoke-login")


def test_password_login_reaches_console(page: Page, shot: Shot) -> None:
    user = UserFactory()
    page.goto("/login/")
    page.fill("#id_email", user.email)
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_test_id("login-email")).to_have_text(user.email)
    page.fill("#id_password", "correct horse battery")
    page.get_by_role("button", name="Log In").click()
    expect(page).to_have_url(re.compile(r"/console/$"))
    expect(page.locator("body")).to_contain_text(user.email)
    shot(page, "smoke-console")
