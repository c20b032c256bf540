"""Signing in, by SSO or by password: the policy, decided once."""

from __future__ import annotations

import logging

from django.contrib.auth import authenticate
from django.db import IntegrityError, transaction

from sso.domains.selectors import profile_for_email, trusted_domain_for_email
from sso.events import audit_record
from sso.login import throttling
from sso.models import (
    AuditAction,
    SignInMethod,
    SSOProfile,
    User,
)
from sso.organizations.accounts import (
    user_drop_unverified_password,
    user_is_email_verified,
    user_link_to_sso,
)
from sso.organizations.selectors import (
    break_glass_membership,
    organization_enforcing_sso_for,
    user_get_by_email,
)
from sso.organizations.services import membership_create, membership_record_sign_in, user_create
from sso.reasons import LoginRefused, Reason

logger = logging.getLogger(__name__)


def sso_user_for_login(
    *, profile: SSOProfile, email: str, first_name: str = "", last_name: str = ""
) -> User:
    """The account an SSO login of this profile signs in, found by email or created just in time.

    Raises LoginRefused. An existing account joins the profile's organization only when its email
    is in a trusted domain of that very profile, so no IdP reaches another tenant's people.
    """
    if trusted_domain_for_email(profile=profile, email=email) is None:
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
    user = user_get_by_email(email=email)
    # Recording the sign-in also tells whether the account is a member already; a refusal
    # below raises out of the transaction around this function, which takes the record back.
    is_member = user is not None and membership_record_sign_in(
        user=user, method=SignInMethod.SSO, profile=profile
    )
    if not is_member and not trusted_domain_for_email(
        profile=profile, email=email, verified=True
    ):
        # Until its owner proves the domain, it neither creates nor links accounts.
        raise LoginRefused(Reason.DOMAIN_UNVERIFIED)
    if user is None:
        if not profile.jit_provisioning:
            raise LoginRefused(Reason.USER_NOT_PROVISIONED)
        user = user_create(
            email=email, first_name=first_name, last_name=last_name, email_verified=True
        )
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
        user_link_to_sso(user=user, profile=profile)
        membership_create(user=user, organization=profile.organization, role=profile.jit_role)
        membership_record_sign_in(user=user, method=SignInMethod.SSO, profile=profile)
    names = {"first_name": first_name, "last_name": last_name}
    changed = [key for key, value in names.items() if value and getattr(user, key) != value]
    if changed:
        for key in changed:
            setattr(user, key, names[key])
        user.save(update_fields=changed)
    return user


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
        "email_unverified": (
            "Confirm your email address first: open the link we emailed you when you signed up."
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
    if not user_is_email_verified(user=user):
        if user_drop_unverified_password(user=user):
            raise PasswordLoginRefused("sso_required", profile_for_email(email=user.email))
        raise PasswordLoginRefused("email_unverified")
    enforcing = organization_enforcing_sso_for(email=user.email)
    if enforcing is not None:
        if break_glass_membership(user=user, organization=enforcing) is None:
            raise PasswordLoginRefused(
                "sso_required", profile_for_email(email=user.email)
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
