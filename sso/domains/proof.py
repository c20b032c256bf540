"""Looking up a domain's proof of ownership: a DNS TXT record, or a file served over HTTPS.

Only a definite answer counts: a record or file with the token is proof; a definite "not there"
(NXDOMAIN, no such TXT value) is missing proof; a time-out or server failure is neither.
"""

from __future__ import annotations

import enum
import http.client
import ipaddress
import socket
import ssl
from collections.abc import Collection
from dataclasses import dataclass

import dns.exception
import dns.resolver
from django.conf import settings

TXT_PREFIX = "_sso-challenge."
VALUE_PREFIX = "sso-domain-verification="
WELL_KNOWN_PATH = "/.well-known/sso-domain-verification.txt"
MAX_BODY_BYTES = 1024


class Proof(enum.StrEnum):
    FOUND = "found"
    MISSING = "missing"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Check:
    proof: Proof
    method: str
    detail: str


def expected_value(token: str) -> str:
    return VALUE_PREFIX + token


def txt_name(domain: str) -> str:
    return TXT_PREFIX + domain.removeprefix("*.")


def https_url(domain: str) -> str:
    return f"https://{domain.removeprefix('*.')}{WELL_KNOWN_PATH}"


def _resolver() -> dns.resolver.Resolver:
    resolver = dns.resolver.Resolver(configure=not settings.SSO_DNS_NAMESERVER)
    if settings.SSO_DNS_NAMESERVER:
        host, _, port = settings.SSO_DNS_NAMESERVER.partition(":")
        resolver.nameservers = [host]
        resolver.port = int(port or 53)
    resolver.timeout = resolver.lifetime = settings.SSO_DNS_TIMEOUT_SECONDS
    return resolver


def check_dns(domain: str, tokens: Collection[str]) -> Check:
    name = txt_name(domain)
    try:
        answer = _resolver().resolve(name, "TXT")
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return Check(Proof.MISSING, "dns", f"no TXT record at {name}")
    except (dns.exception.Timeout, dns.resolver.NoNameservers, dns.resolver.LifetimeTimeout):
        return Check(Proof.UNKNOWN, "dns", f"DNS did not answer for {name}")
    except dns.exception.DNSException as exc:
        return Check(Proof.UNKNOWN, "dns", f"DNS error for {name}: {exc.__class__.__name__}")
    values = {b"".join(record.strings).decode(errors="replace").strip() for record in answer}
    if values & {expected_value(token) for token in tokens}:
        return Check(Proof.FOUND, "dns", f"TXT record found at {name}")
    return Check(Proof.MISSING, "dns", f"the TXT record at {name} holds another value")


def _public_address(domain: str) -> str | None:
    """The domain's first IPv4 address, or its first IPv6 one when it has none; refusing
    private and loopback ones (unless tests allow)."""
    resolver = _resolver()
    try:
        answer = resolver.resolve(domain, "A")
    except dns.resolver.NoAnswer:
        try:
            answer = resolver.resolve(domain, "AAAA")
        except dns.exception.DNSException:
            return None
    except dns.exception.DNSException:
        return None
    address = str(answer[0])
    ip = ipaddress.ip_address(address)
    if not ip.is_global and not settings.SSO_DOMAIN_HTTPS_ALLOW_PRIVATE:
        return None
    return address


def check_https(domain: str, tokens: Collection[str]) -> Check:
    """GET the well-known file from the domain itself: no redirects, short timeout, 1 KiB."""
    host = domain.removeprefix("*.")
    address = _public_address(host)
    if address is None:
        return Check(Proof.UNKNOWN, "https", f"{host} has no public address")
    context = ssl.create_default_context(cafile=settings.SSO_DOMAIN_HTTPS_CA_FILE or None)
    timeout = settings.SSO_DOMAIN_HTTPS_TIMEOUT_SECONDS
    try:
        with (
            socket.create_connection(
                (address, settings.SSO_DOMAIN_HTTPS_PORT), timeout=timeout
            ) as raw,
            context.wrap_socket(raw, server_hostname=host) as tls,
        ):
            connection = http.client.HTTPConnection(host, timeout=timeout)
            connection.sock = tls
            connection.request("GET", WELL_KNOWN_PATH, headers={"Host": host})
            response = connection.getresponse()
            body = response.read(MAX_BODY_BYTES + 1)
    except (OSError, http.client.HTTPException) as exc:
        return Check(Proof.UNKNOWN, "https", f"{https_url(domain)}: {exc.__class__.__name__}")
    if response.status != 200:
        return Check(Proof.MISSING, "https", f"{https_url(domain)} answered {response.status}")
    found = body.decode(errors="replace").strip()
    if len(body) <= MAX_BODY_BYTES and found in {expected_value(token) for token in tokens}:
        return Check(Proof.FOUND, "https", f"file found at {https_url(domain)}")
    return Check(Proof.MISSING, "https", f"{https_url(domain)} holds another value")


def check_domain(domain: str, tokens: Collection[str]) -> Check:
    """DNS first, then HTTPS. Missing only when DNS answered definitely and HTTPS has no proof.

    Any of `tokens` is proof (a base domain and its wildcard share one value)."""
    by_dns = check_dns(domain, tokens)
    if by_dns.proof == Proof.FOUND:
        return by_dns
    by_https = check_https(domain, tokens)
    if by_https.proof == Proof.FOUND:
        return by_https
    if by_dns.proof == Proof.UNKNOWN:
        return by_dns
    return Check(Proof.MISSING, "dns", f"{by_dns.detail}; {by_https.detail}")
