"""Periodic jobs run under a lease: one worker at a time, a dead worker's lease taken over,
every outcome recorded for support."""

from __future__ import annotations

import datetime as dt
import threading
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from sso.jobs.services import job_run
from sso.models import JobRun

MINUTES = dt.timedelta(minutes=10)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="the test database is SQLite in memory, whose shared-cache table locks refuse a "
    "second writer at once instead of waiting as a file database does; PostgreSQL (the "
    "several-machine setup, make test's second pass) races the two workers for real",
)
def test_job_run_twice_at_once_runs_once():
    """Two workers handed the same periodic job at the same moment: exactly one runs it."""
    start = threading.Barrier(2)
    effects: list[str] = []
    outcomes: list[bool] = []

    def worker(owner: str) -> None:
        def work() -> dict[str, int]:
            effects.append(owner)
            threading.Event().wait(0.5)  # still running when the other worker looks
            return {"done": 1}

        try:
            start.wait()
            outcomes.append(job_run(name="race", work=work, owner=owner, lease=MINUTES).ran)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(effects) == 1
    assert sorted(outcomes) == [False, True]
    row = JobRun.objects.get(name="race")
    assert (row.runs, row.skipped, row.lease_owner, row.lease_until) == (1, 1, "", None)
    assert row.last_result == {"done": 1}


@pytest.mark.django_db
def test_job_run_takes_over_the_expired_lease_of_a_dead_worker():
    JobRun.objects.create(
        name="prune",
        lease_owner="dead-host:42",
        lease_until=timezone.now() - dt.timedelta(seconds=1),
    )

    outcome = job_run(name="prune", work=lambda: {"n": 3}, owner="alive")

    assert outcome.ran
    row = JobRun.objects.get(name="prune")
    assert row.last_succeeded_at is not None and row.lease_until is None


@pytest.mark.django_db
def test_job_run_skips_while_a_live_worker_holds_the_lease():
    JobRun.objects.create(name="prune", lease_owner="busy", lease_until=timezone.now() + MINUTES)
    ran = []

    outcome = job_run(name="prune", work=lambda: ran.append(1) or {}, owner="second")

    assert not outcome.ran and ran == []
    assert JobRun.objects.get(name="prune").skipped == 1


@pytest.mark.django_db
def test_job_run_failure_is_recorded_and_the_lease_released():
    def broken() -> dict[str, int]:
        raise LookupError("no such resolver")

    with pytest.raises(LookupError):
        job_run(name="domains_recheck", work=broken)

    row = JobRun.objects.get(name="domains_recheck")
    assert row.last_error == "LookupError: no such resolver"
    assert row.last_failed_at is not None and row.last_succeeded_at is None
    assert row.lease_until is None
    assert job_run(name="domains_recheck", work=lambda: {}).ran  # the next run is not blocked


@pytest.mark.django_db(transaction=True)
def test_job_run_renews_its_lease_while_the_job_runs():
    """A job longer than its lease keeps it: the lease is renewed, nobody else takes it."""
    lease = dt.timedelta(seconds=0.6)
    seen: list[bool] = []

    def long_work() -> dict[str, int]:
        threading.Event().wait(1.5)
        seen.append(job_run(name="long", work=lambda: {}, owner="intruder", lease=lease).ran)
        return {}

    assert job_run(name="long", work=long_work, owner="holder", lease=lease).ran
    assert seen == [False]


@pytest.mark.django_db
def test_prune_command_records_its_run_on_the_prune_job():
    call_command("prune", stdout=StringIO())

    assert JobRun.objects.get(name="prune").last_succeeded_at is not None
