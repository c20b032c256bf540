"""The benchmark's signed responses: what the IdP says, the AuthnRequests they answer, and a
pool of processes that signs them (tests/fixtures/idp.py, Response and Assertion) before
anything is timed."""

from __future__ import annotations

import contextlib
import datetime as dt
import multiprocessing
import os
import secrets
from collections.abc import Sequence
from multiprocessing.pool import Pool
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from tests.fixtures.idp import KeyPair, ResponseSpec, TestIdP, encode, new_id

if TYPE_CHECKING:
    from sso.models import SSOProfile

EMAIL = "grace@acme.test"
_REDIS_CACHE = "sso.cache.RedisCache"

# The benchmark's one browser: the `sso_request` cookie every AuthnRequest is bound to.
BROWSER_TOKEN = secrets.token_urlsafe(32)


def attributes_for(size: int) -> dict[str, str]:
    attributes = {"givenName": "Grace", "sn": "Hopper"}
    for index in range(size - len(attributes)):
        attributes[f"urn:oid:1.3.6.1.4.1.99999.{index}"] = f"value {index} of this attribute"
    return dict(list(attributes.items())[:size])


def response_specs(profile: SSOProfile, sizes: Sequence[int]) -> dict[int, ResponseSpec]:
    # Valid long enough for the slowest run; each response still gets fresh IDs when signed.
    valid_until = dt.datetime.now(dt.UTC) + dt.timedelta(hours=6)
    return {
        size: ResponseSpec.for_profile(
            profile, email=EMAIL, attributes=attributes_for(size), not_on_or_after=valid_until
        )
        for size in sizes
    }


_POOL_IDP: TestIdP | None = None


def _init_signer(keys: KeyPair, entity_id: str) -> None:
    global _POOL_IDP
    _POOL_IDP = TestIdP(keys, entity_id=entity_id)


def _sign_batch(task: tuple[ResponseSpec, list[str], bool]) -> list[str] | list[bytes]:
    """A response to each AuthnRequest id, with fresh Response and Assertion IDs.

    As base64 text, or (`as_body`) as the urlencoded POST body a browser sends.
    """
    spec, request_ids, as_body = task
    if _POOL_IDP is None:
        raise RuntimeError("signer not initialised")
    encoded = [
        encode(
            _POOL_IDP.signxml_response(
                spec.replace(response_id=new_id(), assertion_id=new_id(), in_response_to=request_id)
            )
        )
        for request_id in request_ids
    ]
    if as_body:
        return [urlencode({"SAMLResponse": value}).encode() for value in encoded]
    return encoded


class Signer:
    """Signs responses in a pool of processes, one per core."""

    def __init__(self, keys: KeyPair, entity_id: str) -> None:
        context = multiprocessing.get_context("fork")
        self._pool: Pool = context.Pool(
            processes=os.cpu_count() or 2, initializer=_init_signer, initargs=(keys, entity_id)
        )

    def _tasks(
        self, spec: ResponseSpec, request_ids: list[str], as_body: bool
    ) -> list[tuple[ResponseSpec, list[str], bool]]:
        count = len(request_ids)
        batch = max(1, min(200, count // (4 * (os.cpu_count() or 2))))
        return [
            (spec, request_ids[start : start + batch], as_body) for start in range(0, count, batch)
        ]

    def responses(self, spec: ResponseSpec, request_ids: list[str]) -> list[str]:
        tasks = self._tasks(spec, request_ids, as_body=False)
        return [item for chunk in self._pool.imap(_sign_batch, tasks) for item in chunk]

    def bodies(self, spec: ResponseSpec, request_ids: list[str]) -> list[bytes]:
        tasks = self._tasks(spec, request_ids, as_body=True)
        return [item for chunk in self._pool.imap(_sign_batch, tasks) for item in chunk]

    def bodies_to_file(self, spec: ResponseSpec, request_ids: list[str], path: Path) -> None:
        """Many POST bodies, one a line, without holding them all in memory."""
        tasks = self._tasks(spec, request_ids, as_body=True)
        with path.open("wb") as file:
            for chunk in self._pool.imap(_sign_batch, tasks):
                for body in chunk:
                    file.write(body + b"\n")

    def close(self) -> None:
        self._pool.close()
        self._pool.join()


def request_cookie_name() -> str:
    from django.conf import settings

    return settings.SSO_REQUEST_COOKIE_NAME


def outstanding_requests(sid: str, count: int, cache_url: str | None = None) -> list[str]:
    """`count` AuthnRequest ids this browser is waiting on, stored as the login endpoint stores
    them (`pending_request_save`), in this process's cache or the workers' shared one."""
    from django.test import override_settings

    from sso.saml.pending import pending_request_save

    caches = (
        override_settings(CACHES={"default": {"BACKEND": _REDIS_CACHE, "LOCATION": cache_url}})
        if cache_url
        else contextlib.nullcontext()
    )
    request_ids = [f"id-{secrets.token_hex(16)}" for _ in range(count)]
    # Answered within the run, however long it takes.
    with caches, override_settings(SSO_REQUEST_TTL_SECONDS=6 * 3600):
        for request_id in request_ids:
            pending_request_save(
                request_id=request_id, sid=sid, relay_state="", token=BROWSER_TOKEN
            )
    return request_ids
