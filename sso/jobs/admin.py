"""The jobs in the Django admin: what support looks at when a periodic job stops working."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils import timezone

from sso.models import ExpiryNotice, JobRun


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "state",
        "last_started_at",
        "last_succeeded_at",
        "last_failed_at",
        "runs",
        "skipped",
        "lease_until",
    ]
    fields = [
        "name",
        "state",
        "last_started_at",
        "last_succeeded_at",
        "last_result",
        "last_failed_at",
        "last_error",
        "runs",
        "skipped",
        "lease_owner",
        "lease_until",
    ]
    readonly_fields = fields

    @admin.display(description="State")
    def state(self, obj: JobRun) -> str:
        if obj.lease_until and obj.lease_until > timezone.now():
            return f"Running on {obj.lease_owner}"
        if obj.last_failed_at and (
            obj.last_succeeded_at is None or obj.last_failed_at > obj.last_succeeded_at
        ):
            return "Failing"
        if obj.lease_until:
            return "Lease expired (its worker died); the next run takes it over"
        return "OK" if obj.last_succeeded_at else "Never ran"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(ExpiryNotice)
class ExpiryNoticeAdmin(JobRunAdmin):
    list_display = ["sent_at", "profile", "item", "threshold_days", "not_after", "recipients"]
    list_filter = ["item", "threshold_days"]
    fields = [*list_display, "fingerprint_sha256"]
    readonly_fields = fields
    list_select_related = ["profile"]
