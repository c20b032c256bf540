"""Writes, named <entity>_<action>. Each validates before it saves and records an audit entry."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from sso import selectors, throttling, verification
from sso.crypto import generate_sp_key_pair
from sso.models import (
    AuditAction,
    AuditEvent,
    IdPCertificate,
    IdPKind,
    Invitation,
    LoginEvent,
    LoginOutcome,
    Membership,
    Organization,
    ProfileStatus,
    Role,
    SignInMethod,
    SSOProfile,
    TestOutcome,
    TrustedDomain,
    User,
    VerificationState,
)
from sso.reasons import LoginRefused, Reason
from sso.validators import CertificateInfo

logger = logging.getLogger(__name__)

MESSAGES = {
    "issuer_taken": (
        "Another organization already uses this IdP Issuer. One IdP application can sign "
        "users into one organization only: create a separate application in your IdP."
    ),
    "domain_taken": "Domain %(domain)s is already used by another organization.",
    "certificate_limit": (
        "A profile holds at most two certificates (the current one and its replacement). "
        "Remove the older one first."
    ),
    "certificate_last": "A configured profile needs a signing certificate; add the new one first.",
    "certificate_in_use": (
        "This certificate verified a sign-in on %(last_used)s: your IdP may still sign with it, "
        "and once it is removed those sign-ins are refused. Check which certificate your IdP "
        "signs with first."
    ),
    "not_tested": "Test the connection successfully before turning the profile on.",
    "not_configured": "Enter the Issuer, single sign-on URL and signing certificate first.",
    "domain_verified_elsewhere": (
        "Another organization has already verified this domain; it cannot be verified twice."
    ),
    "enforce_without_active": (
        "Turn on an SSO profile first: enforcing SSO without an active profile would lock "
        "everybody out."
    ),
}

TRACKED_FIELDS = (
    "name",
    "idp_kind",
    "idp_issuer",
    "idp_sso_url",
    "default_redirect_url",
    "allow_idp_initiated",
    "jit_provisioning",
    "jit_role",
)
CONNECTION_FIELDS = ("idp_issuer", "idp_sso_url")


def _error(field: str, code: str, **params: object) -> ValidationError:
    return ValidationError({field: ValidationError(MESSAGES[code], code=code, params=params)})


def audit_record(
    *,
    organization: Organization,
    action: AuditAction,
    actor: User | None,
    profile: SSOProfile | None = None,
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        organization=organization,
        profile=profile,
        profile_sid=profile.sid if profile else "",
        actor=actor,
        action=action,
        changes=changes or {},
    )


def user_create(
    *, email: str, password: str | None = None, first_name: str = "", last_name: str = ""
) -> User:
    user = User(email=email, first_name=first_name, last_name=last_name)
    user.set_password(password)
    user.full_clean()
    user.save()
    return user


def organization_create(*, name: str, slug: str, owner: User | None = None) -> Organization:
    with transaction.atomic():
        organization = Organization(name=name, slug=slug)
        organization.full_clean()
        organization.save()
        if owner is not None:
            membership_create(user=owner, organization=organization, role=Role.OWNER)
    return organization


def membership_create(
    *, user: User, organization: Organization, role: Role, created_just_in_time: bool = False
) -> Membership:
    membership = Membership(
        user=user, organization=organization, role=role, created_just_in_time=created_just_in_time
    )
    membership.full_clean()
    membership.save()
    return membership


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


def _check_domains(*, profile: SSOProfile, domains: list[str]) -> None:
    conflicts = selectors.domains_conflicting(domains=domains, organization=profile.organization)
    if conflicts:
        raise _error("domains", "domain_taken", domain=conflicts[0].domain)


def _check_issuer(*, profile: SSOProfile, issuer: str) -> None:
    if issuer and selectors.issuer_used_elsewhere(issuer=issuer, organization=profile.organization):
        raise _error("idp_issuer", "issuer_taken")


# The services query certificates and domains directly: a profile passed in may carry a
# prefetch cache that their own writes would make stale.


def _add_certificate(*, profile: SSOProfile, certificate: CertificateInfo) -> bool:
    """Store the certificate unless the profile has it already; True when it was added."""
    existing = {c.fingerprint_sha256 for c in IdPCertificate.objects.filter(profile=profile)}
    if certificate.fingerprint_sha256 in existing:
        return False
    if len(existing) >= IdPCertificate.MAX_PER_PROFILE:
        raise _error("certificate", "certificate_limit")
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


def _sync_domains(*, profile: SSOProfile, domains: list[str], verified: bool) -> dict[str, list]:
    """Make the profile's trusted domains these; `verified` is an operator's word for new ones.

    A new domain whose base another row of the organization already proved starts verified.
    """
    current = {d.domain: d for d in TrustedDomain.objects.filter(profile=profile)}
    removed = sorted(set(current) - set(domains))
    added = [d for d in domains if d not in current]
    TrustedDomain.objects.filter(profile=profile, domain__in=removed).delete()
    proven = selectors.verified_bases(organization=profile.organization)
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
) -> SSOProfile:
    """Save the IdP side of a profile in one step: all of it, or nothing.

    `domains` replaces the profile's trusted domains when given; `certificates` are added to the
    ones it trusts (two at most). A changed Issuer, SSO URL or certificate sends a Tested
    profile back to Configured: its last test no longer proves it.
    """
    _check_issuer(profile=profile, issuer=idp_issuer)
    if domains is not None:
        _check_domains(profile=profile, domains=domains)

    before = {field: getattr(profile, field) for field in TRACKED_FIELDS}
    profile.name = name
    profile.idp_kind = idp_kind
    profile.idp_issuer = idp_issuer
    profile.idp_sso_url = idp_sso_url
    profile.default_redirect_url = default_redirect_url
    profile.allow_idp_initiated = allow_idp_initiated
    profile.jit_provisioning = jit_provisioning
    profile.jit_role = jit_role
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
            if _add_certificate(profile=profile, certificate=c)
        ]
        certificate_added = bool(added)
        if added:
            changes["certificates_added"] = added
        if domains is not None:
            changes.update(
                _sync_domains(profile=profile, domains=domains, verified=domains_verified)
            )
        connection_changed = certificate_added or any(f in changes for f in CONNECTION_FIELDS)
        new_status = _status_after_change(profile=profile, connection_changed=connection_changed)
        if new_status != profile.status:
            changes["status"] = [profile.status, new_status]
            profile.status = new_status
        profile.save()
        if changes:
            audit_record(
                organization=profile.organization,
                profile=profile,
                actor=actor,
                action=AuditAction.CHANGED,
                changes=changes,
            )
    return profile


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
        raise _error("certificate", "certificate_last")
    last_used = selectors.certificate_last_used(profile=profile, fingerprint=fingerprint)
    if last_used is not None and not confirmed:
        raise _error(
            "certificate",
            "certificate_in_use",
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
        raise ValidationError(MESSAGES["not_configured"], code="not_configured")
    tested = profile.status == ProfileStatus.TESTED or (
        profile.status == ProfileStatus.DISABLED
        and profile.last_test_outcome == TestOutcome.SUCCESS
    )
    if not tested and not override:
        raise ValidationError(MESSAGES["not_tested"], code="not_tested")
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


def login_event_record(
    *,
    profile: SSOProfile | None,
    outcome: LoginOutcome,
    reason: str,
    user: User | None = None,
    email: str = "",
    idp_issuer: str = "",
    assertion_id: str = "",
    in_response_to: str = "",
    client_ip: str | None = None,
    is_test: bool = False,
    detail: dict[str, Any] | None = None,
) -> LoginEvent:
    return LoginEvent.objects.create(
        organization_id=profile.organization_id if profile else None,
        profile=profile,
        profile_sid=profile.sid if profile else "",
        user=user,
        outcome=outcome,
        reason=reason,
        email=email[:254],
        idp_issuer=idp_issuer[:1024],
        assertion_id=assertion_id[:256],
        in_response_to=in_response_to[:256],
        client_ip=client_ip,
        is_test=is_test,
        detail=detail or {},
    )


def sso_user_for_login(
    *, profile: SSOProfile, email: str, first_name: str = "", last_name: str = ""
) -> User:
    """The account an SSO login of this profile signs in, found by email or created just in time.

    Raises LoginRefused. An existing account joins the profile's organization only when its email
    is in a trusted domain of that very profile, so no IdP reaches another tenant's people.
    """
    if selectors.trusted_domain_for_email(profile=profile, email=email) is None:
        raise LoginRefused(Reason.DOMAIN_NOT_TRUSTED)
    names = {"first_name": first_name, "last_name": last_name}
    try:
        with transaction.atomic():
            return _sso_user_for_login(profile=profile, email=email, **names)
    except IntegrityError:
        # Two first logins of one person raced; the other created the account.
        with transaction.atomic():
            return _sso_user_for_login(profile=profile, email=email, **names)


def _sso_user_for_login(
    *, profile: SSOProfile, email: str, first_name: str, last_name: str
) -> User:
    user = selectors.user_get_by_email(email=email)
    # Recording the sign-in also tells whether the account is a member already; a refusal
    # below raises out of the transaction around this function, which takes the record back.
    is_member = user is not None and membership_record_sign_in(
        user=user, method=SignInMethod.SSO, profile=profile
    )
    if not is_member and not selectors.trusted_domain_for_email(
        profile=profile, email=email, verified=True
    ):
        # Until its owner proves the domain, it neither creates nor links accounts.
        raise LoginRefused(Reason.DOMAIN_UNVERIFIED)
    if user is None:
        if not profile.jit_provisioning:
            raise LoginRefused(Reason.USER_NOT_PROVISIONED)
        user = user_create(email=email, first_name=first_name, last_name=last_name)
        membership_create(
            user=user,
            organization=profile.organization,
            role=profile.jit_role,
            created_just_in_time=True,
        )
        logger.info("Created %s just in time through profile %s", user.pk, profile.sid)
        membership_record_sign_in(user=user, method=SignInMethod.SSO, profile=profile)
        return user
    if not user.is_active:
        raise LoginRefused(Reason.USER_INACTIVE)
    if not is_member:
        if not profile.jit_provisioning:
            raise LoginRefused(Reason.USER_NOT_PROVISIONED)
        membership_create(user=user, organization=profile.organization, role=profile.jit_role)
        membership_record_sign_in(user=user, method=SignInMethod.SSO, profile=profile)
    names = {"first_name": first_name, "last_name": last_name}
    changed = [key for key, value in names.items() if value and getattr(user, key) != value]
    if changed:
        for key in changed:
            setattr(user, key, names[key])
        user.save(update_fields=changed)
    return user


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


class PasswordLoginRefused(Exception):
    """A password sign-in that must not go through; `code` is stable, `message` is for the user."""

    MESSAGES = {
        "invalid": "Your email or password is incorrect.",
        "throttled": (
            "Too many failed attempts. Wait 15 minutes and try again, or sign in with single "
            "sign-on if your organization uses it."
        ),
        "sso_required": (
            "Your organization requires single sign-on. Continue with SSO to sign in."
        ),
    }

    def __init__(self, code: str, profile: SSOProfile | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.message = self.MESSAGES[code]
        self.profile = profile


def password_login(*, email: str, password: str, client_ip: str | None) -> User:
    """Check a password sign-in: throttling, enforced SSO with break-glass owners, password.

    Raises PasswordLoginRefused. A break-glass sign-in is audited.
    """
    if throttling.login_throttled(email=email, client_ip=client_ip):
        raise PasswordLoginRefused("throttled")
    user = authenticate(None, username=email.strip(), password=password)
    if user is None:
        throttling.login_failure_record(email=email, client_ip=client_ip)
        raise PasswordLoginRefused("invalid")
    throttling.login_success_record(email=email)
    enforcing = selectors.organization_enforcing_sso_for(email=user.email)
    if enforcing is not None:
        if selectors.break_glass_membership(user=user, organization=enforcing) is None:
            raise PasswordLoginRefused(
                "sso_required", selectors.profile_for_email(email=user.email)
            )
        audit_record(
            organization=enforcing,
            actor=user,
            action=AuditAction.BREAK_GLASS_LOGIN,
            changes={"client_ip": client_ip or ""},
        )
        logger.warning("Break-glass password sign-in by %s into %s", user.pk, enforcing.slug)
    membership_record_sign_in(user=user, method=SignInMethod.PASSWORD)
    return user


def organization_set_sso_enforcement(
    *, organization: Organization, actor: User | None, enforce: bool, break_glass: list[User]
) -> None:
    """Turn Enforce SSO on or off and name the owners who keep password sign-in."""
    has_active = organization.sso_profiles.filter(status=ProfileStatus.ACTIVE).exists()
    if enforce and not has_active:
        raise ValidationError(
            {
                "enforce_sso": ValidationError(
                    MESSAGES["enforce_without_active"], code="enforce_without_active"
                )
            }
        )
    owners = organization.memberships.filter(role=Role.OWNER)
    chosen = {user.pk for user in break_glass}
    before = {
        "enforce_sso": organization.enforce_sso,
        "break_glass": sorted(
            owners.filter(break_glass=True).values_list("user__email", flat=True)
        ),
    }
    with transaction.atomic():
        organization.enforce_sso = enforce
        organization.save(update_fields=["enforce_sso"])
        owners.filter(user__in=chosen).update(break_glass=True)
        owners.exclude(user__in=chosen).update(break_glass=False)
        after = {
            "enforce_sso": enforce,
            "break_glass": sorted(
                owners.filter(break_glass=True).values_list("user__email", flat=True)
            ),
        }
        changes = {key: [before[key], after[key]] for key in before if before[key] != after[key]}
        if changes:
            audit_record(
                organization=organization,
                actor=actor,
                action=AuditAction.SSO_ENFORCEMENT_CHANGED,
                changes=changes,
            )


def signup(*, email: str, password: str, organization_name: str) -> User:
    """A new organization and its owner account."""
    with transaction.atomic():
        user = user_create(email=email, password=password)
        base = slugify(organization_name)[:50] or "organization"
        slug, counter = base, 1
        while Organization.objects.filter(slug=slug).exists():
            counter += 1
            slug = f"{base}-{counter}"
        organization_create(name=organization_name, slug=slug, owner=user)
    return user


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


def domain_check(*, domain: TrustedDomain, actor: User | None = None) -> verification.Check:
    """Look for the domain's proof now and apply what was found.

    Found: verified (unless another organization proved it first). Missing: an unverified
    domain fails; a verified one keeps working until the grace period ends. Unknown (DNS did
    not answer): nothing changes.
    """
    check = verification.check_domain(domain.domain, domain.verification_token)
    now = timezone.now()
    domain.checked_at = now
    domain.check_detail = check.detail[:500]
    fields = ["checked_at", "check_detail"]
    if check.proof == verification.Proof.FOUND:
        if selectors.domain_verified_elsewhere(domain=domain):
            domain.verification_state = VerificationState.FAILED
            domain.check_detail = MESSAGES["domain_verified_elsewhere"]
            domain.save(update_fields=[*fields, "verification_state"])
            return check
        domain.save(update_fields=fields)
        domain_mark_verified(domain=domain, actor=actor, how=check.method)
        domain.refresh_from_db()
        return check
    if check.proof == verification.Proof.MISSING:
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
    counts = {proof.value: 0 for proof in verification.Proof}
    for domain in TrustedDomain.objects.select_related("organization", "profile"):
        counts[domain_check(domain=domain).proof.value] += 1
    return counts


# People ------------------------------------------------------------------------------------------

INVITATION_DAYS = 7
PEOPLE_MESSAGES = {
    "last_owner": "An organization needs an owner: make someone else owner first.",
    "already_member": "This person is already a member of your organization.",
    "other_organizations": (
        "This person also belongs to other organizations, so their account cannot be "
        "deactivated from here. Remove them from your organization instead."
    ),
    "invitation_email_mismatch": "This invitation was sent to another email address.",
    "invitation_closed": "This invitation was already accepted or revoked.",
}


def _people_error(code: str, field: str | None = None) -> ValidationError:
    error = ValidationError(PEOPLE_MESSAGES[code], code=code)
    return ValidationError({field: error}) if field else error


def user_end_sessions(*, user: User) -> None:
    """End every session of this user at once, on every worker (see User.session_epoch)."""
    User.objects.filter(pk=user.pk).update(session_epoch=F("session_epoch") + 1)
    user.refresh_from_db(fields=["session_epoch"])


def membership_record_sign_in(
    *, user: User, method: SignInMethod, profile: SSOProfile | None = None
) -> int:
    """Record a sign-in on the person's memberships (only the profile's organization for SSO);
    returns how many memberships it recorded it on."""
    memberships = Membership.objects.filter(user=user)
    if profile is not None:
        memberships = memberships.filter(organization_id=profile.organization_id)
    return memberships.update(
        last_sign_in_at=timezone.now(), last_sign_in_method=method, last_sign_in_profile=profile
    )


def _check_keeps_an_owner(membership: Membership) -> None:
    if membership.role != Role.OWNER:
        return
    owners = Membership.objects.filter(
        organization=membership.organization, role=Role.OWNER, user__is_active=True
    )
    if not owners.exclude(pk=membership.pk).exists():
        raise _people_error("last_owner")


def membership_change_role(*, membership: Membership, actor: User | None, role: str) -> None:
    if role == membership.role:
        return
    if role != Role.OWNER:
        _check_keeps_an_owner(membership)
    with transaction.atomic():
        changes = {"person": membership.user.email, "role": [membership.role, role]}
        membership.role = role
        if role != Role.OWNER:
            membership.break_glass = False
        membership.full_clean()
        membership.save(update_fields=["role", "break_glass"])
        audit_record(
            organization=membership.organization,
            actor=actor,
            action=AuditAction.MEMBER_ROLE_CHANGED,
            changes=changes,
        )


def membership_remove(*, membership: Membership, actor: User | None) -> None:
    """Take a person out of the organization and end all their sessions at once."""
    _check_keeps_an_owner(membership)
    with transaction.atomic():
        audit_record(
            organization=membership.organization,
            actor=actor,
            action=AuditAction.MEMBER_REMOVED,
            changes={"person": membership.user.email, "role": membership.role},
        )
        membership.delete()
        user_end_sessions(user=membership.user)


def membership_deactivate(*, membership: Membership, actor: User | None) -> None:
    """Deactivate a person's account (only theirs alone to decide) and end all their sessions."""
    user = membership.user
    if user.memberships.exclude(organization=membership.organization).exists():
        raise _people_error("other_organizations")
    _check_keeps_an_owner(membership)
    with transaction.atomic():
        user.is_active = False
        user.save(update_fields=["is_active"])
        user_end_sessions(user=user)
        audit_record(
            organization=membership.organization,
            actor=actor,
            action=AuditAction.MEMBER_DEACTIVATED,
            changes={"person": user.email},
        )


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_create(
    *, organization: Organization, actor: User | None, email: str, role: str
) -> tuple[Invitation, str]:
    """An invitation and its link token, which is shown once and emailed, never stored."""
    email = email.strip().lower()
    if Membership.objects.filter(
        organization=organization, user__in=User.objects.with_email(email)
    ).exists():
        raise _people_error("already_member", "email")
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        invitation = Invitation(
            organization=organization,
            email=email,
            role=role,
            token_digest=_token_digest(token),
            created_by=actor,
            expires_at=timezone.now() + dt.timedelta(days=INVITATION_DAYS),
        )
        invitation.full_clean()
        invitation.save()
        audit_record(
            organization=organization,
            actor=actor,
            action=AuditAction.MEMBER_INVITED,
            changes={"person": email, "role": role},
        )
    return invitation, _invitation_send(invitation=invitation, actor=actor, token=token)


def _invitation_send(*, invitation: Invitation, actor: User | None, token: str) -> str:
    """Email the invitation's link; returns it, to be shown once."""
    organization = invitation.organization
    link = settings.SSO_PUBLIC_BASE_URL + reverse("sso:invitation_accept", args=[token])
    send_mail(
        subject=f"You are invited to {organization.name}",
        message=(
            f"{actor.email if actor else 'An administrator'} invited you to join "
            f"{organization.name} as {Role(invitation.role).label.lower()}.\n\nAccept the "
            f"invitation (valid for {INVITATION_DAYS} days, usable once):\n{link}\n"
        ),
        from_email=None,
        recipient_list=[invitation.email],
    )
    return link


def _invitation_open(invitation: Invitation) -> Invitation:
    """The invitation, locked for this transaction; refused once accepted or revoked."""
    locked = Invitation.objects.select_for_update().filter(pk=invitation.pk).first()
    if locked is None or locked.accepted_at is not None:
        raise _people_error("invitation_closed")
    return locked


def invitation_resend(*, invitation: Invitation, actor: User | None) -> tuple[Invitation, str]:
    """A new link for an invitation nobody accepted, expired or not, valid for another
    INVITATION_DAYS days; the old link stops working. Returns the invitation and the link."""
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        locked = _invitation_open(invitation)
        locked.token_digest = _token_digest(token)
        locked.expires_at = timezone.now() + dt.timedelta(days=INVITATION_DAYS)
        locked.save(update_fields=["token_digest", "expires_at"])
        audit_record(
            organization=locked.organization,
            actor=actor,
            action=AuditAction.INVITATION_RESENT,
            changes={"person": locked.email, "role": locked.role},
        )
    return locked, _invitation_send(invitation=locked, actor=actor, token=token)


def invitation_revoke(*, invitation: Invitation, actor: User | None) -> None:
    """Withdraw an invitation nobody accepted: its link stops working."""
    with transaction.atomic():
        locked = _invitation_open(invitation)
        locked.delete()
        audit_record(
            organization=locked.organization,
            actor=actor,
            action=AuditAction.INVITATION_REVOKED,
            changes={"person": locked.email, "role": locked.role},
        )


def invitation_accept(
    *, invitation: Invitation, user: User | None = None, password: str | None = None
) -> User:
    """Join the invitation's organization: as the signed-in `user`, or as a new account.

    A new account gets `password`, or none when its domain signs in through SSO.
    """
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if not locked.is_usable:
            raise ValidationError(
                "This invitation was already used or has expired.", code="invitation_used"
            )
        if user is None:
            user = selectors.user_get_by_email(email=locked.email) or user_create(
                email=locked.email, password=password
            )
        elif user.email.lower() != locked.email:
            raise _people_error("invitation_email_mismatch")
        if selectors.membership_get(user=user, organization=locked.organization) is None:
            membership_create(user=user, organization=locked.organization, role=locked.role)
        locked.accepted_at = timezone.now()
        locked.save(update_fields=["accepted_at"])
        audit_record(
            organization=locked.organization,
            actor=user,
            action=AuditAction.INVITATION_ACCEPTED,
            changes={"person": user.email, "role": locked.role},
        )
    return user
