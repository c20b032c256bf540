"""Password sign-in throttling, counted in the shared cache so every worker sees the same count.

Only password attempts are counted: SSO never consults these counters, so nobody is locked out
of their identity provider by someone guessing their password here.
"""

from __future__ import annotations

import hashlib
import ipaddress

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

_KEY = "sso:login-failures:{}:{}"


def _keys(email: str, client_ip: str | None) -> list[str]:
    """The counters a failure adds to, in the order of `_limits()`; no client, no client keys."""
    email_key = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    keys = [_KEY.format("email", email_key)]
    if client_ip:
        keys.append(_KEY.format("client", client_ip))
        keys.append(_KEY.format(f"client-email:{client_ip}", email_key))
    return keys


def _limits() -> list[int]:
    return [
        settings.SSO_LOGIN_FAILURES_PER_EMAIL,
        settings.SSO_LOGIN_FAILURES_PER_CLIENT,
        settings.SSO_LOGIN_FAILURES_PER_CLIENT_EMAIL,
    ]


def login_throttled(*, email: str, client_ip: str | None) -> bool:
    keys = _keys(email, client_ip)
    counts = cache.get_many(keys)
    return any(counts.get(key, 0) >= limit for key, limit in zip(keys, _limits(), strict=False))


def login_failure_record(*, email: str, client_ip: str | None) -> None:
    for key in _keys(email, client_ip):
        cache.add(key, 0, settings.SSO_LOGIN_THROTTLE_SECONDS)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, settings.SSO_LOGIN_THROTTLE_SECONDS)


def login_success_record(*, email: str, client_ip: str | None) -> None:
    """A right password clears that email's counters; the client's own count stays."""
    keys = _keys(email, client_ip)
    cache.delete_many([keys[0], *keys[2:]])


def client_ip(request: HttpRequest) -> str | None:
    """The address a request came from, as the throttle and the login events count it.

    Behind SSO_TRUSTED_PROXY_HOPS proxies, each appending the address it received from to
    X-Forwarded-For, the client is that many entries from the right: entries further left
    were written by the client itself and prove nothing. A request that came with fewer
    entries than trusted proxies did not come through them all, and counts as REMOTE_ADDR.
    """
    hops = settings.SSO_TRUSTED_PROXY_HOPS
    if hops > 0:
        forwarded = [
            entry.strip()
            for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if entry.strip()
        ]
        if len(forwarded) >= hops:
            address = _valid_address(forwarded[-hops])
            if address:
                return address
    return request.META.get("REMOTE_ADDR") or None


def _valid_address(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None
