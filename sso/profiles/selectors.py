"""SSO profiles and their IdP certificates: reads."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db.models import Prefetch, QuerySet, prefetch_related_objects
from django.urls import reverse
from django.utils import timezone

from sso.cache import LocalLRU
from sso.models import (
    IdPCertificate,
    IdPKind,
    LoginEvent,
    LoginOutcome,
    Membership,
    Organization,
    ProfileStatus,
    SignInMethod,
    SSOProfile,
    TestOutcome,
    TrustedDomain,
)
from sso.prepared import PreparedRead


def profile_get_by_sid(*, sid: str) -> SSOProfile:
    return SSOProfile.objects.select_related("organization").get(sid=sid)


_SIGN_IN_FIELDS = (
    "sid",
    "organization_id",
    "name",
    "idp_issuer",
    "idp_sso_url",
    "idp_slo_url",
    "default_redirect_url",
    "allow_idp_initiated",
    "jit_provisioning",
    "jit_role",
    "idp_kind",
    "signature_policy",
    "email_attribute",
    "first_name_attribute",
    "last_name_attribute",
    "groups_attribute",
    "status",
    "updated_at",
    "trust_revision",
    "max_session_minutes",
    "max_authn_age_minutes",
)
# Its SQL compiled once (sso/prepared.py). The organization's row is joined, not a query of its
# own: the sign-in sets the session's expiry from its maximum.
_SIGN_IN_ROW = PreparedRead(
    SSOProfile,
    lambda sid: SSOProfile.objects.filter(sid=sid),
    fields=_SIGN_IN_FIELDS,
    joined={"organization": ("max_session_minutes",)},
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
    profile = _SIGN_IN_ROW.one(sid)
    if profile is None:
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


def issuer_used_elsewhere(*, issuer: str, organization: Organization) -> bool:
    return SSOProfile.objects.filter(idp_issuer=issuer).exclude(organization=organization).exists()


@dataclass(frozen=True)
class ChecklistItem:
    label: str
    state: str  # "done", "todo" or "failed"
    url: str
    note: str = ""


@dataclass(frozen=True)
class ProfileSetup:
    """Where a profile stands, read from rows already loaded with it (its domains and
    certificates prefetched): no query of its own."""

    idp_name: str
    domains_total: int
    domains_verified: int
    refusing_now: bool
    items: list[ChecklistItem]

    @property
    def routes_nobody(self) -> bool:
        return self.domains_verified == 0


def profile_idp_name(*, profile: SSOProfile) -> str:
    """The IdP as the admin knows it: its kind ("Okta"), or the profile's name for Other."""
    return profile.name if profile.idp_kind == IdPKind.OTHER else IdPKind(profile.idp_kind).label


def profile_setup(*, profile: SSOProfile) -> ProfileSetup:
    """The setup checklist: SP values given, IdP metadata saved, test passed, a domain
    verified, active; each with its state and where it is done."""
    domains = list(profile.domains.all())
    verified = sum(1 for domain in domains if domain.is_verified)
    idp_name = profile_idp_name(profile=profile)
    tested = profile.last_test_outcome == TestOutcome.SUCCESS
    failed = profile.last_test_outcome == TestOutcome.FAILURE
    active = profile.status == ProfileStatus.ACTIVE
    configured = profile.is_configured and bool(profile.certificates.all())
    sid = profile.sid
    items = [
        # We know the IdP holds our values once it has answered our ACS.
        ChecklistItem(
            f"Give {idp_name} our SP values (Entity ID, ACS URL)",
            "done" if profile.last_tested_at else "todo",
            reverse("sso:wizard_sp_metadata", args=[sid]),
        ),
        ChecklistItem(
            f"Save {idp_name}'s metadata (Issuer, SSO URL, certificate)",
            "done" if configured else "todo",
            reverse("sso:wizard_idp_metadata", args=[sid]),
        ),
        ChecklistItem(
            "Pass a connection test",
            "done" if tested else "failed" if failed else "todo",
            reverse("sso:wizard_test", args=[sid]),
            note="The last test failed." if failed else "",
        ),
        ChecklistItem(
            "Verify a trusted domain",
            "done" if verified else "todo",
            reverse("sso:admin_domains"),
            note=f"{verified} of {len(domains)} domains verified",
        ),
        ChecklistItem(
            "Turn the profile on",
            "done" if active else "todo",
            reverse("sso:wizard_test", args=[sid]),
        ),
    ]
    return ProfileSetup(
        idp_name=idp_name,
        domains_total=len(domains),
        domains_verified=verified,
        refusing_now=active and failed,
        items=items,
    )


def profile_sso_only_people(*, profile: SSOProfile) -> int:
    """How many members cannot sign in once this profile stops: their account has no usable
    password and their last sign-in went through this profile."""
    return Membership.objects.filter(
        organization_id=profile.organization_id,
        last_sign_in_profile=profile,
        last_sign_in_method=SignInMethod.SSO,
        user__password__startswith=UNUSABLE_PASSWORD_PREFIX,
    ).count()
