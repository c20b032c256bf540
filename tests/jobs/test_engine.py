"""`make run`'s job engine: Huey's consumer inside the web process, on its SQLite queue, with
no other service."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.db import connection
from huey.contrib.djhuey import HUEY

from sso.jobs.engine import jobs_start_in_process, jobs_stop_in_process
from sso.models import JobRun
from sso.tasks import prune_job

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def consumer():
    HUEY.flush()
    consumer = jobs_start_in_process(workers=1)
    yield consumer
    jobs_stop_in_process(consumer=consumer)
    HUEY.flush()


def _succeeded(name: str, *, within: float = 20.0) -> JobRun | None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        row = JobRun.objects.filter(name=name, last_succeeded_at__isnull=False).first()
        if row:
            return row
        time.sleep(0.1)
    return None


def test_in_process_engine_runs_an_enqueued_job(consumer):
    assert HUEY.__class__.__name__ == "SqliteHuey" and not HUEY.immediate

    prune_job()

    row = _succeeded("prune")
    assert row is not None and row.runs == 1
    assert set(row.last_result) == {"login_events", "invitations", "used_assertions"}


def test_periodic_jobs_due_at_a_minute_are_enqueued_and_run_in_process(consumer):
    due = HUEY.read_periodic(dt.datetime(2030, 1, 1, 3, 17))  # what the scheduler does each minute
    assert [task.name for task in due] == ["prune_job"]
    for task in due:
        HUEY.enqueue(task)

    assert _succeeded("prune") is not None
    connection.close()


def test_due_metadata_refreshes_are_looked_for_every_ten_minutes_by_default():
    def due(minute: int) -> list[str]:
        return [task.name for task in HUEY.read_periodic(dt.datetime(2030, 1, 1, 4, minute))]

    assert [m for m in range(60) if "metadata_refresh_job" in due(m)] == list(range(0, 60, 10))
