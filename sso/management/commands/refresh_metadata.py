"""Refresh the IdP metadata of every profile whose refresh is due (the job engine calls
`profiles_metadata_refresh`; this runs it by hand or from cron)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from sso.profiles.metadata_refresh import profiles_metadata_refresh


class Command(BaseCommand):
    help = "Refresh the IdP metadata of every SSO profile with a metadata URL that is due."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = profiles_metadata_refresh(now=timezone.now())
        self.stdout.write(
            f"IdP metadata: {counts['refreshed']} unchanged, {counts['changed']} changed, "
            f"{counts['failed']} failed."
        )
