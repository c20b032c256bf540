"""Admin Center: a profile's login events, searched and filtered, and support references."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache

from sso.events import (
    login_event_for_reference,
    login_event_response_xml,
    login_events_for,
    login_events_search,
)
from sso.forms import ActivateForm, LoginEventFilterForm
from sso.profiles.diagnostics import detail_rows, fix_for, mapping_rows
from sso.reasons import Reason
from sso.views.access import OrganizationAdminMixin
from sso.views.wizard import WizardMixin

PAGE_SIZE = 50


@method_decorator(never_cache, name="dispatch")
class LoginEventListView(WizardMixin, View):
    """A profile's sign-in attempts: searched by support reference or email, filtered."""

    def get(self, request: HttpRequest, sid: str) -> HttpResponse:
        profile = self.get_profile(sid)
        filters = LoginEventFilterForm(request.GET or None)
        values = filters.cleaned_data if filters.is_valid() else {}
        events = login_events_search(
            profile=profile,
            query=values.get("q", ""),
            outcome=values.get("outcome", ""),
            reason=values.get("reason", ""),
            email=values.get("email", ""),
            since=values.get("since"),
            until=values.get("until"),
        )
        page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
        query = request.GET.copy()
        query.pop("page", None)
        context = self.admin_context(
            profile=profile, page=page, filters=filters, query=query.urlencode()
        )
        return render(request, "sso/admin_center/login_events.html", context)


@method_decorator(never_cache, name="dispatch")
class SupportReferenceView(OrganizationAdminMixin, View):
    """A support reference a person quoted, looked up across the organization's profiles."""

    def get(self, request: HttpRequest) -> HttpResponse:
        reference = request.GET.get("reference", "")[:64]
        event = login_event_for_reference(organization=self.organization, reference=reference)
        if event is not None:
            return redirect("sso:profile_login_event", sid=event.profile.sid, pk=event.pk)
        messages.error(request, "No sign-in attempt of your organization has this reference.")
        return redirect("sso:admin_sso")


@method_decorator(never_cache, name="dispatch")
class LoginEventDetailView(WizardMixin, View):
    """One attempt with its reason and the fix; a connection test's result page."""

    def get(self, request: HttpRequest, sid: str, pk: int) -> HttpResponse:
        profile = self.get_profile(sid)
        event = get_object_or_404(login_events_for(profile=profile), pk=pk)
        context = self.wizard_context(profile, "test") if event.is_test else {}
        context |= self.admin_context(
            profile=profile,
            event=event,
            response_xml=login_event_response_xml(event=event),
            reason_text=Reason(event.reason).label if event.reason in Reason.values else "",
            fix=fix_for(event, profile),
            detail_rows=detail_rows(event),
            mapping_rows=mapping_rows(event),
            activate_form=ActivateForm(),
        )
        return render(request, "sso/admin_center/login_event.html", context)


@method_decorator(never_cache, name="dispatch")
class LoginEventResponseView(WizardMixin, View):
    """A connection test's decoded SAML response as an .xml file, for the IdP's support."""

    def get(self, request: HttpRequest, sid: str, pk: int) -> HttpResponse:
        profile = self.get_profile(sid)
        event = get_object_or_404(login_events_for(profile=profile), pk=pk)
        xml = login_event_response_xml(event=event)
        if not xml:
            raise Http404("This attempt kept no response.")
        # An attachment, never rendered: the XML is what was posted, not trusted.
        response = HttpResponse(xml, content_type="application/octet-stream")
        filename = f"saml-response-{event.reference or event.pk}.xml"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
