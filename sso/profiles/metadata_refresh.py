"""IdP metadata by URL: fetched through sso.outbound, parsed by the hardened parser, refreshed
on a schedule.

What a refresh may do on its own is what keeps sign-in working through the IdP's certificate
rotation: adopt a new signing certificate at once, and drop one the metadata no longer lists
once it has stopped verifying sign-ins. What would send people elsewhere (a new Issuer or SSO
URL) waits for an admin's approval. Every change is audited and emailed to owners and admins.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
import smtplib
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mass_mail
from django.db import transaction
from django.db.models import Q
from django.urls import reverse

from sso.errors import refusal
from sso.events import audit_record
from sso.models import (
    AuditAction,
    IdPCertificate,
    ProfileStatus,
    Role,
    SSOProfile,
    User,
)
from sso.outbound import FetchError, https_get_url
from sso.profiles.selectors import certificates_last_used
from sso.profiles.services import certificate_add, issuer_check_available
from sso.profiles.sp_keys import profile_fields_but_sp_keys
from sso.saml.metadata import MAX_METADATA_BYTES, IdPMetadata, field_error, parse_idp_metadata
from sso.validators import CertificateInfo, parse_certificate, validate_https_url

logger = logging.getLogger(__name__)

MIN_INTERVAL = dt.timedelta(hours=1)
# A worker that dies mid-refresh leaves its claim; another takes the profile after this.
LEASE = dt.timedelta(minutes=15)
HELD_FIELDS = ("idp_issuer", "idp_sso_url", "idp_slo_url")

def _fetch_refusal(code: str) -> ValidationError:
    if code == "not_https":
        return refusal("metadata_url_not_https")
    if code == "no_public_address":
        return refusal("metadata_url_private")
    if code in ("redirect_other_host", "too_many_redirects"):
        return refusal("metadata_url_redirect")
    if code == "too_large":
        return field_error("metadata_too_large")
    return refusal("metadata_url_unreachable")


@dataclass(frozen=True)
class FetchedMetadata:
    metadata: IdPMetadata
    digest: str  # SHA-256 of the document's bytes


@dataclass
class Refresh:
    """What one refresh did: `error` (the sentence recorded) when it failed, else `changes`."""

    error: str = ""
    changes: dict[str, Any] = field(default_factory=dict)


def profile_metadata_fetch(*, url: str) -> FetchedMetadata:
    """The IdP metadata at `url`; a ValidationError with a stable code (never library text)."""
    try:
        fetched = https_get_url(
            url,
            max_bytes=MAX_METADATA_BYTES,
            timeout=settings.SSO_METADATA_TIMEOUT_SECONDS,
        )
    except FetchError as exc:
        logger.info("IdP metadata at %s not fetched: %s (%s)", url, exc.code, exc.detail)
        raise _fetch_refusal(exc.code) from None
    if fetched.status != 200:
        logger.info("IdP metadata at %s: HTTP %s", url, fetched.status)
        raise refusal("metadata_url_status", status=fetched.status)
    return FetchedMetadata(
        metadata=parse_idp_metadata(fetched.body),
        digest=hashlib.sha256(fetched.body).hexdigest(),
    )


def _jittered(interval: dt.timedelta) -> dt.timedelta:
    # Up to a tenth earlier, so that profiles saved together do not refresh together.
    return max(MIN_INTERVAL, interval * (90 + secrets.randbelow(11)) / 100)


def _next_refresh(*, now: dt.datetime, metadata: IdPMetadata) -> dt.datetime:
    """Daily (SSO_METADATA_REFRESH_HOURS), sooner when the document's cacheDuration or
    validUntil says so, never within the hour."""
    interval = dt.timedelta(hours=settings.SSO_METADATA_REFRESH_HOURS)
    if metadata.cache_duration:
        interval = min(interval, metadata.cache_duration)
    if metadata.valid_until:
        interval = min(interval, metadata.valid_until - now)
    return now + _jittered(interval)


def _certificates(metadata: IdPMetadata, *, now: dt.datetime) -> dict[str, CertificateInfo]:
    listed = {}
    for pem in metadata.certificates:
        try:
            info = parse_certificate(pem, now=now)
        except ValidationError:
            continue
        listed[info.fingerprint_sha256] = info
    if not listed:
        raise refusal("metadata_certificates_invalid")
    return listed


def _certificate_plan(
    *, profile: SSOProfile, listed: dict[str, CertificateInfo]
) -> tuple[list[IdPCertificate], list[CertificateInfo]]:
    """(certificates to drop, certificates to adopt). A certificate no longer listed is
    dropped once it has stopped verifying sign-ins: none in CERTIFICATE_USE_DAYS, or none
    since a listed certificate verified one (the IdP has switched)."""
    held = list(profile.certificates.all())
    new = [
        info
        for fingerprint, info in listed.items()
        if fingerprint not in {c.fingerprint_sha256 for c in held}
    ]
    gone = [c for c in held if c.fingerprint_sha256 not in listed]
    drop: list[IdPCertificate] = []
    if gone:
        last_used = certificates_last_used(profile=profile)
        switched_at = max((last_used[f] for f in listed if f in last_used), default=None)
        drop = [
            c
            for c in gone
            if (used := last_used.get(c.fingerprint_sha256)) is None
            or (switched_at is not None and used < switched_at)
        ]
    room = IdPCertificate.MAX_PER_PROFILE - len(held) + len(drop)
    if new and room <= 0:
        raise refusal("metadata_no_room")
    return drop, new[:room]


def _held_changes(*, profile: SSOProfile, metadata: IdPMetadata) -> dict[str, list[str]]:
    proposed = {
        "idp_issuer": metadata.issuer,
        "idp_sso_url": metadata.sso_url,
        "idp_slo_url": metadata.slo_url,
    }
    return {
        name: [getattr(profile, name), value]
        for name, value in proposed.items()
        if getattr(profile, name) != value
    }


def _record_failure(*, profile: SSOProfile, now: dt.datetime, error: ValidationError) -> str:
    message = " ".join(error.messages)
    first = not profile.metadata_error
    profile.metadata_error = message[:500]
    profile.metadata_error_at = now
    profile.metadata_refresh_at = now + _jittered(MIN_INTERVAL * 1.1)
    with transaction.atomic():
        profile.save(update_fields=["metadata_error", "metadata_error_at", "metadata_refresh_at"])
        if first:
            audit_record(
                organization=profile.organization,
                profile=profile,
                actor=None,
                action=AuditAction.METADATA_REFRESH_FAILED,
                changes={"metadata_url": profile.metadata_url, "error": message},
            )
    logger.warning("IdP metadata refresh of profile %s failed: %s", profile.sid, message)
    if first:
        _notify(
            profile=profile,
            subject="Your IdP's metadata could not be refreshed",
            lines=[
                f"The IdP metadata of SSO profile {profile.name} could not be refreshed from "
                f"{profile.metadata_url}: {message}",
                "Sign-in keeps working with the last good copy; we try again every hour.",
            ],
        )
    return message


def profile_metadata_refresh(*, profile: SSOProfile, now: dt.datetime) -> Refresh:
    """Fetch the profile's metadata URL and apply it: certificates at once, an Issuer or SSO
    URL change held for approval. On failure the profile keeps the last good values and
    records why; it is tried again within the next hours."""
    if not profile.metadata_url:
        return Refresh()
    try:
        fetched = profile_metadata_fetch(url=profile.metadata_url)
        metadata = fetched.metadata
        if metadata.valid_until is not None and metadata.valid_until <= now:
            raise refusal("metadata_expired")
        listed = _certificates(metadata, now=now)
        drop, adopt = _certificate_plan(profile=profile, listed=listed)
    except ValidationError as error:
        return Refresh(error=_record_failure(profile=profile, now=now, error=error))

    changes: dict[str, Any] = {}
    held = _held_changes(profile=profile, metadata=metadata)
    stored = profile.metadata_pending.get("changes", {})
    if held != stored:
        profile.metadata_pending = {"changes": held, "dismissed": False} if held else {}
        changes["pending"] = held or "cleared"
    with transaction.atomic():
        for certificate in drop:
            certificate.delete()
        if drop:
            changes["certificates_dropped"] = [c.fingerprint_sha256 for c in drop]
        added = [
            info.fingerprint_sha256
            for info in adopt
            if certificate_add(profile=profile, certificate=info)
        ]
        if added:
            changes["certificates_added"] = added
        profile.metadata_fetched_at = now
        profile.metadata_digest = fetched.digest
        profile.metadata_error = ""
        profile.metadata_error_at = None
        profile.metadata_refresh_at = _next_refresh(now=now, metadata=metadata)
        profile.save(
            update_fields=[
                "metadata_fetched_at",
                "metadata_digest",
                "metadata_error",
                "metadata_error_at",
                "metadata_refresh_at",
                "metadata_pending",
            ]
        )
        if changes:
            audit_record(
                organization=profile.organization,
                profile=profile,
                actor=None,
                action=(
                    AuditAction.METADATA_CHANGE_HELD
                    if held and "pending" in changes
                    else AuditAction.METADATA_REFRESHED
                ),
                changes={"metadata_url": profile.metadata_url, **changes},
            )
    if changes:
        logger.info("IdP metadata of profile %s applied: %s", profile.sid, sorted(changes))
        _notify_changes(profile=profile, changes=changes)
    return Refresh(changes=changes)


def profiles_metadata_refresh(*, now: dt.datetime) -> dict[str, int]:
    """Refresh every profile whose refresh is due; what the job engine calls. Each profile is
    claimed first (a conditional update), so that two workers never refresh one together."""
    due = (
        SSOProfile.objects.exclude(metadata_url="")
        .filter(Q(metadata_refresh_at__lte=now) | Q(metadata_refresh_at__isnull=True))
        .values_list("pk", "metadata_refresh_at")
    )
    counts = {"refreshed": 0, "changed": 0, "failed": 0}
    for pk, when in list(due):
        claimed = SSOProfile.objects.filter(pk=pk, metadata_refresh_at=when).update(
            metadata_refresh_at=now + LEASE
        )
        if not claimed:
            continue
        profile = SSOProfile.objects.select_related("organization").get(pk=pk)
        outcome = profile_metadata_refresh(profile=profile, now=now)
        counts["failed" if outcome.error else "changed" if outcome.changes else "refreshed"] += 1
    return counts


def profile_metadata_approve(*, profile: SSOProfile, actor: User | None) -> None:
    """Apply the Issuer and SSO URL change the metadata holds waiting; the last test no longer
    proves the connection, so a Tested profile goes back to Configured."""
    held = profile.metadata_pending.get("changes")
    if not held:
        raise refusal("metadata_nothing_pending")
    values = {name: change[1] for name, change in held.items() if name in HELD_FIELDS}
    if "idp_issuer" in values:
        issuer_check_available(profile=profile, issuer=values["idp_issuer"])
    for name in ("idp_sso_url", "idp_slo_url"):
        if values.get(name):
            validate_https_url(values[name])
    changes: dict[str, Any] = {name: [getattr(profile, name), v] for name, v in values.items()}
    for name, value in values.items():
        setattr(profile, name, value)
    profile.metadata_pending = {}
    if profile.status == ProfileStatus.TESTED:
        changes["status"] = [profile.status, ProfileStatus.CONFIGURED]
        profile.status = ProfileStatus.CONFIGURED
    profile.updated_by = actor
    profile.full_clean()
    with transaction.atomic():
        profile.save(update_fields=profile_fields_but_sp_keys())
        audit_record(
            organization=profile.organization,
            profile=profile,
            actor=actor,
            action=AuditAction.METADATA_CHANGE_APPROVED,
            changes=changes,
        )
    _notify_changes(profile=profile, changes={"approved": changes}, actor=actor)


def profile_metadata_dismiss(*, profile: SSOProfile, actor: User | None) -> None:
    """Keep the profile's Issuer and SSO URL; the same change is not raised again, a newer
    one is."""
    held = profile.metadata_pending.get("changes")
    if not held or profile.metadata_pending.get("dismissed"):
        raise refusal("metadata_nothing_pending")
    profile.metadata_pending = {"changes": held, "dismissed": True}
    with transaction.atomic():
        profile.save(update_fields=["metadata_pending"])
        audit_record(
            organization=profile.organization,
            profile=profile,
            actor=actor,
            action=AuditAction.METADATA_CHANGE_DISMISSED,
            changes=held,
        )


def _notify_changes(
    *, profile: SSOProfile, changes: dict[str, Any], actor: User | None = None
) -> None:
    lines = []
    for fingerprint in changes.get("certificates_added", []):
        lines.append(f"New signing certificate trusted (SHA-256 {fingerprint}).")
    for fingerprint in changes.get("certificates_dropped", []):
        lines.append(f"Signing certificate no longer trusted (SHA-256 {fingerprint}).")
    pending = changes.get("pending")
    if isinstance(pending, dict):
        lines.append(
            "Your IdP's metadata now says (waiting for your approval on the IdP metadata page):"
        )
        lines += [f"  {name}: {old or '—'} → {new}" for name, (old, new) in pending.items()]
    for name, (old, new) in changes.get("approved", {}).items():
        lines.append(
            f"Approved by {actor.email if actor else 'an operator'}: {name}: {old or '—'} → {new}"
        )
    if lines:
        _notify(profile=profile, subject="Your IdP's metadata changed", lines=lines)


def _notify(*, profile: SSOProfile, subject: str, lines: list[str]) -> None:
    recipients = (
        User.objects.filter(
            is_active=True,
            memberships__organization_id=profile.organization_id,
            memberships__role__in=[Role.OWNER, Role.ADMIN],
        )
        .order_by("email")
        .values_list("email", flat=True)
    )
    link = settings.SSO_PUBLIC_BASE_URL + reverse("sso:wizard_idp_metadata", args=[profile.sid])
    body = "\n".join([f"SSO profile: {profile.name}", "", *lines, "", f"Review: {link}", ""])
    messages = [(f"[Admin Center] {subject}", body, None, [email]) for email in recipients]
    try:
        send_mass_mail(messages)
    except (OSError, smtplib.SMTPException):
        # The change is made and audited; an unreachable mail server must not undo it.
        logger.exception("IdP metadata notice for profile %s not sent", profile.sid)
