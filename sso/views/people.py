"""Admin Center: the organization, its people, invitations; and accepting an invitation."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import auth, messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from sso.domains.selectors import domains_for_organization, profile_for_email
from sso.forms import (
    AcceptInvitationForm,
    InviteForm,
    PeopleFilterForm,
    RoleForm,
    SessionLimitForm,
)
from sso.models import Invitation, Membership, Role
from sso.organizations.selectors import (
    invitation_for_token,
    invitations_open,
    owners_of,
    people_for,
    user_get_by_email,
)
from sso.organizations.services import (
    invitation_accept,
    invitation_create,
    invitation_resend,
    invitation_revoke,
    membership_change_role,
    membership_deactivate,
    membership_remove,
    organization_set_session_limit,
)
from sso.views.access import OrganizationAdminMixin
from sso.views.headers import to_idp
from sso.views.wizard import enforcement_form

PAGE_SIZE = 50


@method_decorator(never_cache, name="dispatch")
class OrganizationView(OrganizationAdminMixin, View):
    nav = "organization"

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.page(SessionLimitForm(initial=self._session_limit()))

    def page(self, session_form: SessionLimitForm, status: int = 200) -> HttpResponse:
        context = self.admin_context(
            owners=owners_of(organization=self.organization),
            domains=domains_for_organization(organization=self.organization),
            enforcement_form=enforcement_form(self.organization),
            session_form=session_form,
        )
        return render(self.request, "sso/admin_center/organization.html", context, status=status)

    def _session_limit(self) -> dict:
        return {"max_session_minutes": self.organization.max_session_minutes}


class SessionLimitView(OrganizationView):
    def post(self, request: HttpRequest) -> HttpResponse:
        form = SessionLimitForm(request.POST)
        if not form.is_valid():
            return self.page(form, status=400)
        organization_set_session_limit(
            organization=self.organization,
            actor=request.user,
            max_session_minutes=form.cleaned_data["max_session_minutes"],
        )
        messages.success(request, "Session limit saved. It applies to sign-ins from now on.")
        return redirect("sso:admin_organization")


class PeopleMixin(OrganizationAdminMixin):
    nav = "people"

    def get_membership(self, pk: int) -> Membership:
        return get_object_or_404(
            Membership.objects.select_related("user"), pk=pk, organization=self.organization
        )

    def get_invitation(self, pk: int) -> Invitation:
        return get_object_or_404(Invitation, pk=pk, organization=self.organization)


@method_decorator(never_cache, name="dispatch")
class PeopleView(PeopleMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        filters = PeopleFilterForm(request.GET or None)
        values = filters.cleaned_data if filters.is_valid() else {}
        people = people_for(
            organization=self.organization,
            query=values.get("q", ""),
            role=values.get("role", ""),
            method=values.get("method", ""),
        )
        page = Paginator(people, PAGE_SIZE).get_page(request.GET.get("page"))
        query = request.GET.copy()
        query.pop("page", None)
        context = self.admin_context(
            page=page,
            filters=filters,
            query=query.urlencode(),
            role_form=RoleForm(),
            # The service refuses the rest anyway; admins are just not offered the owner role.
            manages_owners=self.membership.role == Role.OWNER,
            invitations=invitations_open(organization=self.organization),
        )
        return render(request, "sso/admin_center/people.html", context)


@method_decorator([never_cache, sensitive_post_parameters()], name="dispatch")
class InviteView(PeopleMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(InviteForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = InviteForm(request.POST)
        if form.is_valid():
            try:
                invitation, link = invitation_create(
                    organization=self.organization,
                    actor=request.user,
                    email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"],
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                # The link is shown this once; only its digest is stored.
                return render(
                    request,
                    "sso/admin_center/invitation_created.html",
                    self.admin_context(invitation=invitation, link=link),
                )
        return self._render(form, status=400)

    def _render(self, form: InviteForm, status: int = 200) -> HttpResponse:
        return render(
            self.request,
            "sso/admin_center/invite.html",
            self.admin_context(form=form),
            status=status,
        )


@method_decorator(never_cache, name="dispatch")
class InvitationResendView(PeopleMixin, View):
    """A new link for an invitation nobody accepted, shown once and emailed; the old one dies."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        try:
            invitation, link = invitation_resend(
                invitation=self.get_invitation(pk), actor=request.user
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("sso:admin_people")
        return render(
            request,
            "sso/admin_center/invitation_created.html",
            self.admin_context(invitation=invitation, link=link, resent=True),
        )


class InvitationRevokeView(PeopleMixin, View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        invitation = self.get_invitation(pk)
        try:
            invitation_revoke(invitation=invitation, actor=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"The invitation of {invitation.email} was revoked.")
        return redirect("sso:admin_people")


class MembershipRoleView(PeopleMixin, View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        membership = self.get_membership(pk)
        form = RoleForm(request.POST)
        if form.is_valid():
            try:
                membership_change_role(
                    membership=membership, actor=request.user, role=form.cleaned_data["role"]
                )
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(request, f"{membership.user.email} is now {membership.role}.")
        return redirect("sso:admin_people")


@method_decorator(never_cache, name="dispatch")
class MembershipRemoveView(PeopleMixin, View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        context = self.admin_context(membership=self.get_membership(pk))
        return render(request, "sso/admin_center/person_remove.html", context)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        membership = self.get_membership(pk)
        action = request.POST.get("action")
        try:
            if action == "deactivate":
                membership_deactivate(membership=membership, actor=request.user)
            else:
                membership_remove(membership=membership, actor=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("sso:admin_person_remove", pk=membership.pk)
        verb = "deactivated" if action == "deactivate" else "removed"
        messages.success(request, f"{membership.user.email} was {verb}; their sessions ended.")
        return redirect("sso:admin_people")


@method_decorator(
    [never_cache, sensitive_post_parameters("new_password1", "new_password2")], name="dispatch"
)
class InvitationAcceptView(View):
    """The invitation link: join with a new password, as the signed-in person, or through SSO."""

    template_name = "sso/login/invitation.html"

    def dispatch(self, request: HttpRequest, token: str) -> HttpResponse:
        self.invitation = invitation_for_token(token=token)
        if self.invitation is None or not self.invitation.is_usable:
            return render(request, self.template_name, {"invalid": True}, status=404)
        self.profile = profile_for_email(email=self.invitation.email)
        return super().dispatch(request, token)

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        return self._render(AcceptInvitationForm(email=self.invitation.email))

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        if request.user.is_authenticated:
            return self._accept_as(request.user)
        if self.profile is not None or user_get_by_email(email=self.invitation.email):
            return redirect(self._sign_in_url())
        form = AcceptInvitationForm(request.POST, email=self.invitation.email)
        if not form.is_valid():
            return self._render(form, status=400)
        user = invitation_accept(
            invitation=self.invitation, password=form.cleaned_data["new_password1"]
        )
        auth.login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("sso:console")

    def _accept_as(self, user: object) -> HttpResponse:
        try:
            invitation_accept(invitation=self.invitation, user=user)
        except ValidationError as error:
            form = AcceptInvitationForm(email=self.invitation.email)
            form.add_error(None, error)
            return self._render(form, status=403)
        return redirect("sso:console")

    def _sign_in_url(self) -> str:
        """Where the invitee proves the invited email, coming back here to accept."""
        if self.profile is not None:
            url = reverse("sso:saml2_login", args=[self.profile.sid])
        else:
            url = reverse("sso:login")
        return f"{url}?{urlencode({'next': self.request.path})}"

    def _render(self, form: AcceptInvitationForm, status: int = 200) -> HttpResponse:
        existing = user_get_by_email(email=self.invitation.email) is not None
        context = {
            "invitation": self.invitation,
            "form": form,
            "profile": self.profile,
            "existing": existing,
            "sign_in_url": self._sign_in_url(),
        }
        response = render(self.request, self.template_name, context, status=status)
        return to_idp(response, sso_url=self.profile.idp_sso_url) if self.profile else response
