"""Admin Center: the audit log, filtered, and its CSV export."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache

from sso.events import audit_actor_label, audit_change_rows, audit_events_for
from sso.forms import AuditFilterForm
from sso.models import AuditEvent
from sso.views.access import OrganizationAdminMixin

PAGE_SIZE = 50
# A cell a spreadsheet would run as a formula (CSV injection) starts with one of these.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class AuditLogMixin(OrganizationAdminMixin):
    nav = "audit"

    def filtered(self) -> tuple[AuditFilterForm, Any]:
        filters = AuditFilterForm(self.request.GET or None)
        values = filters.cleaned_data if filters.is_valid() else {}
        events = audit_events_for(
            organization=self.organization,
            action=values.get("action", ""),
            actor_email=values.get("actor", ""),
            since=values.get("since"),
            until=values.get("until"),
        )
        return filters, events


@method_decorator(never_cache, name="dispatch")
class AuditLogView(AuditLogMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        filters, events = self.filtered()
        page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
        query = request.GET.copy()
        query.pop("page", None)
        rows = [
            (event, audit_actor_label(event=event), audit_change_rows(event=event))
            for event in page
        ]
        context = self.admin_context(
            page=page, rows=rows, filters=filters, query=query.urlencode()
        )
        return render(request, "sso/admin_center/audit_log.html", context)


class _Echo:
    def write(self, value: str) -> str:
        return value


def _cell(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _csv_rows(events: Any) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(["time_utc", "who", "action", "profile", "profile_id", "changes"])
    event: AuditEvent
    for event in events.iterator(chunk_size=500):
        changes = "; ".join(f"{field}: {text}" for field, text in audit_change_rows(event=event))
        row = [
            event.created_at.isoformat(),
            audit_actor_label(event=event),
            event.get_action_display(),
            event.profile.name if event.profile else "",
            event.profile_sid,
            changes,
        ]
        yield writer.writerow([_cell(str(value)) for value in row])


@method_decorator(never_cache, name="dispatch")
class AuditLogExportView(AuditLogMixin, View):
    """The filtered audit log as CSV, streamed. Audit events hold no secrets by design."""

    def get(self, request: HttpRequest) -> StreamingHttpResponse:
        _, events = self.filtered()
        response = StreamingHttpResponse(_csv_rows(events), content_type="text/csv")
        filename = f"audit-log-{self.organization.slug}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
