"""Reaching hosts an organization names (its domain, its IdP's metadata URL): DNS and HTTPS GETs.

Every GET goes to an address resolved here and checked to be public (loopback, private,
link-local and reserved ones are refused unless SSO_DOMAIN_HTTPS_ALLOW_PRIVATE is on, for
tests), over TLS verified for the host named, with a deadline for the whole exchange and a
byte limit, and follows no redirect to another host: the product must not become a way to
reach what sits behind its own firewall.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from email.message import Message
from urllib.parse import urljoin, urlsplit

import dns.exception
import dns.resolver
from django.conf import settings

REDIRECTS = frozenset({301, 302, 303, 307, 308})
CHUNK_BYTES = 64 * 1024


class FetchError(Exception):
    """A GET that gave no answer to judge: `code` is stable; `detail`, a short phrase without
    the URL, names no internals beyond an exception's class."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Fetched:
    url: str
    status: int
    body: bytes
    headers: Message


def resolver() -> dns.resolver.Resolver:
    resolver = dns.resolver.Resolver(configure=not settings.SSO_DNS_NAMESERVER)
    if settings.SSO_DNS_NAMESERVER:
        host, _, port = settings.SSO_DNS_NAMESERVER.partition(":")
        resolver.nameservers = [host]
        resolver.port = int(port or 53)
    resolver.timeout = resolver.lifetime = settings.SSO_DNS_TIMEOUT_SECONDS
    return resolver


def _allowed(address: str) -> bool:
    return ipaddress.ip_address(address).is_global or settings.SSO_DOMAIN_HTTPS_ALLOW_PRIVATE


def public_address(host: str) -> str | None:
    """The host's first IPv4 address, or its first IPv6 one when it has none (an IP literal is
    its own address); None when it has none or it is private or loopback (unless tests allow)."""
    try:
        literal = str(ipaddress.ip_address(host))
    except ValueError:
        literal = None
    if literal is not None:
        return literal if _allowed(literal) else None
    lookup = resolver()
    try:
        answer = lookup.resolve(host, "A")
    except dns.resolver.NoAnswer:
        try:
            answer = lookup.resolve(host, "AAAA")
        except dns.exception.DNSException:
            return None
    except dns.exception.DNSException:
        return None
    address = str(answer[0])
    return address if _allowed(address) else None


def https_get(*, host: str, path: str, port: int, max_bytes: int, timeout: float) -> Fetched:
    """One GET of `path` from `host` itself: no redirect followed (a 3xx is returned as it is).

    Raises FetchError: "no_public_address", "unreachable" (connection, TLS or HTTP failure,
    deadline passed) or "too_large" (more than `max_bytes`).
    """
    url = f"https://{host}{'' if port == 443 else f':{port}'}{path}"
    address = public_address(host)
    if address is None:
        raise FetchError("no_public_address", f"{host} has no public address")
    deadline = time.monotonic() + timeout
    context = ssl.create_default_context(cafile=settings.SSO_DOMAIN_HTTPS_CA_FILE or None)
    try:
        with (
            socket.create_connection((address, port), timeout=timeout) as raw,
            context.wrap_socket(raw, server_hostname=host) as tls,
        ):
            connection = http.client.HTTPConnection(host, timeout=timeout)
            connection.sock = tls
            connection.request("GET", path, headers={"Host": host, "Accept-Encoding": "identity"})
            response = connection.getresponse()
            body = b""
            while len(body) <= max_bytes:
                # A server dribbling bytes must not hold a worker past the deadline.
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError
                tls.settimeout(remaining)
                chunk = response.read(min(CHUNK_BYTES, max_bytes + 1 - len(body)))
                if not chunk:
                    break
                body += chunk
    except (OSError, http.client.HTTPException) as exc:
        raise FetchError("unreachable", exc.__class__.__name__) from None
    if len(body) > max_bytes:
        raise FetchError("too_large", f"more than {max_bytes} bytes")
    return Fetched(url=url, status=response.status, body=body, headers=response.headers)


def https_get_url(url: str, *, max_bytes: int, timeout: float, redirects: int = 3) -> Fetched:
    """GET an https:// URL; follows up to `redirects` redirects on the same host and port.

    Raises FetchError: "not_https", "redirect_other_host", "too_many_redirects", or one of
    `https_get`'s.
    """
    current = url
    origin: tuple[str, int] | None = None
    for _ in range(redirects + 1):
        parts = urlsplit(current)
        if parts.scheme != "https" or not parts.hostname or parts.username or parts.password:
            raise FetchError("not_https", "only https:// URLs without credentials are fetched")
        try:
            port = parts.port or 443
        except ValueError:
            raise FetchError("not_https", "the URL's port is not a number") from None
        if origin is not None and (parts.hostname, port) != origin:
            raise FetchError("redirect_other_host", "redirected to another host")
        origin = (parts.hostname, port)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        fetched = https_get(
            host=parts.hostname, path=path, port=port, max_bytes=max_bytes, timeout=timeout
        )
        location = fetched.headers.get("Location")
        if fetched.status not in REDIRECTS or not location:
            return fetched
        current = urljoin(current, location)
    raise FetchError("too_many_redirects", f"more than {redirects} redirects")
