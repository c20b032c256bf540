"""The maintenance job by hand: it runs daily on the job engine (sso/tasks.py); this command
runs it now, under the same lease."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from sso.jobs.services import job_prune, job_run


class Command(BaseCommand):
    help = (
        "Delete login events and never-accepted invitations older than "
        "SSO_LOGIN_EVENT_RETENTION_DAYS, expired used assertion ids, and expired sessions."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        outcome = job_run(name="prune", work=lambda: job_prune(now=timezone.now()))
        if not outcome.ran:
            self.stdout.write("The prune job is running elsewhere; nothing done.")
            return
        counts = outcome.result
        self.stdout.write(
            f"Pruned {counts['login_events']} login event(s) and {counts['invitations']} "
            f"invitation(s) older than {settings.SSO_LOGIN_EVENT_RETENTION_DAYS} days, "
            f"{counts['used_assertions']} expired used assertion id(s), and expired sessions."
        )
