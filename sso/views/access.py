"""Who may use the Admin Center: an organization's owners and admins, on their own data only."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from sso.models import Membership, Organization, SSOProfile
from sso.organizations.selectors import membership_for_admin


class OrganizationAdminMixin(LoginRequiredMixin):
    """Sets `self.organization` and the visitor's `self.membership` in it; another
    organization's objects answer 404, never 403."""

    organization: Organization
    membership: Membership
    nav = "sso"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        membership = membership_for_admin(user=request.user)
        if membership is None:
            return render(request, "sso/errors/forbidden.html", status=403)
        self.membership = membership
        self.organization = membership.organization
        return super().dispatch(request, *args, **kwargs)

    def get_profile(self, sid: str) -> SSOProfile:
        return get_object_or_404(
            SSOProfile.objects.prefetch_related("certificates", "domains"),
            sid=sid,
            organization=self.organization,
        )

    def admin_context(self, **extra: Any) -> dict[str, Any]:
        return {"organization": self.organization, "nav": self.nav, **extra}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)  # type: ignore[misc]
        return self.admin_context(**context)
