"""Looking up a domain's proof of ownership: a DNS TXT record, or a file served over HTTPS.

Only a definite answer counts: a record or file with the token is proof; a definite "not there"
(NXDOMAIN, no such TXT value) is missing proof; a time-out or server failure is neither.
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from dataclasses import dataclass

import dns.exception
import dns.resolver
from django.conf import settings

from sso.outbound import FetchError, https_get, resolver

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


def check_dns(domain: str, tokens: Collection[str]) -> Check:
    name = txt_name(domain)
    try:
        answer = resolver().resolve(name, "TXT")
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


def check_https(domain: str, tokens: Collection[str]) -> Check:
    """GET the well-known file from the domain itself: no redirects, short timeout, 1 KiB."""
    host = domain.removeprefix("*.")
    try:
        fetched = https_get(
            host=host,
            path=WELL_KNOWN_PATH,
            port=settings.SSO_DOMAIN_HTTPS_PORT,
            max_bytes=MAX_BODY_BYTES,
            timeout=settings.SSO_DOMAIN_HTTPS_TIMEOUT_SECONDS,
        )
    except FetchError as exc:
        if exc.code == "no_public_address":
            return Check(Proof.UNKNOWN, "https", f"{host} has no public address")
        if exc.code == "too_large":
            return Check(Proof.MISSING, "https", f"{https_url(domain)} holds another value")
        return Check(Proof.UNKNOWN, "https", f"{https_url(domain)}: {exc.detail}")
    if fetched.status != 200:
        return Check(Proof.MISSING, "https", f"{https_url(domain)} answered {fetched.status}")
    if fetched.body.decode(errors="replace").strip() in {expected_value(t) for t in tokens}:
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
