"""Several workers as one: two gunicorn servers sharing one PostgreSQL and one Redis.

Runs in the PostgreSQL/Redis pass of `make test` (DATABASE_URL and CACHE_URL set); the SQLite
pass has no shared services to test, so it skips this module.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

import pytest
from django.conf import settings
from django.db import connection

from sso.models import LoginEvent
from tests.factories import ActiveProfileFactory
from tests.fixtures.idp import ResponseSpec, authn_request_from_redirect, encode
from tests.fixtures.servers import HOST, ROOT, Gunicorn

SHARED = os.environ.get("DATABASE_URL", "").startswith("postgres") and os.environ.get(
    "CACHE_URL", ""
).startswith("redis")
pytestmark = [
    pytest.mark.skipif(
        not SHARED, reason="needs DATABASE_URL=postgres://... and CACHE_URL=redis://..."
    ),
    pytest.mark.django_db(transaction=True),
]
RACE_ROUNDS = int(os.environ.get("SSO_RACE_ROUNDS", "60"))


@dataclass(frozen=True)
class Worker:
    port: int

    def request(
        self, method: str, path: str, *, body: dict | None = None, cookies: dict | None = None
    ) -> http.client.HTTPResponse:
        connection_ = http.client.HTTPConnection(HOST, self.port, timeout=30)
        headers = {"Host": HOST}
        if cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        data = None
        if body is not None:
            data = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection_.request(method, path, body=data, headers=headers)
        response = connection_.getresponse()
        response.read()
        return response


def _cookies(response: http.client.HTTPResponse) -> dict[str, str]:
    jar = SimpleCookie()
    for header in response.headers.get_all("Set-Cookie") or []:
        jar.load(header)
    return {name: morsel.value for name, morsel in jar.items()}


@pytest.fixture
def workers(tmp_path) -> Iterator[list[Worker]]:
    """Two gunicorn servers, two workers each, on the test database."""
    database = dict(connection.settings_dict)
    url = urlsplit(os.environ["DATABASE_URL"])
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "adminsite.settings",
        # The test database, where this test's committed rows are.
        "DATABASE_URL": url._replace(path=f"/{database['NAME']}").geturl(),
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "SSO_KEY_ENCRYPTION_SECRET": settings.SSO_KEY_ENCRYPTION_SECRET,
        "SSO_PUBLIC_BASE_URL": settings.SSO_PUBLIC_BASE_URL,
        "DJANGO_ALLOWED_HOSTS": HOST,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    with contextlib.ExitStack() as stack:
        servers = [
            stack.enter_context(Gunicorn(env=env, log_path=tmp_path / f"gunicorn{n}.log"))
            for n in range(2)
        ]
        yield [Worker(server.port) for server in servers]


@pytest.fixture
def profile():
    return ActiveProfileFactory(allow_idp_initiated=True)


def _acs(profile) -> str:
    return f"/sso/saml2/{profile.sid}/acs/"


def test_login_started_on_one_worker_finishes_on_the_other(workers, profile, idp):
    first, second = workers
    started = first.request("GET", f"/sso/saml2/{profile.sid}/login/?next=/console/")
    assert started.status == 302
    request, _ = authn_request_from_redirect(started.headers["Location"])
    browser = _cookies(started)

    xml = idp.signxml_response(ResponseSpec.for_profile(profile, in_response_to=request.get("ID")))
    finished = second.request(
        "POST", _acs(profile), body={"SAMLResponse": encode(xml)}, cookies=browser
    )

    assert finished.status == 302, LoginEvent.objects.first().reason
    assert finished.headers["Location"] == "/console/"
    session = _cookies(finished)
    console = first.request("GET", "/console/", cookies=session)
    assert console.status == 200

    replayed = first.request(
        "POST", _acs(profile), body={"SAMLResponse": encode(xml)}, cookies=browser
    )
    assert replayed.status == 403
    assert LoginEvent.objects.first().reason == "replayed_assertion"


def test_concurrent_replay_lets_exactly_one_login_through(workers, profile, idp, capsys):
    first, second = workers
    through = 0
    for _ in range(RACE_ROUNDS):
        body = {"SAMLResponse": encode(idp.signxml_response(ResponseSpec.for_profile(profile)))}
        barrier = threading.Barrier(2)
        statuses: list[int] = []

        def post(
            worker: Worker, body: dict, barrier: threading.Barrier, statuses: list[int]
        ) -> None:
            barrier.wait()
            statuses.append(worker.request("POST", _acs(profile), body=body).status)

        threads = [
            threading.Thread(target=post, args=(worker, body, barrier, statuses))
            for worker in (first, second)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(statuses) == [302, 403], statuses
        through += statuses.count(302)

    # Past SSO_REFUSAL_EVENTS_PER_MINUTE, refusals from one client are counted on the last event.
    replays = LoginEvent.objects.filter(reason="replayed_assertion")
    refused = replays.count() + sum(replays.values_list("repeats", flat=True))
    with capsys.disabled():
        print(
            f"\nconcurrent replay: {RACE_ROUNDS} rounds x 2 workers = {2 * RACE_ROUNDS} "
            f"attempts, {through} logins through, {refused} refused as replayed_assertion, "
            f"{through - RACE_ROUNDS} extra logins"
        )
    assert through == RACE_ROUNDS
    assert refused == RACE_ROUNDS


def test_session_not_on_or_after_ends_the_session_on_both_workers(workers, profile, idp):
    """The expiry lives with the session in the shared store: no worker honours it late."""
    first, _ = workers
    for worker in workers:  # a worker's first request loads the app: not on the clock below
        worker.request("GET", f"/sso/saml2/{profile.sid}/metadata/")
    ends_at = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=8)
    xml = idp.signxml_response(ResponseSpec.for_profile(profile, session_not_on_or_after=ends_at))
    signed_in = first.request("POST", _acs(profile), body={"SAMLResponse": encode(xml)})
    assert signed_in.status == 302, LoginEvent.objects.first().reason
    session = _cookies(signed_in)
    assert [w.request("GET", "/console/", cookies=session).status for w in workers] == [200, 200]

    time.sleep(max((ends_at - dt.datetime.now(dt.UTC)).total_seconds(), 0) + 1)

    assert [w.request("GET", "/console/", cookies=session).status for w in workers] == [302, 302]
    assert LoginEvent.objects.first().detail["session_limit"] == "idp"
