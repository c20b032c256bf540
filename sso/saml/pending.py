"""Outstanding AuthnRequests, kept in the shared cache and bound to the browser that sent them.

The IdP's POST to the ACS is cross-site, so the main session cookie (SameSite=Lax) is not
sent with it. The request id therefore lives in the cache, where any worker finds it, and a
cookie of its own proves the response comes back to the browser that started the login.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

from sso.cache import cache_take

_KEY = "sso:authn-request:{}"
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}
TEST_RELAY_PREFIX = "test:"


@dataclass(frozen=True)
class PendingRequest:
    request_id: str
    sid: str
    relay_state: str
    browser: str
    tester_id: int | None = None

    @property
    def is_test(self) -> bool:
        """A connection test: its response shows a result page and never signs anybody in."""
        return self.tester_id is not None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def browser_token(request: HttpRequest) -> str:
    """This browser's binding token, or a new one (sent back by `set_browser_cookie`)."""
    token = request.COOKIES.get(settings.SSO_REQUEST_COOKIE_NAME, "")
    return token if 32 <= len(token) <= 64 else secrets.token_urlsafe(32)


def _cookie_can_be_secure() -> bool:
    """Browsers keep Secure cookies from https origins, and from loopback ones over plain http."""
    parts = urlsplit(settings.SSO_PUBLIC_BASE_URL)
    return parts.scheme == "https" or parts.hostname in LOOPBACK_HOSTS


def set_browser_cookie(response: HttpResponse, token: str) -> None:
    secure = _cookie_can_be_secure()
    response.set_cookie(
        settings.SSO_REQUEST_COOKIE_NAME,
        token,
        max_age=settings.SSO_REQUEST_TTL_SECONDS,
        path="/sso/saml2/",
        secure=secure,
        httponly=True,
        # The IdP's POST to the ACS is cross-site: only SameSite=None goes with it, and
        # browsers honour SameSite=None on Secure cookies only. A plain-http deployment on a
        # public host (never production) falls back to Lax and needs IdP and SP on one site.
        samesite="None" if secure else "Lax",
    )


def pending_request_save(
    *, request_id: str, sid: str, relay_state: str, token: str, tester_id: int | None = None
) -> PendingRequest:
    pending = PendingRequest(
        request_id=request_id,
        sid=sid,
        relay_state=relay_state,
        browser=_digest(token),
        tester_id=tester_id,
    )
    cache.set(_KEY.format(request_id), asdict(pending), settings.SSO_REQUEST_TTL_SECONDS)
    return pending


def _for_browser(data: dict | None, sid: str, token: str) -> PendingRequest | None:
    if not data:
        return None
    pending = PendingRequest(**data)
    if pending.sid != sid or not secrets.compare_digest(pending.browser, _digest(token)):
        return None
    return pending


def pending_request_find(*, request_id: str, sid: str, token: str | None) -> PendingRequest | None:
    """The outstanding request, only if it belongs to this profile and this browser."""
    if not request_id or not token:
        return None
    return _for_browser(cache.get(_KEY.format(request_id)), sid, token)


def pending_request_take(*, request_id: str, sid: str, token: str | None) -> PendingRequest | None:
    """The outstanding request, used up by this answer: only if it belongs to this profile and
    this browser, and for exactly one caller however many workers race. An answer refused
    later has used it up all the same: a request is answered once."""
    if not request_id or not token:
        return None
    return _for_browser(cache_take(cache, _KEY.format(request_id)), sid, token)


def pending_test_find(*, relay_state: str, sid: str, token: str | None) -> PendingRequest | None:
    """The connection test this RelayState names, if this browser started it for this profile.

    A test's RelayState is `test:<request id>`; it only decides which page shows the outcome.
    Whether the response really answers the test is checked against InResponseTo.
    """
    request_id = (relay_state or "").removeprefix(TEST_RELAY_PREFIX)
    if not relay_state.startswith(TEST_RELAY_PREFIX) or not request_id:
        return None
    pending = pending_request_find(request_id=request_id, sid=sid, token=token)
    return pending if pending and pending.is_test else None


def pending_request_consume(*, request_id: str) -> bool:
    """Use up a request id; True for exactly one caller, however many workers race."""
    return bool(cache.delete(_KEY.format(request_id)))
