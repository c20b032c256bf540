"""Password sign-in throttling, counted in the shared cache so every worker sees the same count.

Only password attempts are counted: SSO never consults these counters, so nobody is locked out
of their identity provider by someone guessing their password here.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

_KEY = "sso:login-failures:{}:{}"


def _keys(email: str, client_ip: str | None) -> list[str]:
    email_key = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    keys = [_KEY.format("email", email_key)]
    if client_ip:
        keys.append(_KEY.format("client", client_ip))
    return keys


def _limits() -> list[int]:
    return [settings.SSO_LOGIN_FAILURES_PER_EMAIL, settings.SSO_LOGIN_FAILURES_PER_CLIENT]


def login_throttled(*, email: str, client_ip: str | None) -> bool:
    counts = cache.get_many(_keys(email, client_ip))
    return any(
        counts.get(key, 0) >= limit
        for key, limit in zip(_keys(email, client_ip), _limits(), strict=False)
    )


def login_failure_record(*, email: str, client_ip: str | None) -> None:
    for key in _keys(email, client_ip):
        cache.add(key, 0, settings.SSO_LOGIN_THROTTLE_SECONDS)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, settings.SSO_LOGIN_THROTTLE_SECONDS)


def login_success_record(*, email: str) -> None:
    cache.delete(_keys(email, None)[0])


def client_ip(request: HttpRequest) -> str | None:
    """The address a request came from, as the throttle and the login events count it."""
    return request.META.get("REMOTE_ADDR") or None
