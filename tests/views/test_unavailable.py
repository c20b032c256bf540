"""Redis or the database not answering: 503 with the product's page, a log line alerting can
match, and no sign-in attempt that leaves no trace."""

from __future__ import annotations

import json
import logging
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http import HTTPStatus

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.urls import get_resolver, reverse
from redis.exceptions import ConnectionError as RedisConnectionError

from sso.events import UNRECORDED_MARKER
from sso.infrastructure import MARKER
from sso.models import LoginEvent, LoginOutcome, Role
from sso.views.login import SESSION_EMAIL_KEY
from tests.factories import ActiveProfileFactory, MembershipFactory, UserFactory
from tests.fixtures.idp import ResponseSpec, TestIdP, encode

pytestmark = pytest.mark.django_db

REDIS_SERVER = shutil.which("redis-server")


@pytest.fixture
def redis_down(settings) -> None:
    """The shared cache is a Redis at a loopback port nothing listens on: every connection is
    really refused, as when Redis is stopped."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.CACHES = {
        "default": {
            "BACKEND": "sso.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
        }
    }


@contextmanager
def database_refusing_writes() -> Iterator[None]:
    """The real database connection refuses every write (SQLite's query_only: the driver
    raises a genuine OperationalError, as a database going away does). Set on the driver's
    own connection: Django's refuses queries once the test's transaction holds an error."""
    if connection.vendor != "sqlite":
        pytest.skip("query_only is SQLite's; on PostgreSQL the cache tests still run")
    connection.ensure_connection()
    connection.connection.execute("PRAGMA query_only = ON")
    try:
        yield
    finally:
        connection.connection.execute("PRAGMA query_only = OFF")


def assert_our_503(response) -> None:
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert b'data-testid="error-503"' in response.content
    assert response["Retry-After"]
    assert "no-store" in response["Cache-Control"]


def alerts(caplog, component: str) -> list[logging.LogRecord]:
    return [
        record
        for record in caplog.records
        if record.levelno == logging.ERROR
        and record.getMessage().startswith(f"{MARKER} component={component}")
    ]


def test_sso_start_with_redis_down_503_our_page(client, redis_down, caplog):
    profile = ActiveProfileFactory()
    response = client.get(reverse("sso:saml2_login", args=[profile.sid]))

    assert_our_503(response)
    assert alerts(caplog, "cache")


def test_password_step_with_redis_down_503_our_page(client, redis_down, caplog):
    user = UserFactory(email="ann@example.test")
    session = client.session
    session[SESSION_EMAIL_KEY] = user.email
    session.save()
    response = client.post(reverse("sso:login_password"), {"password": "not-the-password"})

    assert_our_503(response)
    assert alerts(caplog, "cache")


def test_wizard_test_with_redis_down_503_our_page(client, redis_down, caplog):
    membership = MembershipFactory(role=Role.ADMIN)
    profile = ActiveProfileFactory(organization=membership.organization)
    client.force_login(membership.user)
    response = client.post(reverse("sso:wizard_test", args=[profile.sid]))

    assert_our_503(response)
    assert alerts(caplog, "cache")


def test_acs_with_redis_down_503_and_event_keeps_claims(client, redis_down, idp_keys, caplog):
    profile = ActiveProfileFactory(allow_idp_initiated=True)
    spec = ResponseSpec.for_profile(profile)
    xml = TestIdP(idp_keys, entity_id=profile.idp_issuer).signxml_response(spec)
    response = client.post(
        reverse("sso:saml2_acs", args=[profile.sid]), {"SAMLResponse": encode(xml)}
    )

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert "temporarily unavailable" in response.content.decode()
    event = LoginEvent.objects.get()
    assert (event.outcome, event.reason) == (LoginOutcome.FAILURE, "infrastructure_unavailable")
    assert (event.idp_issuer, event.assertion_id) == (profile.idp_issuer, spec.assertion_id)
    assert event.detail == {"component": "cache"}
    assert f"<code>{event.reference}</code>" in response.content.decode()
    assert alerts(caplog, "cache")


def test_acs_with_database_down_503_and_attempt_logged_with_claims(idp_keys, caplog):
    profile = ActiveProfileFactory(allow_idp_initiated=True)
    spec = ResponseSpec.for_profile(profile)
    xml = TestIdP(idp_keys, entity_id=profile.idp_issuer).signxml_response(spec)
    client = Client(REMOTE_ADDR="203.0.113.9")
    with database_refusing_writes():
        response = client.post(
            reverse("sso:saml2_acs", args=[profile.sid]), {"SAMLResponse": encode(xml)}
        )

    assert_our_503(response)
    assert alerts(caplog, "database")
    [line, *_] = [
        record.getMessage()
        for record in caplog.records
        if record.getMessage().startswith(UNRECORDED_MARKER)
    ]
    logged = json.loads(line.removeprefix(UNRECORDED_MARKER))
    assert logged | {"at": "-"} == {
        "at": "-",
        "profile_sid": profile.sid,
        "outcome": "failure",
        "reason": "infrastructure_unavailable",
        "user_id": None,
        "email": spec.email,
        "idp_issuer": profile.idp_issuer,
        "assertion_id": spec.assertion_id,
        "in_response_to": "",
        "client_ip": "203.0.113.9",
        "is_test": False,
    }
    assert "SAMLResponse" not in caplog.text
    assert encode(xml)[:40] not in caplog.text


def test_failure_outside_a_view_503_our_page(rf, redis_down, caplog):
    # Django calls handler500 inside its `except`, as when a middleware saving the session
    # finds the cache down; the failure here is a real refused connection.
    handler = get_resolver().resolve_error_handler(500)
    try:
        cache.get("anything")
    except RedisConnectionError:
        response = handler(rf.get("/console/"))

    assert_our_503(response)
    assert alerts(caplog, "cache")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start_redis(port: int, folder) -> subprocess.Popen:
    server = subprocess.Popen(
        [
            REDIS_SERVER,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(folder),
        ],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return server
        time.sleep(0.05)
    server.kill()
    pytest.fail("redis-server did not start")


@pytest.mark.skipif(not REDIS_SERVER, reason="redis-server is not installed")
def test_sso_start_recovers_when_redis_returns(client, settings, tmp_path, caplog):
    port = _free_port()
    settings.CACHES = {
        "default": {"BACKEND": "sso.cache.RedisCache", "LOCATION": f"redis://127.0.0.1:{port}/0"}
    }
    profile = ActiveProfileFactory()
    url = reverse("sso:saml2_login", args=[profile.sid])
    server = _start_redis(port, tmp_path)
    try:
        assert client.get(url).status_code == HTTPStatus.FOUND
        server.terminate()
        server.wait(10)
        assert_our_503(client.get(url))
        server = _start_redis(port, tmp_path)
        assert client.get(url).status_code == HTTPStatus.FOUND
    finally:
        server.kill()
        server.wait(10)
