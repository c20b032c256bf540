"""Periodic jobs run under a lease: a row per job, taken with one conditional UPDATE, renewed
while the job runs and released at its end, so that however many workers and schedulers the
engine has, one runs a job at a time, and a worker that dies leaves a lease that expires."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module

from django.conf import settings
from django.db import connection
from django.db.models import F, Q
from django.utils import timezone

from sso.events import login_events_prune
from sso.login.services import used_assertions_prune
from sso.models import JobRun
from sso.organizations.services import invitations_prune

logger = logging.getLogger(__name__)

Work = Callable[[], dict[str, int]]


@dataclass(frozen=True)
class JobOutcome:
    ran: bool
    result: dict[str, int] = field(default_factory=dict)


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}:{secrets.token_hex(4)}"


def job_lease_take(*, name: str, owner: str, lease: dt.timedelta) -> bool:
    """Take the job's lease if nobody holds it or its holder let it expire; True if taken."""
    now = timezone.now()
    JobRun.objects.bulk_create([JobRun(name=name)], ignore_conflicts=True)
    # One statement: PostgreSQL re-reads a row another transaction just leased and no longer
    # matches it; SQLite runs writes one at a time. Either way exactly one taker wins.
    taken = JobRun.objects.filter(
        Q(lease_until__isnull=True) | Q(lease_until__lt=now), name=name
    ).update(lease_owner=owner, lease_until=now + lease, last_started_at=now, runs=F("runs") + 1)
    if not taken:
        JobRun.objects.filter(name=name).update(skipped=F("skipped") + 1)
    return bool(taken)


def job_lease_renew(*, name: str, owner: str, lease: dt.timedelta) -> bool:
    """Push the lease on while its owner still holds it; False once another worker took it."""
    return bool(
        JobRun.objects.filter(name=name, lease_owner=owner).update(
            lease_until=timezone.now() + lease
        )
    )


def _renew_until(stop: threading.Event, name: str, owner: str, lease: dt.timedelta) -> None:
    try:
        while not stop.wait(lease.total_seconds() / 3):
            if not job_lease_renew(name=name, owner=owner, lease=lease):
                logger.warning("job_lease_lost name=%s owner=%s", name, owner)
                return
    finally:
        connection.close()


def _job_finish(*, name: str, owner: str, result: dict[str, int] | None, error: str) -> None:
    now = timezone.now()
    recorded = (
        {"last_succeeded_at": now, "last_result": result}
        if result is not None
        else {"last_failed_at": now, "last_error": error}
    )
    released = JobRun.objects.filter(name=name, lease_owner=owner).update(
        lease_owner="", lease_until=None, **recorded
    )
    if not released:
        # Another worker took the job over while this one ran: record, but leave its lease.
        JobRun.objects.filter(name=name).update(**recorded)


def job_run(
    *, name: str, work: Work, lease: dt.timedelta | None = None, owner: str | None = None
) -> JobOutcome:
    """Run work under the job's lease, or skip it (counted) when another worker holds it.
    The outcome is recorded on the job's row: last start, last success and result, last error.
    An exception from work is recorded and raised again."""
    lease = lease or dt.timedelta(seconds=settings.SSO_JOBS_LEASE_SECONDS)
    owner = owner or _owner()
    if not job_lease_take(name=name, owner=owner, lease=lease):
        logger.info("job_skipped name=%s reason=lease_held", name)
        return JobOutcome(ran=False)
    stop = threading.Event()
    renewer = threading.Thread(
        target=_renew_until, args=(stop, name, owner, lease), name=f"lease-{name}", daemon=True
    )
    renewer.start()
    try:
        result = work()
    except Exception as exc:
        # The job's last-resort boundary: support sees the failure on the job's row.
        logger.exception("job_failed name=%s", name)
        stop.set()
        renewer.join()
        error = f"{type(exc).__name__}: {exc}"[:2000]
        _job_finish(name=name, owner=owner, result=None, error=error)
        raise
    stop.set()
    renewer.join()
    _job_finish(name=name, owner=owner, result=result, error="")
    logger.info("job_succeeded name=%s result=%s", name, result)
    return JobOutcome(ran=True, result=result)


def job_prune(*, now: dt.datetime) -> dict[str, int]:
    """Delete what retention no longer keeps: old login events and never-accepted invitations,
    expired used assertion ids, expired sessions."""
    counts = {
        "login_events": login_events_prune(now=now),
        "invitations": invitations_prune(now=now),
        "used_assertions": used_assertions_prune(now=now),
    }
    # What `clearsessions` does; a cache-backed store expires its own sessions.
    engine = import_module(settings.SESSION_ENGINE)
    with contextlib.suppress(NotImplementedError):
        engine.SessionStore.clear_expired()
    return counts
