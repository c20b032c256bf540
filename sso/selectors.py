"""Reads: the queries business rules and views ask."""

from __future__ import annotations

import datetime as dt
import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Prefetch, Q, QuerySet, prefetch_related_objects
from django.utils import timezone

from sso.cache import LocalLRU
from sso.models import (
    AuditEvent,
    IdPCertificate,
    Invitation,
    LoginEvent,
    LoginOutcome,
    Membership,
    Organization,
    ProfileStatus,
    Role,
    SignInMethod,
    SSOProfile,
    TrustedDomain,
    User,
    VerificationState,
)
from sso.validators import email_domain


def organization_get_by_slug(*, slug: str) -> Organization:
    return Organization.objects.get(slug=slug)


def profile_get_by_sid(*, sid: str) -> SSOProfile:
    return SSOProfile.objects.select_related("organization").get(sid=sid)


_SIGN_IN_FIELDS = (
    "sid",
    "organization_id",
    "name",
    "idp_issuer",
    "idp_sso_url",
    "default_redirect_url",
    "allow_idp_initiated",
    "jit_provisioning",
    "jit_role",
    "status",
    "updated_at",
    "trust_revision",
)
_TRUST_ROWS: LocalLRU[tuple[int, str], dict[str, QuerySet]] = LocalLRU(maxsize=1024)


def profile_for_sign_in(*, sid: str) -> SSOProfile | None:
    """The profile as the ACS reads it, with the certificates that verify its logins and the
    domains it may sign in (`profile.certificates.all()`, `profile.domains.all()`); or None.

    Its row is read on every call, only the columns a login uses (its SP config is built from
    them; an ORM row costs in proportion to its columns). Its certificates and domains are read
    once per trust revision, which the database draws anew with every change to them (migration
    0005), and are then shared, read-only, by every login of this process (a row's own
    `.profile` is the instance that first read it: use the profile returned here instead).
    """
    try:
        profile = SSOProfile.objects.only(*_SIGN_IN_FIELDS).get(sid=sid)
    except SSOProfile.DoesNotExist:
        return None
    key = (profile.pk, profile.trust_revision)
    trust_rows = _TRUST_ROWS.get(key)
    if trust_rows is None:
        prefetch_related_objects(
            [profile],
            Prefetch(
                "certificates",
                IdPCertificate.objects.only("profile_id", "pem", "fingerprint_sha256"),
            ),
            Prefetch(
                "domains",
                TrustedDomain.objects.only("profile_id", "domain", "verification_state"),
            ),
        )
        # Read after the row, so never older than the revision they are kept under.
        _TRUST_ROWS.set(key, dict(profile._prefetched_objects_cache))
    else:
        # Where Django keeps prefetched rows, and where `.all()` finds them; it has no public
        # way to hand rows read earlier to a new instance.
        profile._prefetched_objects_cache = dict(trust_rows)
    return profile


CERTIFICATE_USE_DAYS = 30


def certificate_last_used(*, profile: SSOProfile, fingerprint: str) -> dt.datetime | None:
    """When this certificate of the profile last verified a sign-in (connection tests aside),
    if it did within the last CERTIFICATE_USE_DAYS days."""
    since = timezone.now() - dt.timedelta(days=CERTIFICATE_USE_DAYS)
    return (
        LoginEvent.objects.filter(
            profile=profile,
            outcome=LoginOutcome.SUCCESS,
            is_test=False,
            created_at__gte=since,
            detail__verified_with=fingerprint,
        )
        .values_list("created_at", flat=True)
        .first()  # the newest: login events are ordered newest first
    )


def certificates_last_used(*, profile: SSOProfile) -> dict[str, dt.datetime]:
    """`certificate_last_used` of each of the profile's certificates that has one, by
    SHA-256 fingerprint."""
    last_used = {}
    for certificate in profile.certificates.all():
        fingerprint = certificate.fingerprint_sha256
        latest = certificate_last_used(profile=profile, fingerprint=fingerprint)
        if latest is not None:
            last_used[fingerprint] = latest
    return last_used


def profiles_for_organization(*, organization: Organization) -> QuerySet[SSOProfile]:
    return organization.sso_profiles.prefetch_related("domains", "certificates")


def user_get_by_email(*, email: str) -> User | None:
    try:
        return User.objects.with_email(email).get()  # unique, case-insensitively
    except User.DoesNotExist:
        return None


def membership_get(*, user: User, organization: Organization) -> Membership | None:
    return Membership.objects.filter(user=user, organization=organization).first()


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


def issuer_used_elsewhere(*, issuer: str, organization: Organization) -> bool:
    return SSOProfile.objects.filter(idp_issuer=issuer).exclude(organization=organization).exists()


def trusted_domain_for_email(
    *, profile: SSOProfile, email: str, verified: bool = False
) -> TrustedDomain | None:
    """The profile's own trusted domain covering this email, exact before wildcard."""
    domain = email_domain(email)
    if not domain:
        return None
    candidates = [
        d for d in profile.domains.all() if d.matches(domain) and (d.is_verified or not verified)
    ]
    candidates.sort(key=lambda d: (d.is_wildcard, -len(d.domain)))
    return candidates[0] if candidates else None


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


def admin_membership_for(*, user: User) -> Membership | None:
    """The organization this user administers (owner or admin), if any."""
    return (
        Membership.objects.filter(user=user, role__in=[Role.OWNER, Role.ADMIN])
        .select_related("organization")
        .order_by("organization__name")
        .first()
    )


def audit_events_for(*, organization: Organization) -> QuerySet[AuditEvent]:
    return organization.audit_events.select_related("actor", "profile")


def login_events_for(*, profile: SSOProfile) -> QuerySet[LoginEvent]:
    return LoginEvent.objects.filter(profile=profile, organization=profile.organization)


def last_connection_test(*, profile: SSOProfile) -> LoginEvent | None:
    return login_events_for(profile=profile).filter(is_test=True).first()


def organization_enforcing_sso_for(*, email: str) -> Organization | None:
    """The organization whose enforced SSO covers this email, if any."""
    profile = profile_for_email(email=email)
    if profile is None or not profile.organization.enforce_sso:
        return None
    return profile.organization


def break_glass_membership(*, user: User, organization: Organization) -> Membership | None:
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


def verified_bases(*, organization: Organization) -> set[str]:
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


def open_invitations_for(*, organization: Organization) -> QuerySet[Invitation]:
    """Invitations nobody accepted yet, expired ones included: an admin may send them again."""
    return organization.invitations.filter(accepted_at=None)
