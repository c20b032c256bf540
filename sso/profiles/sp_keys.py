"""SP key rollover: the next signing key of a profile, published beside the current one for an
overlap, then signing AuthnRequests while the old one is withdrawn.

While a rollover is under way our SP metadata lists both certificates, so that an IdP reading
it (or an admin copying from step 1) trusts the next one before it signs anything; the current
key keeps signing until the finish, which swaps the keys in one write. Both private keys stay
encrypted at rest (sso/crypto.py).
"""

from __future__ import annotations

import datetime as dt
import logging

from django.core.exceptions import ValidationError
from django.db import transaction

from sso.crypto import certificate_body, fingerprint_of, generate_sp_key_pair
from sso.errors import refusal
from sso.events import audit_record
from sso.models import AuditAction, SSOProfile, User

logger = logging.getLogger(__name__)

ROLLOVER_OVERLAP_DAYS = 30
# Written here only, under the row's lock: a save elsewhere of a profile read before a start or
# finish would write the old keys back (profile_fields_but_sp_keys).
_NEXT_KEY_FIELDS = (
    "sp_next_certificate_pem",
    "sp_next_private_key_encrypted",
    "sp_rollover_ends_at",
)
SP_KEY_FIELDS = ("sp_certificate_pem", "sp_private_key_encrypted", *_NEXT_KEY_FIELDS)
_STAMP = ("updated_by", "updated_at")


def profile_fields_but_sp_keys() -> list[str]:
    """The update_fields of a profile save outside this module: every field but the keys."""
    return [
        field.name
        for field in SSOProfile._meta.concrete_fields
        if not field.primary_key and field.name not in SP_KEY_FIELDS
    ]


def _fingerprint(pem: str) -> str:
    return fingerprint_of(certificate_body(pem))


def profile_sp_key_rollover_start(
    *,
    profile: SSOProfile,
    actor: User | None,
    overlap_days: int = ROLLOVER_OVERLAP_DAYS,
    now: dt.datetime | None = None,
) -> SSOProfile:
    """Create the next SP key pair, published beside the current one for `overlap_days`.

    Refused while a rollover is under way (finish it first). Audited.
    """
    if not 1 <= overlap_days <= 365:
        raise refusal("sp_key_overlap_range")
    now = now or dt.datetime.now(dt.UTC)
    key_pair = generate_sp_key_pair(f"{profile.organization.slug} SSO")
    with transaction.atomic():
        locked = (
            SSOProfile.objects.select_for_update().only("sp_rollover_ends_at").get(pk=profile.pk)
        )
        if locked.sp_rollover_ends_at is not None:
            raise refusal("sp_key_rollover_under_way")
        profile.refresh_from_db(fields=SP_KEY_FIELDS)  # the current key may have changed
        profile.sp_next_certificate_pem = key_pair.certificate_pem
        profile.sp_next_private_key_encrypted = key_pair.private_key_encrypted
        profile.sp_rollover_ends_at = now + dt.timedelta(days=overlap_days)
        profile.updated_by = actor
        profile.save(update_fields=_NEXT_KEY_FIELDS + _STAMP)
        audit_record(
            organization=profile.organization,
            profile=profile,
            actor=actor,
            action=AuditAction.SP_KEY_ROLLOVER_STARTED,
            changes={
                "current_certificate": _fingerprint(profile.sp_certificate_pem),
                "next_certificate": _fingerprint(key_pair.certificate_pem),
                "overlap_ends_at": profile.sp_rollover_ends_at.isoformat(),
            },
        )
    return profile


def profile_sp_key_rollover_finish(*, profile: SSOProfile, actor: User | None) -> SSOProfile:
    """The next key becomes the one that signs AuthnRequests; the old one is withdrawn from our
    metadata and its private key deleted. Refused when no rollover is under way. Audited."""
    with transaction.atomic():
        locked = (
            SSOProfile.objects.select_for_update().only("sp_rollover_ends_at").get(pk=profile.pk)
        )
        if locked.sp_rollover_ends_at is None:
            raise refusal("sp_key_no_rollover")
        profile.refresh_from_db(fields=SP_KEY_FIELDS)
        withdrawn = _fingerprint(profile.sp_certificate_pem)
        profile.sp_certificate_pem = profile.sp_next_certificate_pem
        profile.sp_private_key_encrypted = profile.sp_next_private_key_encrypted
        profile.sp_next_certificate_pem = ""
        profile.sp_next_private_key_encrypted = ""
        profile.sp_rollover_ends_at = None
        profile.updated_by = actor
        profile.save(update_fields=SP_KEY_FIELDS + _STAMP)
        audit_record(
            organization=profile.organization,
            profile=profile,
            actor=actor,
            action=AuditAction.SP_KEY_ROLLOVER_FINISHED,
            changes={
                "withdrawn_certificate": withdrawn,
                "current_certificate": _fingerprint(profile.sp_certificate_pem),
            },
        )
    logger.info("SP key rollover finished for profile %s", profile.sid)
    return profile


def sp_keys_rollover_due(*, now: dt.datetime) -> int:
    """Finish every rollover whose overlap has ended (for the job engine); returns how many.

    Safe to run on several workers at once: each finish locks its row and re-checks it.
    """
    finished = 0
    due = SSOProfile.objects.filter(sp_rollover_ends_at__lte=now).select_related("organization")
    for profile in due:
        try:
            profile_sp_key_rollover_finish(profile=profile, actor=None)
        except ValidationError as error:
            if error.code != "sp_key_no_rollover":  # another worker finished it first
                raise
        else:
            finished += 1
    return finished
