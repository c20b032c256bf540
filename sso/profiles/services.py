"""SSO profiles and their IdP certificates: writes, each validated and audited."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from sso.crypto import generate_sp_key_pair
from sso.domains.services import domains_check_available, domains_sync
from sso.errors import refusal
from sso.events import audit_record, login_event_record
from sso.models import (
    AuditAction,
    IdPCertificate,
    IdPKind,
    LoginEvent,
    LoginOutcome,
    Organization,
    ProfileStatus,
    Role,
    SSOProfile,
    TestOutcome,
    User,
)
from sso.organizations.selectors import membership_get
from sso.profiles.presets import preset_for
from sso.profiles.selectors import certificate_last_used, issuer_used_elsewhere
from sso.profiles.sp_keys import profile_fields_but_sp_keys
from sso.reasons import Reason
from sso.validators import CertificateInfo, validate_session_limits

logger = logging.getLogger(__name__)


TRACKED_FIELDS = (
    "name",
    "idp_kind",
    "idp_issuer",
    "idp_sso_url",
    "idp_slo_url",
    "default_redirect_url",
    "allow_idp_initiated",
    "jit_provisioning",
    "jit_role",
    "signature_policy",
    "email_attribute",
    "first_name_attribute",
    "last_name_attribute",
    "groups_attribute",
    "metadata_url",
)


# A test passed under other values proves nothing about these.
CONNECTION_FIELDS = ("idp_issuer", "idp_sso_url", "signature_policy", "email_attribute")


def profile_create(
    *,
    organization: Organization,
    actor: User | None,
    name: str = "New SSO profile",
    idp_kind: str = IdPKind.OTHER,
) -> SSOProfile:
    """A draft profile with its own SP key pair, ready to show its SP metadata."""
    key_pair = generate_sp_key_pair(f"{organization.slug} SSO")
    profile = SSOProfile(
        organization=organization,
        name=name,
        idp_kind=idp_kind,
        sp_certificate_pem=key_pair.certificate_pem,
        sp_private_key_encrypted=key_pair.private_key_encrypted,
        created_by=actor,
        updated_by=actor,
    )
    profile.full_clean()
    with transaction.atomic():
        profile.save()
        audit_record(
            organization=organization,
            profile=profile,
            actor=actor,
            action=AuditAction.CREATED,
            changes={"name": [None, name], "idp_kind": [None, idp_kind]},
        )
    logger.info("SSO profile %s created for organization %s", profile.sid, organization.slug)
    return profile


def profile_choose_idp_kind(*, profile: SSOProfile, actor: User | None, idp_kind: str) -> None:
    """The IdP kind the admin set up (steps 2-3); a profile not configured yet also takes that
    kind's default signature policy, which step 4 shows and the admin may change."""
    before = {field: getattr(profile, field) for field in ("idp_kind", "signature_policy")}
    profile.idp_kind = idp_kind
    if profile.status == ProfileStatus.DRAFT:
        profile.signature_policy = preset_for(idp_kind).default_policy
    profile.updated_by = actor
    profile.full_clean()
    changes = {
        field: [value, getattr(profile, field)]
        for field, value in before.items()
        if value != getattr(profile, field)
    }
    if not changes:
        return
    with transaction.atomic():
        profile.save(update_fields=[*changes, "updated_by", "updated_at"])
        audit_record(
            organization=profile.organization,
            profile=profile,
            actor=actor,
            action=AuditAction.CHANGED,
            changes=changes,
        )


def issuer_check_available(*, profile: SSOProfile, issuer: str) -> None:
    if issuer and issuer_used_elsewhere(issuer=issuer, organization=profile.organization):
        raise refusal("issuer_taken", field="idp_issuer")


def certificate_add(*, profile: SSOProfile, certificate: CertificateInfo) -> bool:
    """Store the certificate unless the profile has it already; True when it was added."""
    existing = {c.fingerprint_sha256 for c in IdPCertificate.objects.filter(profile=profile)}
    if certificate.fingerprint_sha256 in existing:
        return False
    if len(existing) >= IdPCertificate.MAX_PER_PROFILE:
        raise refusal("certificate_limit", field="certificate")
    IdPCertificate.objects.create(
        profile=profile,
        pem=certificate.pem,
        fingerprint_sha256=certificate.fingerprint_sha256,
        subject=certificate.subject,
        issuer=certificate.issuer,
        not_before=certificate.not_before,
        not_after=certificate.not_after,
    )
    return True


def _status_after_change(*, profile: SSOProfile, connection_changed: bool) -> str:
    configured = profile.is_configured and IdPCertificate.objects.filter(profile=profile).exists()
    if not configured:
        return ProfileStatus.DRAFT if profile.status != ProfileStatus.DISABLED else profile.status
    if profile.status == ProfileStatus.DRAFT:
        return ProfileStatus.CONFIGURED
    if profile.status == ProfileStatus.TESTED and connection_changed:
        return ProfileStatus.CONFIGURED
    return profile.status


def profile_configure(
    *,
    profile: SSOProfile,
    actor: User | None,
    name: str,
    idp_kind: str,
    idp_issuer: str,
    idp_sso_url: str,
    certificates: Sequence[CertificateInfo] = (),
    default_redirect_url: str = "",
    domains: list[str] | None = None,
    allow_idp_initiated: bool = False,
    jit_provisioning: bool = True,
    jit_role: str = Role.MEMBER,
    domains_verified: bool = False,
    signature_policy: str | None = None,
    email_attribute: str | None = None,
    first_name_attribute: str | None = None,
    last_name_attribute: str | None = None,
    groups_attribute: str | None = None,
    metadata_url: str | None = None,
    idp_slo_url: str | None = None,
) -> SSOProfile:
    """Save the IdP side of a profile in one step: all of it, or nothing.

    `domains` replaces the profile's trusted domains when given; `certificates` are added to the
    ones it trusts (two at most). `signature_policy` and the attribute mapping (`*_attribute`,
    '' = the preset's usual names) are kept when None. A changed Issuer, SSO URL, certificate,
    signature policy or email attribute sends a Tested profile back to Configured: its last
    test no longer proves it. A new `metadata_url` ('' = none) is refreshed at the next run of
    `profiles_metadata_refresh`; None keeps it. `idp_slo_url` ('' = none) likewise.
    """
    issuer_check_available(profile=profile, issuer=idp_issuer)
    if domains is not None:
        domains_check_available(profile=profile, domains=domains)

    before = {field: getattr(profile, field) for field in TRACKED_FIELDS}
    profile.name = name
    profile.idp_kind = idp_kind
    profile.idp_issuer = idp_issuer
    profile.idp_sso_url = idp_sso_url
    if idp_slo_url is not None:
        profile.idp_slo_url = idp_slo_url
    profile.default_redirect_url = default_redirect_url
    profile.allow_idp_initiated = allow_idp_initiated
    profile.jit_provisioning = jit_provisioning
    profile.jit_role = jit_role
    if signature_policy is not None:
        profile.signature_policy = signature_policy
    mapping = {
        "email_attribute": email_attribute,
        "first_name_attribute": first_name_attribute,
        "last_name_attribute": last_name_attribute,
        "groups_attribute": groups_attribute,
    }
    for field, value in mapping.items():
        if value is not None:
            setattr(profile, field, value)
    if metadata_url is not None and metadata_url != profile.metadata_url:
        profile.metadata_url = metadata_url
        profile.metadata_fetched_at = profile.metadata_error_at = None
        profile.metadata_digest = profile.metadata_error = ""
        profile.metadata_pending = {}
        profile.metadata_refresh_at = timezone.now() if metadata_url else None
    profile.updated_by = actor
    profile.full_clean()

    changes = {
        field: [before[field], getattr(profile, field)]
        for field in TRACKED_FIELDS
        if before[field] != getattr(profile, field)
    }
    with transaction.atomic():
        added = [
            c.fingerprint_sha256
            for c in certificates
            if certificate_add(profile=profile, certificate=c)
        ]
        certificate_added = bool(added)
        if added:
            changes["certificates_added"] = added
        if domains is not None:
            changes.update(
                domains_sync(profile=profile, domains=domains, verified=domains_verified)
            )
        connection_changed = certificate_added or any(f in changes for f in CONNECTION_FIELDS)
        new_status = _status_after_change(profile=profile, connection_changed=connection_changed)
        if new_status != profile.status:
            changes["status"] = [profile.status, new_status]
            profile.status = new_status
        profile.save(update_fields=profile_fields_but_sp_keys())
        if changes:
            audit_record(
                organization=profile.organization,
                profile=profile,
                actor=actor,
                action=AuditAction.CHANGED,
                changes=changes,
            )
    return profile


def profile_set_session_limits(
    *,
    profile: SSOProfile,
    actor: User | None,
    max_session_minutes: int | None,
    max_authn_age_minutes: int | None,
) -> None:
    """The profile's maximum session age and maximum authentication age (None: no limit), for
    sign-ins from now on. Audited.

    Each value passes `validate_session_minutes` (errors on its field, nothing saved). `actor`
    must be an owner or admin of the profile's organization; None is the command line.
    """
    if actor is not None:
        membership = membership_get(user=actor, organization=profile.organization)
        if membership is None or membership.role not in (Role.OWNER, Role.ADMIN):
            raise refusal("profile_admins_only")
    values = {
        "max_session_minutes": max_session_minutes,
        "max_authn_age_minutes": max_authn_age_minutes,
    }
    validate_session_limits(values)
    changes = {f: [getattr(profile, f), v] for f, v in values.items() if getattr(profile, f) != v}
    if not changes:
        return
    for field, value in values.items():
        setattr(profile, field, value)
    profile.updated_by = actor
    profile.full_clean()
    with transaction.atomic():
        profile.save(update_fields=[*values, "updated_by", "updated_at"])
        audit_record(
            organization=profile.organization,
            profile=profile,
            actor=actor,
            action=AuditAction.SESSION_LIMITS_CHANGED,
            changes=changes,
        )


def profile_remove_certificate(
    *, profile: SSOProfile, actor: User | None, fingerprint: str, confirmed: bool = False
) -> None:
    """Stop trusting one of the profile's certificates.

    Refused for the last certificate of a tested or active profile; and, unless `confirmed`,
    for a certificate that verified a sign-in lately (code "certificate_in_use").
    """
    certificates = list(IdPCertificate.objects.filter(profile=profile))
    target = next((c for c in certificates if c.fingerprint_sha256 == fingerprint), None)
    if target is None:
        return
    if len(certificates) == 1 and profile.status in (ProfileStatus.TESTED, ProfileStatus.ACTIVE):
        raise refusal("certificate_last", field="certificate")
    last_used = certificate_last_used(profile=profile, fingerprint=fingerprint)
    if last_used is not None and not confirmed:
        raise refusal(
            "certificate_in_use",
            field="certificate",
            last_used=f"{last_used.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC",
        )
    with transaction.atomic():
        target.delete()
        changes: dict[str, Any] = {"certificate_removed": fingerprint}
        if last_used is not None:
            changes["certificate_last_used"] = last_used.isoformat()
        new_status = _status_after_change(profile=profile, connection_changed=True)
        if new_status != profile.status:
            changes["status"] = [profile.status, new_status]
            profile.status = new_status
            profile.save(update_fields=["status", "updated_at"])
        audit_record(
            organization=profile.organization,
            profile=profile,
            actor=actor,
            action=AuditAction.CHANGED,
            changes=changes,
        )


def profile_activate(*, profile: SSOProfile, actor: User | None, override: bool = False) -> None:
    """Turn a profile on: after a successful test, or by an explicit, audited override."""
    if not (profile.is_configured and IdPCertificate.objects.filter(profile=profile).exists()):
        raise refusal("not_configured")
    tested = profile.status == ProfileStatus.TESTED or (
        profile.status == ProfileStatus.DISABLED
        and profile.last_test_outcome == TestOutcome.SUCCESS
    )
    if not tested and not override:
        raise refusal("not_tested")
    action = AuditAction.ACTIVATED if tested else AuditAction.ACTIVATED_WITHOUT_TEST
    _profile_set_status(profile=profile, actor=actor, status=ProfileStatus.ACTIVE, action=action)


def profile_disable(*, profile: SSOProfile, actor: User | None) -> None:
    _profile_set_status(
        profile=profile, actor=actor, status=ProfileStatus.DISABLED, action=AuditAction.DISABLED
    )


def _profile_set_status(
    *, profile: SSOProfile, actor: User | None, status: str, action: AuditAction
) -> None:
    with transaction.atomic():
        changes = {"status": [profile.status, status]}
        profile.status = status
        profile.updated_by = actor
        profile.save(update_fields=["status", "updated_by", "updated_at"])
        audit_record(
            organization=profile.organization,
            profile=profile,
            actor=actor,
            action=action,
            changes=changes,
        )


def profile_delete(*, profile: SSOProfile, actor: User | None) -> None:
    with transaction.atomic():
        audit_record(
            organization=profile.organization,
            profile=profile,
            actor=actor,
            action=AuditAction.DELETED,
            changes={"name": [profile.name, None]},
        )
        profile.delete()


def connection_test_record(
    *,
    profile: SSOProfile,
    tester: User | None,
    reason: str,
    claims: dict[str, str],
    detail: dict[str, Any],
    client_ip: str | None = None,
) -> LoginEvent:
    """Store a connection test's outcome on the profile, the login events and the audit log.

    Success moves a Configured profile to Tested, the state that may be activated.
    """
    succeeded = reason == Reason.OK
    outcome = TestOutcome.SUCCESS if succeeded else TestOutcome.FAILURE
    with transaction.atomic():
        event = login_event_record(
            profile=profile,
            outcome=LoginOutcome.SUCCESS if succeeded else LoginOutcome.FAILURE,
            reason=reason,
            email=claims.get("email", ""),
            idp_issuer=claims.get("issuer", ""),
            assertion_id=claims.get("assertion_id", ""),
            in_response_to=claims.get("in_response_to", ""),
            client_ip=client_ip,
            is_test=True,
            detail=detail,
        )
        changes: dict[str, Any] = {"outcome": outcome.value, "reason": reason}
        profile.last_test_outcome = outcome
        profile.last_test_code = reason
        profile.last_tested_at = event.created_at
        if succeeded and profile.status == ProfileStatus.CONFIGURED:
            changes["status"] = [profile.status, ProfileStatus.TESTED]
            profile.status = ProfileStatus.TESTED
        profile.save(
            update_fields=["last_test_outcome", "last_test_code", "last_tested_at", "status"]
        )
        audit_record(
            organization=profile.organization,
            profile=profile,
            actor=tester,
            action=AuditAction.TESTED,
            changes=changes,
        )
    return event
