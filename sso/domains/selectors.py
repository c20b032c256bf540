"""Trusted domains: which profile an email belongs to, and which domains conflict."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from sso.models import (
    Organization,
    ProfileStatus,
    SSOProfile,
    TrustedDomain,
    VerificationState,
)
from sso.validators import email_domain


def _parent_domains(domain: str) -> list[str]:
    labels = domain.split(".")
    return [".".join(labels[i:]) for i in range(len(labels) - 1)]


def domains_conflicting(*, domains: list[str], organization: Organization) -> list[TrustedDomain]:
    """Other organizations' domains that overlap these patterns.

    Two patterns overlap when they name the same base domain, or when one is a wildcard
    covering the other: either way one organization could capture the other's users.
    """
    query = Q()
    for pattern in domains:
        base = pattern.removeprefix("*.")
        query |= Q(domain__in=[base, *(f"*.{parent}" for parent in _parent_domains(base))])
        if pattern.startswith("*."):
            query |= Q(domain__endswith=f".{base}")
    if not query:
        return []
    # An unverified claim blocks others only for a while: squatting a domain must not last.
    stale = timezone.now() - dt.timedelta(days=settings.SSO_DOMAIN_CLAIM_DAYS)
    binding = Q(verification_state=VerificationState.VERIFIED) | Q(created_at__gt=stale)
    return list(
        TrustedDomain.objects.filter(query)
        .filter(binding)
        .exclude(organization=organization)
        .select_related("organization")
    )


def domains_on_other_profiles(*, domains: list[str], profile: SSOProfile) -> list[TrustedDomain]:
    """The organization's rows naming one of these domains on another of its profiles."""
    return list(
        TrustedDomain.objects.filter(organization=profile.organization, domain__in=domains)
        .exclude(profile=profile)
        .order_by("domain")
    )


def trusted_domains_for_email(*, profile: SSOProfile, email: str) -> list[TrustedDomain]:
    """The profile's own trusted domains covering this email, exact before wildcard."""
    domain = email_domain(email)
    if not domain:
        return []
    candidates = [d for d in profile.domains.all() if d.matches(domain)]
    candidates.sort(key=lambda d: (d.is_wildcard, -len(d.domain)))
    return candidates


def profile_for_email(*, email: str) -> SSOProfile | None:
    """The active profile whose trusted domain best covers this email.

    An exact domain beats a wildcard, and a longer wildcard beats a shorter one.
    """
    domain = email_domain(email)
    if not domain:
        return None
    patterns = [domain, *(f"*.{parent}" for parent in _parent_domains(domain)[1:])]
    matches = TrustedDomain.objects.filter(
        domain__in=patterns,
        profile__status=ProfileStatus.ACTIVE,
        verification_state=VerificationState.VERIFIED,
    ).select_related("profile__organization")
    best = min(matches, key=lambda d: (d.is_wildcard, -len(d.domain)), default=None)
    return best.profile if best else None


def trusted_domain_sso_off_for(*, email: str) -> TrustedDomain | None:
    """The verified trusted domain covering this email whose profile is turned off, when no
    active profile covers it: its people may have no password. A fact about the domain, never
    about an account."""
    domain = email_domain(email)
    if not domain:
        return None
    patterns = [domain, *(f"*.{parent}" for parent in _parent_domains(domain)[1:])]
    matches = TrustedDomain.objects.filter(
        domain__in=patterns, verification_state=VerificationState.VERIFIED
    ).select_related("profile")
    best = min(matches, key=lambda d: (d.is_wildcard, -len(d.domain)), default=None)
    if best is None or best.profile.status == ProfileStatus.ACTIVE:
        return None
    return best


def domains_verified_bases(*, organization: Organization) -> set[str]:
    return {
        d.base_domain
        for d in organization.trusted_domains.filter(verification_state=VerificationState.VERIFIED)
    }


def domain_verified_elsewhere(*, domain: TrustedDomain) -> bool:
    base = domain.base_domain
    return (
        TrustedDomain.objects.filter(
            domain__in=[base, f"*.{base}"], verification_state=VerificationState.VERIFIED
        )
        .exclude(organization=domain.organization)
        .exists()
    )


def domains_for_organization(*, organization: Organization) -> QuerySet[TrustedDomain]:
    return organization.trusted_domains.select_related("profile")


def domain_proof_token(*, domain: TrustedDomain) -> str:
    """The token whose value proves the domain. acme.com and *.acme.com of one organization
    share one proof (verifying one verifies both), so both show the token of the row added
    first; the same TXT name cannot ask for two values."""
    base = domain.base_domain
    first = (
        TrustedDomain.objects.filter(
            organization_id=domain.organization_id, domain__in=[base, f"*.{base}"]
        )
        .order_by("pk")
        .values_list("verification_token", flat=True)
        .first()
    )
    return first or domain.verification_token


def domain_proof_tokens(*, domains: Iterable[TrustedDomain]) -> dict[int, str]:
    """`domain_proof_token` of each of an organization's domains (all of them), by pk."""
    rows = sorted(domains, key=lambda domain: domain.pk)
    first: dict[str, str] = {}
    for domain in rows:
        first.setdefault(domain.base_domain, domain.verification_token)
    return {domain.pk: first[domain.base_domain] for domain in rows}
