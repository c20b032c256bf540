"""`make run` runs the jobs with no other setup: the server it starts (manage.py
runserver_with_jobs, with the Makefile's environment and a .env written by scripts/dev-env.sh)
refreshes a due IdP metadata URL on its own, and the admin sees the new signing certificate on
the profile's IdP metadata step. Everything lives in tmp_path: the checkout is not touched."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http.cookiejar import CookieJar
from pathlib import Path
from string import Template
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from sso.crypto import certificate_body
from sso.validators import parse_certificate
from tests.fixtures.browser import PASSWORD
from tests.fixtures.dns import Zone, self_signed, start_dns, start_https
from tests.fixtures.idp import FIXTURES, KeyPair
from tests.fixtures.servers import (
    HOST,
    ROOT,
    NotReady,
    accepts,
    free_port,
    log_tail,
    spawn,
    stop,
    wait_until_ready,
)

IDP_HOST = "idp.acme.test"
ISSUER = f"https://{IDP_HOST}/saml"
SSO_URL = f"https://{IDP_HOST}/sso"
ADMIN_EMAIL = "admin@example.test"  # not of the profile's trusted domain: a password login
REFRESH_WITHIN = 30.0

# An organization's admin and its active profile, whose metadata URL is due for a refresh.
SEED = """
import datetime as dt, json
from django.utils import timezone
from sso.models import Role
from tests.factories import ActiveProfileFactory, MembershipFactory
data = json.loads({data!r})
admin = MembershipFactory(role=Role.ADMIN, user__email=data["email"])
profile = ActiveProfileFactory(
    organization=admin.organization,
    idp_issuer=data["issuer"],
    idp_sso_url=data["sso_url"],
    certificate__pem=data["certificate"],
    metadata_url=data["metadata_url"],
    metadata_refresh_at=timezone.now() - dt.timedelta(minutes=1),
)
assert profile.metadata_fetched_at is None and profile.certificates.count() == 1
print(json.dumps({{"sid": str(profile.sid)}}))
"""


def metadata_document(*certificates: str) -> str:
    key_descriptor = Template((FIXTURES / "key_descriptor.xml").read_text())
    return Template((FIXTURES / "idp_metadata_refreshed.xml").read_text()).substitute(
        entity_id=ISSUER,
        sso_url=SSO_URL,
        freshness="",
        key_descriptors="".join(
            key_descriptor.substitute(certificate=certificate_body(pem)) for pem in certificates
        ),
    )


def make_run_env(tmp_path: Path, *, port: int, extra: dict[str, str]) -> dict[str, str]:
    """A developer's shell (none of this test run's Django settings), plus what the Makefile's
    `run` target exports, and the .env its dev-env step writes, in tmp_path."""
    shell = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DJANGO_", "SSO_")) and name not in ("DATABASE_URL", "CACHE_URL")
    }
    env = {
        **shell,
        "DJANGO_READ_DOT_ENV_FILE": "true",
        "DJANGO_DEBUG": "true",
        "SSO_PUBLIC_BASE_URL": f"http://{HOST}:{port}",
        "DJANGO_DOT_ENV_FILE": str(tmp_path / ".env"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "SSO_JOBS_SQLITE_PATH": str(tmp_path / "jobs.sqlite3"),
        "SSO_DEMO_IDP_DIR": str(tmp_path / "demo-idp"),
        **extra,
    }
    subprocess.run(
        ["bash", str(ROOT / "scripts" / "dev-env.sh"), env["DJANGO_DOT_ENV_FILE"],
         env["SSO_PUBLIC_BASE_URL"]],
        cwd=tmp_path, env=env, check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    return env


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, f"manage.py {args[0]}: {result.stdout}{result.stderr}"
    return result.stdout


def server_log(path: Path) -> str:
    """The log without the development server's request lines."""
    lines = path.read_text(errors="replace").splitlines()
    return "\n".join([line for line in lines if not line.startswith("[")][-40:])


@dataclass
class WebSession:
    """Cookies and CSRF tokens over plain HTTP, as a browser signs in on `make run`."""

    base_url: str

    def __post_init__(self) -> None:
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

    def get(self, path: str) -> str:
        with self.opener.open(self.base_url + path, timeout=10) as response:
            return response.read().decode()

    def submit(self, path: str, fields: dict[str, str]) -> str:
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', self.get(path))
        assert token, f"no CSRF token on {path}"
        body = urlencode({"csrfmiddlewaretoken": token.group(1), **fields}).encode()
        with self.opener.open(self.base_url + path, data=body, timeout=10) as response:
            return response.geturl()


@dataclass(frozen=True)
class IdPServer:
    files: dict[str, str]  # what it answers, by path
    metadata_url: str
    env: dict[str, str]  # the settings the app needs to reach it on loopback


@pytest.fixture
def idp_server(tmp_path: Path) -> Iterator[IdPServer]:
    """The IdP's HTTPS server, and a DNS server naming it."""
    zone = Zone(a={IDP_HOST: "127.0.0.1"})
    dns, dns_port = start_dns(zone)
    cert, key = self_signed(tmp_path, IDP_HOST)
    files: dict[str, str] = {}
    https = start_https(files, cert, key)
    yield IdPServer(
        files=files,
        metadata_url=f"https://{IDP_HOST}:{https.server_address[1]}/metadata",
        env={
            "SSO_DNS_NAMESERVER": f"127.0.0.1:{dns_port}",
            "SSO_DOMAIN_HTTPS_CA_FILE": str(cert),
            "SSO_DOMAIN_HTTPS_ALLOW_PRIVATE": "true",
            # The engine looks for due refreshes every minute, from its start, not every ten.
            "SSO_METADATA_REFRESH_CHECK_MINUTES": "1",
        },
    )
    https.shutdown()
    dns.stop()


def test_make_run_server_refreshes_due_metadata_by_itself_and_the_admin_sees_it(
    tmp_path: Path, idp_server: IdPServer
) -> None:
    old, new = KeyPair.generate("IdP 2026"), KeyPair.generate("IdP 2027")
    idp_server.files["/metadata"] = metadata_document(new.certificate_pem, old.certificate_pem)
    port = free_port()
    env = make_run_env(tmp_path, port=port, extra=idp_server.env)
    manage(env, "migrate", "--noinput")
    data = {
        "email": ADMIN_EMAIL,
        "issuer": ISSUER,
        "sso_url": SSO_URL,
        "certificate": old.certificate_pem,
        "metadata_url": idp_server.metadata_url,
    }
    seeded = manage(env, "shell", "-v", "0", "-c", SEED.format(data=json.dumps(data)))
    sid = json.loads(seeded)["sid"]

    log_path = tmp_path / "runserver.log"
    with log_path.open("wb") as log:
        server = spawn(
            [sys.executable, "manage.py", "runserver_with_jobs", f"{HOST}:{port}"],
            env=env, cwd=ROOT, log=log,
        )  # fmt: skip
    try:
        try:
            wait_until_ready(server, lambda: None if accepts(port) else "refused", timeout=30)
        except NotReady as error:
            pytest.fail(f"runserver_with_jobs {error}:\n{log_tail(log_path)}")
        browser = WebSession(f"http://{HOST}:{port}")
        browser.submit(reverse("sso:login"), {"email": ADMIN_EMAIL})
        landed = browser.submit(reverse("sso:login_password"), {"password": PASSWORD})
        assert "/login/" not in landed

        step = reverse("sso:wizard_idp_metadata", args=[sid])
        new_fingerprint = parse_certificate(new.certificate_pem).fingerprint_sha256
        deadline = time.monotonic() + REFRESH_WITHIN
        page = browser.get(step)
        while new_fingerprint not in page and time.monotonic() < deadline:
            time.sleep(0.25)
            page = browser.get(step)
    finally:
        stop(server)

    assert new_fingerprint in page, (
        f"no refresh within {REFRESH_WITHIN:.0f}s; server log:\n{server_log(log_path)}"
    )
    assert parse_certificate(old.certificate_pem).fingerprint_sha256 in page
    fetched = re.search(r'data-testid="metadata-fetched">([^<]+)<', page)
    assert fetched and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", fetched.group(1))
    assert 'data-testid="metadata-error"' not in page
