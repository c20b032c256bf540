"""People's accounts: proving the email address, and what an SSO login does to a password."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from sso.domains.selectors import profile_for_email
from sso.events import audit_record
from sso.models import AuditAction, EmailVerification, SSOProfile, SubjectLink, User

logger = logging.getLogger(__name__)


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def user_is_email_verified(*, user: User) -> bool:
    return user.email_verified_at is not None


VERIFICATION_DAYS = 3


def user_email_verification_send(*, user: User) -> None:
    """Email a new link that proves the account's address; earlier links stop working."""
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        user.email_verifications.all().delete()
        EmailVerification.objects.create(
            user=user,
            email=user.email,
            token_digest=_token_digest(token),
            expires_at=timezone.now() + dt.timedelta(days=VERIFICATION_DAYS),
        )
    link = settings.SSO_PUBLIC_BASE_URL + reverse("sso:email_verify", args=[token])
    send_mail(
        subject="Confirm your email address",
        message=(
            f"Confirm that {user.email} is your address to finish creating your Admin Center "
            f"account (valid for {VERIFICATION_DAYS} days, usable once):\n{link}\n\n"
            "If you did not sign up, ignore this email: the account stays locked.\n"
        ),
        from_email=None,
        recipient_list=[user.email],
    )


def user_email_verify(*, token: str) -> User | None:
    """Mark the account whose link this is as verified; None when the link is unknown, used,
    expired or sent to an address the account no longer has.

    Whoever chose the password has not proved the address: in a domain that signs in through
    an active SSO profile, the password is turned off rather than trusted.
    """
    with transaction.atomic():
        verification = (
            EmailVerification.objects.select_for_update()
            .select_related("user")
            .filter(token_digest=_token_digest(token), expires_at__gt=timezone.now())
            .first()
        )
        if verification is None or verification.email != verification.user.email:
            return None
        user = verification.user
        user.email_verifications.all().delete()
        user.email_verified_at = timezone.now()
        fields = ["email_verified_at"]
        if profile_for_email(email=user.email) is not None:
            user.set_unusable_password()
            fields.append("password")
        user.save(update_fields=fields)
    return user


def user_drop_unverified_password(*, user: User) -> bool:
    """Turn off the password of an unverified account whose domain signs in through an active
    SSO profile: nobody proved that whoever chose it holds the address. True when turned off."""
    if user_is_email_verified(user=user) or profile_for_email(email=user.email) is None:
        return False
    user.set_unusable_password()
    user.save(update_fields=["password"])
    logger.info("Turned off the unverified password of %s: its domain uses SSO", user.pk)
    return True


def user_link_to_sso(*, user: User, profile: SSOProfile) -> None:
    """An SSO login of `profile`, whose IdP has just proven the email, attaches to an existing
    account: it counts as verified, and a password it had is turned off (its sessions end with
    it), so that whoever chose that password keeps no way in. Audited."""
    fields = []
    if not user_is_email_verified(user=user):
        user.email_verified_at = timezone.now()
        fields.append("email_verified_at")
    if user.has_usable_password():
        user.set_unusable_password()
        fields.append("password")
        audit_record(
            organization=profile.organization,
            profile=profile,
            actor=user,
            action=AuditAction.PASSWORD_DISABLED_BY_SSO,
            changes={"person": user.email, "email_was_verified": "email_verified_at" not in fields},
        )
    if fields:
        user.save(update_fields=fields)


def user_email_verification_resend(*, email: str) -> None:
    """A new link for the account with this email, if it still needs one."""
    user = User.objects.with_email(email).first()
    if user is not None and not user_is_email_verified(user=user):
        user_email_verification_send(user=user)


def subject_link_user(*, profile: SSOProfile, name_id_format: str, name_id: str) -> User | None:
    """The account this IdP subject signed in first, if it is linked (one query)."""
    link = (
        SubjectLink.objects.select_related("user")
        .filter(profile=profile, name_id_format=name_id_format, name_id=name_id)
        .first()
    )
    return link.user if link else None


def subject_link_exists_for(*, profile: SSOProfile, user: User) -> bool:
    """Whether another subject of this profile's IdP holds `user` already."""
    return SubjectLink.objects.filter(profile=profile, user=user).exists()


def subject_link_create(
    *, profile: SSOProfile, name_id_format: str, name_id: str, user: User
) -> SubjectLink:
    """Bind the subject to the account; raises IntegrityError when another login just did."""
    link = SubjectLink(profile=profile, name_id_format=name_id_format, name_id=name_id, user=user)
    # The profile and the account are in hand: validating their keys would cost two queries.
    link.full_clean(exclude=["profile", "user"], validate_unique=False, validate_constraints=False)
    link.save()
    return link


def user_email_follow_idp(*, user: User, email: str, profile: SSOProfile) -> bool:
    """The linked person's email changed at the IdP: the account takes the new email when no
    other account holds it, audited. Returns whether it changed."""
    if User.objects.with_email(email).exclude(pk=user.pk).exists():
        logger.warning(
            "Linked account %s keeps its email: another account holds the new one", user.pk
        )
        return False
    previous, user.email = user.email, email
    user.save(update_fields=["email"])
    audit_record(
        organization=profile.organization,
        profile=profile,
        actor=None,
        action=AuditAction.CHANGED,
        changes={"email": [previous, email], "by": "the IdP, through the linked subject"},
    )
    return True
