"""Re-check every trusted domain's proof of ownership (run it from cron, e.g. hourly)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from sso.domains.services import domains_recheck


class Command(BaseCommand):
    help = "Re-check the DNS/HTTPS proof of every trusted domain."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = domains_recheck()
        self.stdout.write(
            f"Checked domains: {counts['found']} with proof, {counts['missing']} without, "
            f"{counts['unknown']} could not be checked."
        )
