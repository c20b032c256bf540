"""Django admin for support staff: look, search, filter; events are read-only.

Staff sign in under the same password policy as /login/, every staff change is audited, and
fields whose rules live in services (issuer, SSO URL, roles, status) are read-only here.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest

from sso.domains.services import domain_mark_verified
from sso.login.services import PasswordLoginRefused, password_login
from sso.models import (
    AuditEvent,
    IdPCertificate,
    LoginEvent,
    Membership,
    Organization,
    SSOProfile,
    TrustedDomain,
    User,
)


class StaffAuthenticationForm(AdminAuthenticationForm):
    """The admin's sign-in: throttling and enforced SSO (break-glass owners aside) as at /login/."""

    def clean(self) -> dict[str, Any]:
        email = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if email is None or not password:
            return self.cleaned_data
        client_ip = self.request.META.get("REMOTE_ADDR") if self.request else None
        try:
            self.user_cache = password_login(email=email, password=password, client_ip=client_ip)
        except PasswordLoginRefused as refusal:
            raise ValidationError(refusal.message, code=refusal.code) from None
        self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


admin.site.login_form = StaffAuthenticationForm


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_active", "is_staff", "date_joined"]
    list_filter = ["is_active", "is_staff", "memberships__role"]
    search_fields = ["email", "first_name", "last_name", "memberships__organization__name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Name", {"fields": ["first_name", "last_name"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "enforce_sso", "created_at"]
    search_fields = ["name", "slug", "trusted_domains__domain", "memberships__user__email"]
    list_filter = ["enforce_sso"]
    inlines = [MembershipInline]


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


@admin.register(SSOProfile)
class SSOProfileAdmin(admin.ModelAdmin):
    list_display = ["name", "sid", "organization", "idp_kind", "status", "last_test_outcome"]
    list_filter = ["status", "idp_kind", "last_test_outcome"]
    search_fields = [
        "sid",
        "name",
        "idp_issuer",
        "organization__name",
        "organization__slug",
        "domains__domain",
    ]
    list_select_related = ["organization"]
    # The SP private key never appears here, not even encrypted.
    exclude = ["sp_private_key_encrypted"]
    readonly_fields = [
        "sid",
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


@admin.register(IdPCertificate)
class IdPCertificateAdmin(ReadOnlyAdmin):
    list_display = ["subject", "fingerprint_sha256", "not_after", "profile"]
    search_fields = ["fingerprint_sha256", "subject", "profile__sid", "profile__organization__name"]
    list_filter = ["not_after"]
    list_select_related = ["profile"]


@admin.action(description="Mark selected domains verified (audited)")
def mark_verified(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: object) -> None:
    for domain in queryset:
        domain_mark_verified(domain=domain, actor=request.user, how="operator")


@admin.register(TrustedDomain)
class TrustedDomainAdmin(admin.ModelAdmin):
    actions = [mark_verified]
    list_display = ["domain", "organization", "profile", "verification_state", "verified_at"]
    list_filter = ["verification_state"]
    search_fields = ["domain", "organization__name", "profile__sid"]
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


@admin.register(LoginEvent)
class LoginEventAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "outcome",
        "reason",
        "email",
        "organization",
        "profile_sid",
        "is_test",
    ]
    list_filter = ["outcome", "reason", "is_test"]
    search_fields = ["email", "profile_sid", "idp_issuer", "assertion_id", "organization__name"]
    list_select_related = ["organization"]
    date_hierarchy = "created_at"


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "action", "actor", "organization", "profile_sid"]
    list_filter = ["action"]
    search_fields = ["profile_sid", "actor__email", "organization__name"]
    list_select_related = ["actor", "organization"]
    date_hierarchy = "created_at"
