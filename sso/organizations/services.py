"""Organizations, their people and invitations: writes, named <entity>_<action>."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from sso.domains.selectors import profile_for_email
from sso.errors import refusal, refusals
from sso.events import audit_record
from sso.models import (
    AuditAction,
    Invitation,
    Membership,
    Organization,
    ProfileStatus,
    Role,
    SignInMethod,
    SSOProfile,
    TestOutcome,
    User,
)
from sso.organizations.accounts import user_email_verification_send, user_is_email_verified
from sso.organizations.selectors import membership_get, user_get_by_email
from sso.prepared import PreparedUpdate, marker
from sso.validators import validate_session_limits


def user_create(
    *,
    email: str,
    password: str | None = None,
    first_name: str = "",
    last_name: str = "",
    email_verified: bool = False,
) -> User:
    """A new account; `email_verified` only when the caller has proof the person holds it."""
    user = User(
        email=email,
        first_name=first_name,
        last_name=last_name,
        email_verified_at=timezone.now() if email_verified else None,
    )
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


def organization_set_sso_enforcement(
    *,
    organization: Organization,
    actor: User | None,
    enforce: bool,
    break_glass: list[User],
    confirmed: bool = False,
) -> None:
    """Turn Enforce SSO on or off and name the owners who keep password sign-in.

    Enforcing needs an active profile. Without an active profile that passed its last
    connection test, or without a break-glass owner, one IdP failure locks everybody out:
    that is refused (on `confirm`, saying what would happen) unless the admin `confirmed` it.
    """
    if enforce:
        active = organization.sso_profiles.filter(status=ProfileStatus.ACTIVE)
        if not active.exists():
            raise refusal("enforce_without_active", field="enforce_sso")
        risks = []
        if not active.filter(last_test_outcome=TestOutcome.SUCCESS).exists():
            risks.append(refusal("enforce_untested"))
        owner_pks = set(
            organization.memberships.filter(role=Role.OWNER).values_list("user_id", flat=True)
        )
        if not owner_pks & {user.pk for user in break_glass}:
            risks.append(refusal("enforce_without_break_glass"))
        if risks and not confirmed:
            raise refusals(*risks, field="confirm")
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


def organization_set_session_limit(
    *, organization: Organization, actor: User | None, max_session_minutes: int | None
) -> None:
    """The longest an SSO session of this organization lasts (None: no limit of ours); for
    sessions signed in from now on. Audited; a value `validate_session_minutes` refuses is
    raised on its field."""
    validate_session_limits({"max_session_minutes": max_session_minutes})
    before = organization.max_session_minutes
    if before == max_session_minutes:
        return
    organization.max_session_minutes = max_session_minutes
    organization.full_clean()
    with transaction.atomic():
        organization.save(update_fields=["max_session_minutes"])
        audit_record(
            organization=organization,
            actor=actor,
            action=AuditAction.SESSION_LIMITS_CHANGED,
            changes={"max_session_minutes": [before, max_session_minutes]},
        )


def organization_signup(*, email: str, password: str, organization_name: str) -> User:
    """A new organization and its owner account, which signs in once its email is verified:
    the verification link is emailed."""
    with transaction.atomic():
        user = user_create(email=email, password=password)
        base = slugify(organization_name)[:50] or "organization"
        slug, counter = base, 1
        while Organization.objects.filter(slug=slug).exists():
            counter += 1
            slug = f"{base}-{counter}"
        organization_create(name=organization_name, slug=slug, owner=user)
    user_email_verification_send(user=user)
    return user


INVITATION_DAYS = 7


def user_end_sessions(*, user: User) -> None:
    """End every session of this user at once, on every worker (see User.session_epoch)."""
    User.objects.filter(pk=user.pk).update(session_epoch=F("session_epoch") + 1)
    user.refresh_from_db(fields=["session_epoch"])


_SSO_SIGN_IN = PreparedUpdate(
    Membership,
    lambda: Membership.objects.filter(user_id=marker(0), organization_id=marker(1)),
    fields=("last_sign_in_at", "last_sign_in_method", "last_sign_in_profile"),
)


def membership_record_sign_in(
    *, user: User, method: SignInMethod, profile: SSOProfile | None = None
) -> int:
    """Record a sign-in on the person's memberships (only the profile's organization for SSO);
    returns how many memberships it recorded it on."""
    if profile is not None:  # every SSO login: the same update, its SQL compiled once
        return _SSO_SIGN_IN.run(
            user.pk,
            profile.organization_id,
            last_sign_in_at=timezone.now(),
            last_sign_in_method=method,
            last_sign_in_profile=profile,
        )
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
        raise refusal("last_owner")


def _check_actor_may_touch_owner(membership: Membership, actor: User | None) -> None:
    """Only an owner grants, takes away or removes the owner role: an admin who could would
    make themselves owner and demote the real one. `actor` None is the command line."""
    if actor is None:
        return
    actor_membership = membership_get(user=actor, organization=membership.organization)
    if actor_membership is None or actor_membership.role != Role.OWNER:
        raise refusal("owner_role_owners_only")


def membership_change_role(*, membership: Membership, actor: User | None, role: str) -> None:
    if role == membership.role:
        return
    if Role.OWNER in (role, membership.role):
        _check_actor_may_touch_owner(membership, actor)
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
    if membership.role == Role.OWNER:
        _check_actor_may_touch_owner(membership, actor)
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
        raise refusal("other_organizations")
    if membership.role == Role.OWNER:
        _check_actor_may_touch_owner(membership, actor)
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
        raise refusal("already_member", field="email")
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
        raise refusal("invitation_closed")
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
    """Join the invitation's organization: as the signed-in `user`, or as a new account with
    `password`.

    Accepting proves the invited email. Signing in as it proves it; holding the emailed link
    proves it only for a new account outside SSO, so an existing account, or an email whose
    domain signs in through SSO, must sign in first (or anyone who opens the link could make
    that person a member, even an owner, of an organization they never joined).
    """
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if not locked.is_usable:
            raise refusal("invitation_used")
        if user is None:
            if (
                user_get_by_email(email=locked.email) is not None
                or profile_for_email(email=locked.email) is not None
            ):
                raise refusal("invitation_sign_in_first")
            user = user_create(email=locked.email, password=password, email_verified=True)
        elif user.email.lower() != locked.email:
            raise refusal("invitation_email_mismatch")
        elif not user_is_email_verified(user=user):
            raise refusal("invitation_sign_in_first")
        if membership_get(user=user, organization=locked.organization) is None:
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


def invitations_prune(*, now: dt.datetime) -> int:
    """Delete invitations nobody accepted that expired more than the retention period ago."""
    cutoff = now - dt.timedelta(days=settings.SSO_LOGIN_EVENT_RETENTION_DAYS)
    return Invitation.objects.filter(accepted_at=None, expires_at__lt=cutoff).delete()[0]
