"""Real-browser fixtures: Playwright driving Debian's Chromium against the live server."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from pytest_django.live_server_helper import LiveServer

# Playwright's sync API runs an event loop in the test thread, which makes Django's ORM refuse.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

Shot = Callable[[Page, str], Path]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: run scripts/browser-packages.sh"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live_server.url)
    yield context.new_page()
    context.close()


@pytest.fixture
def shot(pytestconfig: pytest.Config) -> Shot:
    folder = pytestconfig.rootpath / "test-artifacts" / "screenshots"

    def save(page: Page, name: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        page.screenshot(path=path, full_page=True)
        return path

    return save


LogIn = Callable[..., None]

PASSWORD = "correct horse battery"


@pytest.fixture
def log_in() -> LogIn:
    """Log a user in through the real email-first login: email, Next, password, Log In."""

    def log_in(page: Page, email: str, password: str = PASSWORD) -> None:
        page.goto("/login/")
        page.get_by_label("Email").fill(email)
        page.get_by_role("button", name="Next").click()
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log In").click()
        page.wait_for_url(lambda url: "/login/" not in url)

    return log_in
