"""The development setup: the console's way to the Admin Center, the banner when the browser's
origin is not SSO_PUBLIC_BASE_URL, and the development .env that `make run` writes."""

from __future__ import annotations

from http import HTTPStatus
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from adminsite.settings import _is_development_dot_env
from sso.models import Role
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

ADMIN_CENTER_LINK = b'<a href="/admin-center/">Admin Center</a>'


@pytest.mark.parametrize(
    ("role", "shown"), [(Role.OWNER, True), (Role.ADMIN, True), (Role.MEMBER, False)]
)
def test_console_admin_center_link_for_owners_and_admins_only(
    client: Client, role: str, shown: bool
) -> None:
    client.force_login(MembershipFactory(role=role).user)
    response = client.get(reverse("sso:console"))
    assert response.status_code == HTTPStatus.OK
    assert (ADMIN_CENTER_LINK in response.content) is shown


@pytest.mark.parametrize(
    ("debug", "host", "shown"),
    [(True, "localhost", True), (True, "127.0.0.1:8000", False), (False, "localhost", False)],
)
def test_origin_banner_in_debug_when_origin_differs(
    client: Client, settings, debug: bool, host: str, shown: bool
) -> None:
    settings.DEBUG = debug
    settings.SSO_PUBLIC_BASE_URL = "http://127.0.0.1:8000"
    response = client.get(reverse("sso:login"), HTTP_HOST=host)
    assert (b'data-testid="origin-banner"' in response.content) is shown


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("# make run\nDJANGO_DEBUG=true\nDJANGO_SECRET_KEY=abc\n", True),
        ("DJANGO_DEBUG=false\nDJANGO_SECRET_KEY=abc\n", False),
        ("DJANGO_SECRET_KEY=abc\n", False),
        (None, False),
    ],
)
def test_dot_env_read_unasked_only_when_written_for_development(
    tmp_path: Path, text: str | None, read: bool
) -> None:
    path = tmp_path / ".env"
    if text is not None:
        path.write_text(text)
    assert _is_development_dot_env(path) is read
