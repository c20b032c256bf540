"""Organizations, their people and invitations: reads."""

from __future__ import annotations

import hashlib

from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone

from sso.domains.selectors import profile_for_email
from sso.models import (
    EmailVerification,
    Invitation,
    Membership,
    Organization,
    Role,
    SignInMethod,
    User,
)
from sso.prepared import PreparedRead


def organization_get_by_slug(*, slug: str) -> Organization:
    return Organization.objects.get(slug=slug)


# Every sign-in reads the account by email: its SQL is compiled once (sso/prepared.py).
_USER_BY_EMAIL = PreparedRead(User, User.objects.with_email)


def user_get_by_email(*, email: str) -> User | None:
    # Unique, case-insensitively; normalised here as with_email normalises it.
    return _USER_BY_EMAIL.one(email.strip().lower())


def membership_get(*, user: User, organization: Organization) -> Membership | None:
    return Membership.objects.filter(user=user, organization=organization).first()


def membership_for_admin(*, user: User) -> Membership | None:
    """The organization this user administers (owner or admin), if any."""
    return (
        Membership.objects.filter(user=user, role__in=[Role.OWNER, Role.ADMIN])
        .select_related("organization")
        .order_by("organization__name")
        .first()
    )


def organization_enforcing_sso_for(*, email: str) -> Organization | None:
    """The organization whose enforced SSO covers this email, if any."""
    profile = profile_for_email(email=email)
    if profile is None or not profile.organization.enforce_sso:
        return None
    return profile.organization


def membership_break_glass(*, user: User, organization: Organization) -> Membership | None:
    return Membership.objects.filter(
        user=user, organization=organization, role=Role.OWNER, break_glass=True
    ).first()


def owners_of(*, organization: Organization) -> QuerySet[User]:
    """The organization's owners, each annotated with `break_glass`."""
    return (
        User.objects.filter(memberships__organization=organization, memberships__role=Role.OWNER)
        .annotate(break_glass=models.F("memberships__break_glass"))
        .order_by("email")
    )


def people_for(
    *, organization: Organization, query: str = "", role: str = "", method: str = ""
) -> QuerySet[Membership]:
    """The organization's members, searched by email or name, filtered by role and sign-in."""
    people = organization.memberships.select_related("user", "last_sign_in_profile").order_by(
        "user__email"
    )
    if query:
        people = people.filter(
            Q(user__email__icontains=query)
            | Q(user__first_name__icontains=query)
            | Q(user__last_name__icontains=query)
        )
    if role in Role.values:
        people = people.filter(role=role)
    if method == "never":
        people = people.filter(last_sign_in_at=None)
    elif method in SignInMethod.values:
        people = people.filter(last_sign_in_method=method)
    return people


def invitation_for_token(*, token: str) -> Invitation | None:
    digest = hashlib.sha256(token.encode()).hexdigest()
    return Invitation.objects.select_related("organization").filter(token_digest=digest).first()


def invitations_open(*, organization: Organization) -> QuerySet[Invitation]:
    """Invitations nobody accepted yet, expired ones included: an admin may send them again."""
    return organization.invitations.filter(accepted_at=None)


def email_verification_for_token(*, token: str) -> EmailVerification | None:
    """The open verification this link belongs to; None when unknown, used or expired."""
    digest = hashlib.sha256(token.encode()).hexdigest()
    return (
        EmailVerification.objects.select_related("user")
        .filter(token_digest=digest, expires_at__gt=timezone.now())
        .first()
    )
