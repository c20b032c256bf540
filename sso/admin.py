"""Django admin for support staff: look, search, filter; events are read-only.

Staff sign in under the same password policy as /login/, every staff change is audited, and
fields whose rules live in services (issuer, SSO URL, roles, status) are read-only here.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.admin.models import LogEntry
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import QuerySet
from django.forms import Form
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html

import sso.jobs.admin  # noqa: F401 (registers the job pages)
from sso.domains.services import domain_mark_verified
from sso.events import audit_record, support_reference_normalize
from sso.login.services import password_login
from sso.login.throttling import client_ip
from sso.models import (
    AuditAction,
    AuditEvent,
    IdPCertificate,
    LoginEvent,
    LoginOutcome,
    Membership,
    Organization,
    SSOProfile,
    SubjectLink,
    TrustedDomain,
    User,
)
from sso.profiles.diagnostics import fix_for
from sso.profiles.sp_keys import profile_fields_but_sp_keys
from sso.reasons import LoginRefused, Reason


class StaffAuthenticationForm(AdminAuthenticationForm):
    """The admin's sign-in: throttling and enforced SSO (break-glass owners aside) as at /login/."""

    def clean(self) -> dict[str, Any]:
        email = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if email is None or not password:
            return self.cleaned_data
        address = client_ip(self.request) if self.request else None
        try:
            self.user_cache = password_login(email=email, password=password, client_ip=address)
        except LoginRefused as refusal:
            raise ValidationError(refusal.user_message, code=refusal.reason.value) from None
        self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


admin.site.login_form = StaffAuthenticationForm

AuditScope = list[tuple[Organization | None, SSOProfile | None]]


class StaffAuditMixin:
    """Every add, change and deletion through this admin is also an AuditEvent (STAFF_CHANGE)
    with the staff member as actor, in the same transaction as the change."""

    def audit_scope(self, obj: Any, *, deleting: bool) -> AuditScope:
        """The organizations (and profile) whose audit log records a change to obj."""
        return [(obj.organization, None)]

    def construct_change_message(
        self, request: HttpRequest, form: Form, formsets: Any, add: bool = False
    ) -> Any:
        # log_addition and log_change receive only this message: the field names ride along.
        request.staff_changed_fields = sorted(form.changed_data)
        return super().construct_change_message(request, form, formsets, add)

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        self._audit(request, obj, "added", message)
        return super().log_addition(request, obj, message)

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        self._audit(request, obj, "changed", message)
        return super().log_change(request, obj, message)

    def log_deletions(self, request: HttpRequest, queryset: Iterable[Any]) -> Any:
        for obj in queryset:
            self._audit(request, obj, "deleted", [])
        return super().log_deletions(request, queryset)

    def _audit(self, request: HttpRequest, obj: Any, operation: str, message: Any) -> None:
        if isinstance(message, list):
            message = json.dumps(message, cls=DjangoJSONEncoder)
        changes = {
            "operation": operation,
            "model": obj._meta.label_lower,
            "object_id": str(obj.pk),
            "object": str(obj),
            # Names only, never values: a change may be a password.
            "fields": getattr(request, "staff_changed_fields", []),
            "summary": str(LogEntry(change_message=message).get_change_message()),
        }
        for organization, profile in self.audit_scope(obj, deleting=operation == "deleted"):
            audit_record(
                organization=organization,
                profile=profile,
                actor=request.user,
                action=AuditAction.STAFF_CHANGE,
                changes=changes,
            )


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class CappedCountPaginator(Paginator):
    """Counts at most `cap` rows (the page says "More than N"): a COUNT(*) over a million
    events costs more than the whole page. Filters and search narrow the list instead."""

    cap = 10_000

    @cached_property
    def count(self) -> int:
        return self.object_list[: self.cap + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > self.cap


class EventAdmin(ReadOnlyAdmin):
    """Events are evidence: nobody adds, edits or deletes them here (retention prunes them)."""

    show_full_result_count = False
    paginator = CappedCountPaginator

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(User)
class UserAdmin(StaffAuditMixin, BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_active", "is_staff", "date_joined"]
    list_filter = ["is_active", "is_staff", "memberships__role"]
    search_fields = ["email"]
    search_help_text = "An exact email address."
    show_full_result_count = False
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Name", {"fields": ["first_name", "last_name"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        # Through the case-insensitive unique index: any substring or prefix search over
        # 100,000 accounts reads all of them (bench/data_growth.py).
        if not search_term.strip():
            return queryset, False
        return queryset & User.objects.with_email(search_term), False

    def audit_scope(self, obj: User, *, deleting: bool) -> AuditScope:
        memberships = obj.memberships.select_related("organization")
        return [(m.organization, None) for m in memberships] or [(None, None)]


@admin.register(Organization)
class OrganizationAdmin(StaffAuditMixin, admin.ModelAdmin):
    list_display = ["name", "slug", "enforce_sso", "created_at"]
    search_fields = ["^name", "=slug", "=trusted_domains__domain"]
    list_filter = ["enforce_sso"]
    show_full_result_count = False
    # Members are a filtered, paginated list: an inline would render every one of them.
    readonly_fields = ["members"]

    @admin.display(description="Members")
    def members(self, obj: Organization) -> str:
        if obj.pk is None:
            return "-"
        url = reverse("admin:sso_membership_changelist")
        return format_html('<a href="{}?organization__id__exact={}">Members</a>', url, obj.pk)

    def audit_scope(self, obj: Organization, *, deleting: bool) -> AuditScope:
        # A deleted organization takes its own audit log with it.
        return [(None if deleting else obj, None)]


@admin.register(Membership)
class MembershipAdmin(StaffAuditMixin, admin.ModelAdmin):
    """Roles change in the Admin Center, where the owner rules live; here, look or remove."""

    list_display = ["user", "organization", "role", "break_glass", "last_sign_in_at"]
    list_filter = ["role", "break_glass"]
    search_fields = ["=user__email"]
    list_select_related = ["user", "organization"]
    show_full_result_count = False
    ordering = ["-pk"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class IdPCertificateInline(admin.TabularInline):
    model = IdPCertificate
    extra = 0
    fields = ["fingerprint_sha256", "subject", "not_before", "not_after"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class TrustedDomainInline(admin.TabularInline):
    model = TrustedDomain
    extra = 0
    fields = ["domain", "verification_state", "verified_at"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(SSOProfile)
class SSOProfileAdmin(StaffAuditMixin, admin.ModelAdmin):
    list_display = ["name", "sid", "organization", "idp_kind", "status", "last_test_outcome"]
    list_filter = ["status", "idp_kind", "last_test_outcome"]
    search_fields = [
        "=sid",
        "^name",
        "=idp_issuer",
        "^organization__name",
        "=organization__slug",
        "=domains__domain",
    ]
    list_select_related = ["organization"]
    show_full_result_count = False
    # The SP private key never appears here, not even encrypted.
    exclude = ["sp_private_key_encrypted"]
    # What the wizard's services check (issuer unique across organizations, https, activation
    # after a test, the tenant) is changed there, not here.
    readonly_fields = [
        "sid",
        "organization",
        "idp_issuer",
        "idp_sso_url",
        "jit_provisioning",
        "jit_role",
        "allow_idp_initiated",
        "status",
        "sp_certificate_pem",
        "created_at",
        "updated_at",
        "created_by",
        "updated_by",
        "last_test_outcome",
        "last_test_code",
        "last_tested_at",
    ]
    inlines = [IdPCertificateInline, TrustedDomainInline]
    # An address typed without a scheme is taken as an https:// one.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # profiles are created by the wizard or `sso_profile create`, with SP keys

    def save_model(self, request: HttpRequest, obj: SSOProfile, form: Form, change: bool) -> None:
        # The SP keys are the rollover's to write: a full save could undo one made meanwhile.
        obj.save(update_fields=profile_fields_but_sp_keys())

    def audit_scope(self, obj: SSOProfile, *, deleting: bool) -> AuditScope:
        return [(obj.organization, obj)]


class ExpiresWithinFilter(admin.SimpleListFilter):
    """Certificates to replace soon: expired, or expiring within the next N days."""

    title = "expires within"
    parameter_name = "expires_within"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> Any:
        return [("expired", "Expired"), ("7", "7 days"), ("30", "30 days"), ("90", "90 days")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        now = timezone.now()
        if self.value() == "expired":
            return queryset.filter(not_after__lt=now)
        if self.value() in {"7", "30", "90"}:
            until = now + dt.timedelta(days=int(self.value()))
            return queryset.filter(not_after__gte=now, not_after__lt=until).order_by("not_after")
        return queryset


@admin.register(IdPCertificate)
class IdPCertificateAdmin(StaffAuditMixin, ReadOnlyAdmin):
    list_display = ["subject", "fingerprint_sha256", "not_after", "profile"]
    search_fields = ["=fingerprint_sha256", "^subject", "=profile__sid"]
    list_filter = [ExpiresWithinFilter, "not_after"]
    list_select_related = ["profile"]

    def audit_scope(self, obj: IdPCertificate, *, deleting: bool) -> AuditScope:
        return [(obj.profile.organization, obj.profile)]


@admin.register(SubjectLink)
class SubjectLinkAdmin(StaffAuditMixin, ReadOnlyAdmin):
    """The IdP subjects bound to accounts. Support deletes a wrong link (audited): the next
    sign-in of that subject links again to the account of its email, under the usual rules."""

    list_display = ["name_id", "name_id_format", "user", "profile", "last_seen_at"]
    search_fields = ["=name_id", "=user__email", "=profile__sid"]
    list_select_related = ["user", "profile"]

    def audit_scope(self, obj: SubjectLink, *, deleting: bool) -> AuditScope:
        return [(obj.profile.organization, obj.profile)]


@admin.action(description="Mark selected domains verified (audited)")
def mark_verified(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: object) -> None:
    for domain in queryset:
        domain_mark_verified(domain=domain, actor=request.user, how="operator")


@admin.register(TrustedDomain)
class TrustedDomainAdmin(StaffAuditMixin, admin.ModelAdmin):
    actions = [mark_verified]
    list_display = ["domain", "organization", "profile", "verification_state", "verified_at"]
    list_filter = ["verification_state"]
    search_fields = ["=domain", "^organization__name", "=profile__sid"]
    list_select_related = ["organization", "profile"]
    readonly_fields = [
        "domain",
        "organization",
        "profile",
        "verification_token",
        "created_at",
        "verification_state",
        "verified_at",
        "checked_at",
        "check_detail",
        "proof_missing_since",
    ]

    def audit_scope(self, obj: TrustedDomain, *, deleting: bool) -> AuditScope:
        return [(obj.organization, obj.profile)]


class ReasonFilter(admin.SimpleListFilter):
    """The reasons from sso/reasons.py: listing the distinct values would scan every event."""

    title = "reason"
    parameter_name = "reason"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> Any:
        return Reason.choices

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(reason=self.value()) if self.value() else queryset


@admin.register(LoginEvent)
class LoginEventAdmin(EventAdmin):
    list_display = [
        "created_at",
        "outcome",
        "reason",
        "email",
        "organization",
        "profile_sid",
        "is_test",
    ]
    list_filter = ["outcome", ReasonFilter, "is_test", "created_at"]
    # Exact matches only, each on an index (migration 0007): a substring search reads every row.
    search_fields = ["=email", "=profile_sid", "=assertion_id"]
    search_help_text = "A support reference, or an exact email, profile id or assertion id."
    list_select_related = ["organization"]
    readonly_fields = ["fix"]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        # A reference as a person reads it out (any case, dashes or not) on its own index.
        reference = support_reference_normalize(text=search_term)
        if reference:
            return queryset.filter(reference=reference), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="How to fix it")
    def fix(self, obj: LoginEvent) -> str:
        if obj.outcome == LoginOutcome.SUCCESS or obj.profile is None:
            return "—"
        return fix_for(obj, obj.profile)


@admin.register(AuditEvent)
class AuditEventAdmin(EventAdmin):
    list_display = ["created_at", "action", "actor", "organization", "profile_sid"]
    list_filter = ["action", "created_at"]
    search_fields = ["=profile_sid", "=actor__email", "=organization__slug"]
    list_select_related = ["actor", "organization"]
