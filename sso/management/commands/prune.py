"""The maintenance job (run it from cron, e.g. daily; docs/deploy.md): delete what retention
no longer keeps, so that the tables the pages read stay the size of the retention period."""

from __future__ import annotations

import contextlib
from importlib import import_module
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from sso.events import login_events_prune
from sso.login.services import used_assertions_prune
from sso.organizations.services import invitations_prune


class Command(BaseCommand):
    help = (
        "Delete login events and never-accepted invitations older than "
        "SSO_LOGIN_EVENT_RETENTION_DAYS, expired used assertion ids, and expired sessions."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        events = login_events_prune(now=now)
        invitations = invitations_prune(now=now)
        assertions = used_assertions_prune(now=now)
        # What `clearsessions` does; a cache-backed store expires its own sessions.
        engine = import_module(settings.SESSION_ENGINE)
        with contextlib.suppress(NotImplementedError):
            engine.SessionStore.clear_expired()
        self.stdout.write(
            f"Pruned {events} login event(s) and {invitations} invitation(s) older than "
            f"{settings.SSO_LOGIN_EVENT_RETENTION_DAYS} days, {assertions} expired used "
            "assertion id(s), and expired sessions."
        )
