"""Trusted domains and the proof of their ownership: writes."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from sso.domains import proof
from sso.domains.selectors import (
    domain_proof_token,
    domain_verified_elsewhere,
    domains_conflicting,
    domains_on_other_profiles,
    domains_verified_bases,
)
from sso.errors import MESSAGES, refusal
from sso.events import audit_record
from sso.models import (
    AuditAction,
    SSOProfile,
    TrustedDomain,
    User,
    VerificationState,
)


def domains_check_available(*, profile: SSOProfile, domains: list[str]) -> None:
    conflicts = domains_conflicting(domains=domains, organization=profile.organization)
    if conflicts:
        raise refusal("domain_taken", field="domains", domain=conflicts[0].domain)
    # One row per (organization, domain): a second profile naming it would be refused by the
    # database instead, as an IntegrityError.
    on_other_profiles = domains_on_other_profiles(domains=domains, profile=profile)
    if on_other_profiles:
        raise refusal(
            "domain_on_other_profile", field="domains", domain=on_other_profiles[0].domain
        )


def domains_sync(*, profile: SSOProfile, domains: list[str], verified: bool) -> dict[str, list]:
    """Make the profile's trusted domains these; `verified` is an operator's word for new ones.

    A new domain whose base another row of the organization already proved starts verified.
    """
    current = {d.domain: d for d in TrustedDomain.objects.filter(profile=profile)}
    removed = sorted(set(current) - set(domains))
    added = [d for d in domains if d not in current]
    TrustedDomain.objects.filter(profile=profile, domain__in=removed).delete()
    proven = domains_verified_bases(organization=profile.organization)
    now = timezone.now()
    for domain in added:
        is_verified = verified or domain.removeprefix("*.") in proven
        TrustedDomain.objects.create(
            profile=profile,
            organization=profile.organization,
            domain=domain,
            verification_state=VerificationState.VERIFIED
            if is_verified
            else VerificationState.UNVERIFIED,
            verified_at=now if is_verified else None,
        )
    if not (added or removed):
        return {}
    changes: dict[str, list] = {"domains": [sorted(current), sorted(domains)]}
    if verified and added:
        changes["domains_marked_verified"] = added
    return changes


def _verify_with_base(domain: TrustedDomain, now: Any) -> list[TrustedDomain]:
    """The domain and its organization's other rows of the same base (acme.com, *.acme.com)."""
    base = domain.base_domain
    return list(
        TrustedDomain.objects.filter(
            organization=domain.organization, domain__in=[base, f"*.{base}"]
        ).exclude(verification_state=VerificationState.VERIFIED, proof_missing_since=None)
    )


def domain_mark_verified(*, domain: TrustedDomain, actor: User | None, how: str) -> None:
    """Record proof of ownership (found, or an operator's word) on the domain and its base."""
    now = timezone.now()
    with transaction.atomic():
        for row in _verify_with_base(domain, now):
            newly = not row.is_verified
            row.verification_state = VerificationState.VERIFIED
            row.verified_at = row.verified_at if not newly else now
            row.proof_missing_since = None
            row.save(update_fields=["verification_state", "verified_at", "proof_missing_since"])
            if newly:
                audit_record(
                    organization=row.organization,
                    profile=row.profile,
                    actor=actor,
                    action=AuditAction.DOMAIN_VERIFIED,
                    changes={"domain": row.domain, "how": how},
                )


def domains_mark_verified(*, profile: SSOProfile, actor: User | None, how: str) -> list[str]:
    """An operator's word for all the profile's domains at once; the ones newly verified.

    Refused, with nothing changed, when another organization has verified one of them: the
    operator's word is no stronger than a proof found by `domain_check`.
    """
    pending = [
        d
        for d in TrustedDomain.objects.filter(profile=profile).select_related("organization")
        if not d.is_verified or d.proof_missing_since is not None
    ]
    for domain in pending:
        if domain_verified_elsewhere(domain=domain):
            raise refusal("domain_verified_elsewhere", field="domains")
    with transaction.atomic():
        for domain in pending:
            domain_mark_verified(domain=domain, actor=actor, how=how)
    return [d.domain for d in pending]


def domain_check(*, domain: TrustedDomain, actor: User | None = None) -> proof.Check:
    """Look for the domain's proof now and apply what was found.

    Found: verified (unless another organization proved it first). Missing: an unverified
    domain fails; a verified one keeps working until the grace period ends. Unknown (DNS did
    not answer): nothing changes.
    """
    # The shared token of the domain and its wildcard, and the row's own (published earlier).
    tokens = {domain_proof_token(domain=domain), domain.verification_token}
    check = proof.check_domain(domain.domain, tokens)
    now = timezone.now()
    domain.checked_at = now
    domain.check_detail = check.detail[:500]
    fields = ["checked_at", "check_detail"]
    if check.proof == proof.Proof.FOUND:
        if domain_verified_elsewhere(domain=domain):
            domain.verification_state = VerificationState.FAILED
            domain.check_detail = MESSAGES["domain_verified_elsewhere"]
            domain.save(update_fields=[*fields, "verification_state"])
            return check
        domain.save(update_fields=fields)
        domain_mark_verified(domain=domain, actor=actor, how=check.method)
        domain.refresh_from_db()
        return check
    if check.proof == proof.Proof.MISSING:
        if domain.is_verified:
            domain.proof_missing_since = domain.proof_missing_since or now
            fields.append("proof_missing_since")
            if now >= domain.grace_deadline:
                domain.verification_state = VerificationState.FAILED
                fields.append("verification_state")
                audit_record(
                    organization=domain.organization,
                    profile=domain.profile,
                    actor=actor,
                    action=AuditAction.CHANGED,
                    changes={"domain": domain.domain, "verification": ["verified", "failed"]},
                )
        elif actor is not None:
            domain.verification_state = VerificationState.FAILED
            fields.append("verification_state")
    domain.save(update_fields=fields)
    return check


def domains_recheck() -> dict[str, int]:
    """Check every trusted domain again (the verify_domains command, run from cron)."""
    counts = {proof.value: 0 for proof in proof.Proof}
    for domain in TrustedDomain.objects.select_related("organization", "profile"):
        counts[domain_check(domain=domain).proof.value] += 1
    return counts
