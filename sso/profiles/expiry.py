"""Certificate expiry: the notices owners and admins get at 60, 30, 7 and 1 days before an IdP
signing certificate, a profile's SP certificate or the next SP certificate of a rollover under
way expires, and the SSO page's warnings."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst

from sso.models import (
    ExpiryItem,
    ExpiryNotice,
    IdPCertificate,
    Membership,
    ProfileStatus,
    Role,
    SSOProfile,
)

logger = logging.getLogger(__name__)

BANNER_DAYS = 30
# Profiles whose certificates matter: a draft has no IdP yet, a disabled one signs nobody in.
WATCHED = (ProfileStatus.CONFIGURED, ProfileStatus.TESTED, ProfileStatus.ACTIVE)

WHAT_TO_DO = {
    "idp": (
        "Create the next signing certificate in your identity provider, then add it to this "
        "profile in step 4 of the SSO setup (the profile trusts two certificates at once, so "
        "sign-in keeps working while the IdP switches). Once the IdP signs with the new one, "
        "remove the old certificate there:\n{link}"
    ),
    "sp": (
        "Our SP certificate signs the sign-in requests sent to your identity provider. Replace "
        "it in step 1 of the SSO setup (Create the next SP certificate): our SP metadata "
        "publishes the next one beside it, and it signs once the overlap ends. If a rollover is "
        "already under way and your IdP trusts the next certificate, switch to it there now:"
        "\n{link}"
    ),
    "sp_next": (
        "This is the next SP certificate of the rollover under way, published in our SP "
        "metadata to sign once the overlap ends. Switch to it in step 1 of the SSO setup, then "
        "create another next SP certificate there, so that a fresh one is published in time:"
        "\n{link}"
    ),
}


@dataclass(frozen=True)
class ExpiringCertificate:
    profile: SSOProfile
    item: ExpiryItem
    fingerprint_sha256: str
    not_after: dt.datetime
    now: dt.datetime
    # The SP item covers both keys of a rollover: one certificate keeps its notices (item and
    # fingerprint) when the finish makes the next one the current one.
    next_key: bool = False

    @property
    def kind(self) -> str:
        """idp, sp, or sp_next: what the notice says to do."""
        return "sp_next" if self.next_key else str(self.item)

    @property
    def label(self) -> str:
        return "next SP certificate" if self.next_key else str(self.item.label)

    @property
    def days_left(self) -> int:
        return max((self.not_after - self.now).days, 0)

    @property
    def fix_url(self) -> str:
        step = (
            "sso:wizard_idp_metadata"
            if self.item == ExpiryItem.IDP_CERTIFICATE
            else "sso:wizard_sp_metadata"
        )
        return reverse(step, args=[self.profile.sid])


def _sp_certificates(profile: SSOProfile, *, now: dt.datetime) -> list[ExpiringCertificate]:
    """The current SP certificate, and the next one while a rollover is under way."""
    keys = [(profile.sp_certificate_pem, False)]
    if profile.sp_next_certificate_pem:
        keys.append((profile.sp_next_certificate_pem, True))
    found = []
    for pem, next_key in keys:
        try:
            certificate = x509.load_pem_x509_certificate(pem.encode())
        except ValueError:
            logger.exception("sp_certificate_unreadable profile=%s next=%s", profile.sid, next_key)
            continue
        found.append(
            ExpiringCertificate(
                profile=profile,
                item=ExpiryItem.SP_CERTIFICATE,
                fingerprint_sha256=certificate.fingerprint(hashes.SHA256()).hex(":").upper(),
                not_after=certificate.not_valid_after_utc,
                now=now,
                next_key=next_key,
            )
        )
    return found


def _idp_certificates(
    profile: SSOProfile, *, now: dt.datetime, within: dt.datetime
) -> list[ExpiringCertificate]:
    certificates: list[IdPCertificate] = list(profile.certificates.all())
    # A certificate with a successor valid past the window is a rotation already under way.
    if any(certificate.not_after > within for certificate in certificates):
        return []
    return [
        ExpiringCertificate(
            profile=profile,
            item=ExpiryItem.IDP_CERTIFICATE,
            fingerprint_sha256=certificate.fingerprint_sha256,
            not_after=certificate.not_after,
            now=now,
        )
        for certificate in certificates
    ]


def certificates_expiring(
    *, profiles: Iterable[SSOProfile], now: dt.datetime, within_days: int
) -> list[ExpiringCertificate]:
    """The not yet expired IdP and SP certificates (the next SP one included) of profiles that
    expire within the days."""
    within = now + dt.timedelta(days=within_days)
    found = []
    for profile in profiles:
        candidates = [
            *_idp_certificates(profile, now=now, within=within),
            *_sp_certificates(profile, now=now),
        ]
        found += [c for c in candidates if now < c.not_after <= within]
    return sorted(found, key=lambda c: c.not_after)


def certificate_expiry_warnings(
    *, profiles: Iterable[SSOProfile], now: dt.datetime | None = None
) -> list[ExpiringCertificate]:
    """What the SSO page warns about: certificates of watched profiles expiring within 30 days."""
    watched = [profile for profile in profiles if profile.status in WATCHED]
    return certificates_expiring(
        profiles=watched, now=now or timezone.now(), within_days=BANNER_DAYS
    )


def _recipients(profile: SSOProfile) -> list[str]:
    return sorted(
        Membership.objects.filter(
            organization_id=profile.organization_id,
            role__in=(Role.OWNER, Role.ADMIN),
            user__is_active=True,
        )
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )


def _message(expiring: ExpiringCertificate, *, to: str) -> EmailMessage:
    profile = expiring.profile
    days = expiring.days_left
    when = "in less than a day" if days == 0 else f"in {days} day{'s' if days != 1 else ''}"
    what = expiring.label
    link = settings.SSO_PUBLIC_BASE_URL + expiring.fix_url
    return EmailMessage(
        subject=f"{capfirst(what)} of SSO profile {profile.name} expires {when}",
        body=(
            f"The {what} of the SSO profile {profile.name} ({profile.organization.name}) "
            f"expires on {expiring.not_after:%Y-%m-%d %H:%M} UTC ({when}). After that, "
            "people cannot sign in through it.\n\n"
            "Certificate SHA-256 fingerprint: "
            f"{expiring.fingerprint_sha256}\n\n" + WHAT_TO_DO[expiring.kind].format(link=link)
        ),
        to=[to],
    )


def certificate_expiry_notify(*, now: dt.datetime) -> dict[str, int]:
    """Email each organization's owners and admins once per certificate and threshold crossed
    (settings.SSO_EXPIRY_NOTICE_DAYS). Only the nearest threshold is sent: a certificate added
    7 days before expiry gets the 7-day notice, not three at once.

    The ExpiryNotice row is inserted in the transaction that sends: a concurrent worker waits on
    it and then finds it; a send that fails rolls it back, so the next run sends again."""
    thresholds = sorted(settings.SSO_EXPIRY_NOTICE_DAYS)
    profiles = SSOProfile.objects.filter(status__in=WATCHED).select_related("organization")
    counts = {"sent": 0, "already_sent": 0, "emails": 0}
    for expiring in certificates_expiring(
        profiles=profiles.prefetch_related("certificates"), now=now, within_days=thresholds[-1]
    ):
        left = expiring.not_after - now
        threshold = next(days for days in thresholds if left <= dt.timedelta(days=days))
        recipients = _recipients(expiring.profile)
        try:
            with transaction.atomic():
                ExpiryNotice.objects.create(
                    profile=expiring.profile,
                    item=expiring.item,
                    fingerprint_sha256=expiring.fingerprint_sha256,
                    threshold_days=threshold,
                    not_after=expiring.not_after,
                    recipients=len(recipients),
                    sent_at=now,
                )
                messages = [_message(expiring, to=to) for to in recipients]
                counts["emails"] += get_connection().send_messages(messages) or 0
        except IntegrityError:
            counts["already_sent"] += 1
            continue
        counts["sent"] += 1
        logger.info(
            "expiry_notice_sent profile=%s item=%s threshold_days=%s recipients=%s",
            expiring.profile.sid,
            expiring.item,
            threshold,
            len(recipients),
        )
    return counts
