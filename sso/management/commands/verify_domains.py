"""Re-check every trusted domain's proof of ownership now; the job engine runs it hourly
(sso/tasks.py), under the same lease."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from sso.domains.services import domains_recheck
from sso.jobs.services import job_run


class Command(BaseCommand):
    help = "Re-check the DNS/HTTPS proof of every trusted domain."

    def handle(self, *args: Any, **options: Any) -> None:
        outcome = job_run(name="domains_recheck", work=domains_recheck)
        if not outcome.ran:
            self.stdout.write("The domain re-check is running elsewhere; nothing done.")
            return
        counts = outcome.result
        self.stdout.write(
            f"Checked domains: {counts['found']} with proof, {counts['missing']} without, "
            f"{counts['unknown']} could not be checked."
        )
