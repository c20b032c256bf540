"""SSO profiles and their IdP certificates: reads."""

from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch, QuerySet, prefetch_related_objects
from django.utils import timezone

from sso.cache import LocalLRU
from sso.models import (
    IdPCertificate,
    LoginEvent,
    LoginOutcome,
    Organization,
    SSOProfile,
    TrustedDomain,
)


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
    "idp_kind",
    "signature_policy",
    "email_attribute",
    "first_name_attribute",
    "last_name_attribute",
    "groups_attribute",
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


def issuer_used_elsewhere(*, issuer: str, organization: Organization) -> bool:
    return SSOProfile.objects.filter(idp_issuer=issuer).exclude(organization=organization).exists()
