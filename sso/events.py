"""Audit and login events: recorded and read."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from sso.infrastructure import DATABASE_ERRORS
from sso.models import (
    AuditAction,
    AuditEvent,
    LoginEvent,
    LoginOutcome,
    Organization,
    SSOProfile,
    User,
)
from sso.prepared import PreparedInsert

logger = logging.getLogger(__name__)

UNRECORDED_MARKER = "login_event_unrecorded"
# A connection test's event detail key for the decoded response; a real login never has it.
TEST_RESPONSE_XML = "response_xml"


def audit_record(
    *,
    organization: Organization | None,
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


# Every login attempt records one: its INSERT compiled once (sso/prepared.py).
_LOGIN_EVENT = PreparedInsert(LoginEvent)


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
    fields = {
        "organization_id": profile.organization_id if profile else None,
        "profile": profile,
        "profile_sid": profile.sid if profile else "",
        "user": user,
        "outcome": outcome,
        "reason": reason,
        "email": email[:254],
        "idp_issuer": idp_issuer[:1024],
        "assertion_id": assertion_id[:256],
        "in_response_to": in_response_to[:256],
        "client_ip": client_ip,
        "is_test": is_test,
        "detail": detail or {},
    }
    try:
        return _LOGIN_EVENT.create(**fields)
    except DATABASE_ERRORS:
        # The attempt must not vanish: one line with what the event would have held (never
        # the assertion, and no detail, which may quote attribute values), then the 503.
        unrecorded = {
            "at": timezone.now().isoformat(),
            "profile_sid": fields["profile_sid"],
            "outcome": str(outcome),
            "reason": str(reason),
            "user_id": user.pk if user else None,
            "email": fields["email"],
            "idp_issuer": fields["idp_issuer"],
            "assertion_id": fields["assertion_id"],
            "in_response_to": fields["in_response_to"],
            "client_ip": client_ip,
            "is_test": is_test,
        }
        logger.error(
            "%s %s",
            UNRECORDED_MARKER,
            json.dumps(unrecorded, sort_keys=True),
            extra={"marker": UNRECORDED_MARKER, "login_event": unrecorded},
        )
        raise


def audit_events_for(
    *,
    organization: Organization,
    action: str = "",
    actor_email: str = "",
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> QuerySet[AuditEvent]:
    """The organization's audit log, newest first, filtered by action, actor and UTC days."""
    events = organization.audit_events.select_related("actor", "profile")
    if action:
        events = events.filter(action=action)
    if actor_email:
        events = events.filter(actor__in=User.objects.with_email(actor_email))
    return _within_days(events, since, until)


def audit_value_text(*, value: Any) -> str:
    """A recorded value as a person reads it: no Python reprs, lists joined."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(audit_value_text(value=item) for item in value)
    if isinstance(value, dict):
        return "; ".join(f"{key}: {audit_value_text(value=item)}" for key, item in value.items())
    return str(value)


# Changes recorded as a plain list of items; every other two-item list is [before, after].
_LIST_CHANGES = frozenset({"certificates_added", "domains_marked_verified", "fields"})


def audit_change_rows(*, event: AuditEvent) -> list[tuple[str, str]]:
    """Each change as (field, "old → new"), or (field, value) for what is not a change."""
    rows = []
    for field, value in event.changes.items():
        if isinstance(value, list) and len(value) == 2 and field not in _LIST_CHANGES:
            old, new = (audit_value_text(value=item) for item in value)
            rows.append((field.replace("_", " "), f"{old} → {new}"))
        else:
            rows.append((field.replace("_", " "), audit_value_text(value=value)))
    return rows


def audit_actor_label(*, event: AuditEvent) -> str:
    if event.action == AuditAction.STAFF_CHANGE:
        return f"Support staff ({event.actor.email})" if event.actor else "Support staff"
    return event.actor.email if event.actor else "System"


def login_events_for(*, profile: SSOProfile) -> QuerySet[LoginEvent]:
    return LoginEvent.objects.filter(profile=profile, organization=profile.organization)


_REFERENCE = re.compile(r"[A-Z2-7]{4}-?[A-Z2-7]{4}-?[A-Z2-7]{4}-?[A-Z2-7]{4}")


def support_reference_normalize(*, text: str) -> str:
    """The reference as stored (XXXX-XXXX-XXXX-XXXX) when `text` is one, read out in any
    case, with or without dashes; otherwise ""."""
    letters = text.strip().upper()
    if not _REFERENCE.fullmatch(letters):
        return ""
    letters = letters.replace("-", "")
    return "-".join(letters[i : i + 4] for i in range(0, 16, 4))


def login_events_search(
    *,
    profile: SSOProfile,
    query: str = "",
    outcome: str = "",
    reason: str = "",
    email: str = "",
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> QuerySet[LoginEvent]:
    """A profile's login events, newest first. `query` is a support reference (exact) or an
    email; every filter is an exact match on an index (reference, upper(email), reason)."""
    events = login_events_for(profile=profile)
    if query:
        reference = support_reference_normalize(text=query)
        events = (
            events.filter(reference=reference)
            if reference
            else events.filter(email__iexact=query.strip())
        )
    if outcome:
        events = events.filter(outcome=outcome)
    if reason:
        events = events.filter(reason=reason)
    if email:
        events = events.filter(email__iexact=email.strip())
    return _within_days(events, since, until)


def login_event_for_reference(*, organization: Organization, reference: str) -> LoginEvent | None:
    """The organization's event with this support reference, if it has one."""
    normalized = support_reference_normalize(text=reference)
    if not normalized:
        return None
    return (
        LoginEvent.objects.filter(reference=normalized, organization=organization)
        .exclude(profile=None)
        .select_related("profile")
        .first()
    )


def _within_days(events: QuerySet, since: dt.date | None, until: dt.date | None) -> QuerySet:
    """Events of UTC days `since` to `until`, both included: a range on created_at itself,
    so that its index serves (a __date lookup would compute a date for every row)."""
    if since:
        events = events.filter(created_at__gte=dt.datetime.combine(since, dt.time(), dt.UTC))
    if until:
        end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), dt.UTC)
        events = events.filter(created_at__lt=end)
    return events


def login_event_response_xml(*, event: LoginEvent) -> str:
    """The decoded SAML response a connection test kept; "" for any other event."""
    if not event.is_test:
        return ""
    return str(event.detail.get(TEST_RESPONSE_XML) or "")


def connection_test_last(*, profile: SSOProfile) -> LoginEvent | None:
    return login_events_for(profile=profile).filter(is_test=True).first()


def login_events_prune(*, now: dt.datetime, batch_size: int = 5_000) -> int:
    """Delete login events older than SSO_LOGIN_EVENT_RETENTION_DAYS; return how many.

    In batches, each its own short statement, so that sign-ins writing events never wait long.
    """
    cutoff = now - dt.timedelta(days=settings.SSO_LOGIN_EVENT_RETENTION_DAYS)
    old = LoginEvent.objects.filter(created_at__lt=cutoff).order_by()
    deleted = 0
    while batch := list(old.values_list("pk", flat=True)[:batch_size]):
        deleted += LoginEvent.objects.filter(pk__in=batch).delete()[0]
    return deleted
