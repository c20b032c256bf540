"""`make run`: Django's development server with the job engine running inside it."""

from __future__ import annotations

from typing import Any

from django.contrib.staticfiles.management.commands.runserver import Command as RunserverCommand

from sso.jobs.engine import jobs_start_in_process


class Command(RunserverCommand):
    help = "Run the development server and, in the same process, the periodic jobs."

    def inner_run(self, *args: Any, **options: Any) -> None:
        # inner_run is the serving process (the autoreloader's child, or the only process with
        # --noreload): one consumer per server, restarted with it on every reload.
        jobs_start_in_process()
        super().inner_run(*args, **options)
