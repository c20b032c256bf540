"""The Admin Center's Single Sign-On page and the SSO profile wizard, one view per step."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView

from sso.events import connection_test_last
from sso.forms import (
    ActivateForm,
    EnforcementForm,
    IdPMetadataImportForm,
    IdPSettingsForm,
    ProfileConfirmForm,
    ProfileSessionLimitsForm,
)
from sso.models import IdPKind, Organization, ProfileStatus, SignaturePolicy, SSOProfile
from sso.organizations.selectors import owners_of
from sso.organizations.services import organization_set_sso_enforcement
from sso.profiles.expiry import certificate_expiry_warnings
from sso.profiles.metadata_refresh import (
    profile_metadata_approve,
    profile_metadata_dismiss,
    profile_metadata_fetch,
)
from sso.profiles.presets import preset_for
from sso.profiles.selectors import (
    CERTIFICATE_USE_DAYS,
    certificates_last_used,
    profile_setup,
    profile_sso_only_people,
    profiles_for_organization,
)
from sso.profiles.services import (
    profile_activate,
    profile_choose_idp_kind,
    profile_configure,
    profile_create,
    profile_delete,
    profile_disable,
    profile_remove_certificate,
)
from sso.saml.authn import authn_request_url
from sso.saml.config import sp_acs_url, sp_entity_id, sp_slo_url
from sso.saml.pending import browser_token, set_browser_cookie
from sso.views.access import OrganizationAdminMixin
from sso.views.headers import to_idp

STEPS = [
    ("sp-metadata", "1", "SP metadata"),
    ("configure-idp", "2–3", "Configure your IdP"),
    ("idp-metadata", "4", "IdP metadata"),
    ("test", "5", "Test connection"),
]


class WizardMixin(OrganizationAdminMixin):
    def wizard_context(self, profile: SSOProfile, step: str) -> dict[str, Any]:
        return self.admin_context(
            profile=profile,
            steps=STEPS,
            current_step=step,
            entity_id=sp_entity_id(profile),
            acs_url=sp_acs_url(profile),
            slo_url=sp_slo_url(profile),
            setup=profile_setup(profile=profile),
        )


@method_decorator(never_cache, name="dispatch")
class SingleSignOnView(OrganizationAdminMixin, TemplateView):
    template_name = "sso/admin_center/sso.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["profile_rows"] = [
            (profile, profile_setup(profile=profile))
            for profile in profiles_for_organization(organization=self.organization)
        ]
        context["expiring"] = certificate_expiry_warnings(
            profiles=[profile for profile, _ in context["profile_rows"]]
        )
        context.setdefault("enforcement_form", enforcement_form(self.organization))
        return context

    def post(self, request: HttpRequest) -> HttpResponse:
        profile = profile_create(organization=self.organization, actor=request.user)
        return redirect("sso:wizard_sp_metadata", sid=profile.sid)


def enforcement_form(organization: Organization, data: Any = None) -> EnforcementForm:
    owners = owners_of(organization=organization)
    return EnforcementForm(
        data,
        owners=owners,
        initial={
            "enforce_sso": organization.enforce_sso,
            "break_glass": [user for user in owners if user.break_glass],
        },
    )


class EnforcementView(SingleSignOnView):
    def post(self, request: HttpRequest) -> HttpResponse:
        form = enforcement_form(self.organization, request.POST)
        if form.is_valid():
            try:
                organization_set_sso_enforcement(
                    organization=self.organization,
                    actor=request.user,
                    enforce=form.cleaned_data["enforce_sso"],
                    break_glass=list(form.cleaned_data["break_glass"]),
                    confirmed=form.cleaned_data["confirm"],
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, "Sign-in policy saved.")
                return redirect("sso:admin_sso")
        context = self.get_context_data(enforcement_form=form)
        return self.render_to_response(context, status=400)


def _idp_kind(value: str | None, fallback: str) -> str:
    kind = value or fallback
    return kind if kind in IdPKind.values else IdPKind.OTHER


@method_decorator(never_cache, name="dispatch")
class ConfigureIdPStepView(WizardMixin, View):
    """Steps 2-3: the chosen IdP's instructions; Continue keeps the choice on the profile."""

    def get(self, request: HttpRequest, sid: str) -> HttpResponse:
        profile = self.get_profile(sid)
        kind = _idp_kind(request.GET.get("idp"), profile.idp_kind)
        context = self.wizard_context(profile, "configure-idp")
        context.update(
            {
                "idp_kind": kind,
                "idp_kinds": IdPKind.choices,
                "guide": preset_for(kind),
                "idp_kind_label": IdPKind(kind).label,
                "policy_label": SignaturePolicy(preset_for(kind).default_policy).label,
            }
        )
        return render(request, "sso/wizard/configure_idp.html", context)

    def post(self, request: HttpRequest, sid: str) -> HttpResponse:
        profile = self.get_profile(sid)
        kind = _idp_kind(request.POST.get("idp"), profile.idp_kind)
        profile_choose_idp_kind(profile=profile, actor=request.user, idp_kind=kind)
        return redirect("sso:wizard_idp_metadata", sid=profile.sid)


@method_decorator(never_cache, name="dispatch")
class IdPMetadataStepView(WizardMixin, View):
    """Step 4: the IdP's Issuer, SSO URL, certificate and the trusted domains.

    Imported metadata only fills the form; nothing is saved until Save & Continue.
    """

    template_name = "sso/wizard/idp_metadata.html"

    def get(self, request: HttpRequest, sid: str) -> HttpResponse:
        profile = self.get_profile(sid)
        return self._render(profile, self._settings_form(profile), IdPMetadataImportForm())

    def post(self, request: HttpRequest, sid: str) -> HttpResponse:
        profile = self.get_profile(sid)
        if "import" in request.POST:
            return self._import(profile)
        form = self._settings_form(profile, data=request.POST, files=request.FILES)
        if form.is_valid():
            try:
                profile_configure(
                    profile=profile,
                    actor=request.user,
                    name=form.cleaned_data["name"],
                    idp_kind=form.cleaned_data["idp_kind"],
                    idp_issuer=form.cleaned_data["idp_issuer"],
                    idp_sso_url=form.cleaned_data["idp_sso_url"],
                    idp_slo_url=form.cleaned_data["idp_slo_url"],
                    certificates=form.cleaned_data["certificates"],
                    default_redirect_url=form.cleaned_data["default_redirect_url"],
                    domains=form.cleaned_data["domains"],
                    allow_idp_initiated=form.cleaned_data["allow_idp_initiated"],
                    jit_provisioning=form.cleaned_data["jit_provisioning"],
                    jit_role=form.cleaned_data["jit_role"],
                    signature_policy=form.cleaned_data["signature_policy"],
                    email_attribute=form.cleaned_data["email_attribute"],
                    first_name_attribute=form.cleaned_data["first_name_attribute"],
                    last_name_attribute=form.cleaned_data["last_name_attribute"],
                    groups_attribute=form.cleaned_data["groups_attribute"],
                    metadata_url=form.cleaned_data["metadata_url"],
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, "SSO profile saved. Now test the connection.")
                return redirect("sso:wizard_test", sid=profile.sid)
        return self._render(profile, form, IdPMetadataImportForm(), status=400)

    def _import(self, profile: SSOProfile) -> HttpResponse:
        import_form = IdPMetadataImportForm(data=self.request.POST, files=self.request.FILES)
        if not import_form.is_valid():
            return self._render(profile, self._settings_form(profile), import_form, status=400)
        url = import_form.cleaned_data["metadata_url"]
        if url:
            try:
                metadata = profile_metadata_fetch(url=url).metadata
            except ValidationError as error:
                import_form.add_error("metadata_url", error)
                return self._render(profile, self._settings_form(profile), import_form, status=400)
        else:
            metadata = import_form.cleaned_data["metadata"]
        initial = self._initial(profile) | {
            "metadata_url": url or profile.metadata_url,
            "idp_issuer": metadata.issuer,
            "idp_sso_url": metadata.sso_url,
            "idp_slo_url": metadata.slo_url,
            "certificate": metadata.certificates[0],
            "additional_certificate": "".join(metadata.certificates[1:2]),
        }
        messages.info(
            self.request, "IdP metadata imported. Check the values, then Save & Continue."
        )
        form = IdPSettingsForm(
            initial=initial,
            has_certificate=profile.certificates.exists(),
            preset=preset_for(profile.idp_kind),
        )
        return self._render(profile, form, IdPMetadataImportForm(), imported=True)

    @staticmethod
    def _initial(profile: SSOProfile) -> dict[str, Any]:
        return {
            "name": profile.name,
            "idp_kind": profile.idp_kind,
            "idp_issuer": profile.idp_issuer,
            "idp_sso_url": profile.idp_sso_url,
            "idp_slo_url": profile.idp_slo_url,
            "default_redirect_url": profile.default_redirect_url,
            "domains": [d.domain for d in profile.domains.all()],
            "allow_idp_initiated": profile.allow_idp_initiated,
            "jit_provisioning": profile.jit_provisioning,
            "jit_role": profile.jit_role,
            "signature_policy": profile.signature_policy,
            "email_source": "attribute" if profile.email_attribute else "nameid",
            "email_attribute": profile.email_attribute,
            "first_name_attribute": profile.first_name_attribute,
            "last_name_attribute": profile.last_name_attribute,
            "groups_attribute": profile.groups_attribute,
            "metadata_url": profile.metadata_url,
        }

    def _settings_form(self, profile: SSOProfile, **kwargs: Any) -> IdPSettingsForm:
        return IdPSettingsForm(
            initial=self._initial(profile),
            has_certificate=profile.certificates.exists(),
            preset=preset_for(profile.idp_kind),
            **kwargs,
        )

    def _render(
        self,
        profile: SSOProfile,
        form: IdPSettingsForm,
        import_form: IdPMetadataImportForm,
        *,
        status: int = 200,
        imported: bool = False,
        limits_form: ProfileSessionLimitsForm | None = None,
    ) -> HttpResponse:
        context = self.wizard_context(profile, "idp-metadata")
        last_used = certificates_last_used(profile=profile)
        context.update(
            {
                "form": form,
                "import_form": import_form,
                "imported": imported,
                "guide": preset_for(profile.idp_kind),
                "certificates": [
                    (certificate, last_used.get(certificate.fingerprint_sha256))
                    # Newer and Older: the order they were added in, not their expiry.
                    for certificate in sorted(
                        profile.certificates.all(), key=lambda c: (c.created_at, c.pk), reverse=True
                    )
                ],
                "certificate_use_days": CERTIFICATE_USE_DAYS,
                "metadata_pending": profile.metadata_pending,
                "limits_form": limits_form or session_limits_form(profile),
            }
        )
        return render(self.request, self.template_name, context, status=status)


def session_limits_form(profile: SSOProfile, data: Any = None) -> ProfileSessionLimitsForm:
    return ProfileSessionLimitsForm(
        data,
        initial={
            "max_session_minutes": profile.max_session_minutes,
            "max_authn_age_minutes": profile.max_authn_age_minutes,
        },
    )


@method_decorator(never_cache, name="dispatch")
class TestStepView(WizardMixin, View):
    """The last step: a real SP-initiated login against the IdP, marked as this admin's test."""

    def get(self, request: HttpRequest, sid: str) -> HttpResponse:
        profile = self.get_profile(sid)
        if not profile.is_configured or not profile.certificates.all():
            messages.info(request, "Enter the IdP's metadata first.")
            return redirect("sso:wizard_idp_metadata", sid=profile.sid)
        context = self.wizard_context(profile, "test")
        context["activate_form"] = ActivateForm()
        context["last_test"] = connection_test_last(profile=profile)
        response = render(request, "sso/wizard/test.html", context)
        return to_idp(response, sso_url=profile.idp_sso_url)

    def post(self, request: HttpRequest, sid: str) -> HttpResponse:
        profile = self.get_profile(sid)
        if not profile.is_configured or not profile.certificates.all():
            return redirect("sso:wizard_idp_metadata", sid=profile.sid)
        token = browser_token(request)
        response = redirect(
            authn_request_url(
                profile=profile, relay_state="", token=token, tester_id=request.user.pk
            )
        )
        set_browser_cookie(response, token)
        return response


class CertificateRemoveView(WizardMixin, View):
    """Removes a certificate; one that verified sign-ins lately only once the admin confirms."""

    def post(self, request: HttpRequest, sid: str) -> HttpResponse:
        profile = self.get_profile(sid)
        fingerprint = request.POST.get("fingerprint", "")
        try:
            profile_remove_certificate(
                profile=profile,
                actor=request.user,
                fingerprint=fingerprint,
                confirmed=request.POST.get("confirm") == "yes",
            )
        except ValidationError as error:
            if any(e.code == "certificate_in_use" for e in error.error_dict["certificate"]):
                context = self.admin_context(
                    profile=profile, fingerprint=fingerprint, warning=" ".join(error.messages)
                )
                return render(request, "sso/wizard/certificate_remove.html", context)
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, "Certificate removed.")
        return redirect("sso:wizard_idp_metadata", sid=profile.sid)


class MetadataChangeView(WizardMixin, View):
    """Approve or dismiss the Issuer / SSO URL change the IdP's metadata holds waiting."""

    def post(self, request: HttpRequest, sid: str) -> HttpResponse:
        profile = self.get_profile(sid)
        decide = (
            profile_metadata_approve
            if request.POST.get("decision") == "approve"
            else profile_metadata_dismiss
        )
        try:
            decide(profile=profile, actor=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                "Change applied: test the connection again."
                if decide is profile_metadata_approve
                else "Change dismissed: the profile keeps its values.",
            )
        return redirect("sso:wizard_idp_metadata", sid=profile.sid)


class ProfileConfirmMixin(WizardMixin):
    """Disable and Delete: a page that counts who is locked out, then the typed name."""

    template_name: str

    def get(self, request: HttpRequest, sid: str) -> HttpResponse:
        profile = self.get_profile(sid)
        return self._render(profile, ProfileConfirmForm(profile=profile))

    def confirmed(self, profile: SSOProfile) -> ProfileConfirmForm:
        return ProfileConfirmForm(self.request.POST, profile=profile)

    def _render(
        self, profile: SSOProfile, form: ProfileConfirmForm, status: int = 200
    ) -> HttpResponse:
        context = self.admin_context(
            profile=profile,
            form=form,
            setup=profile_setup(profile=profile),
            sso_only=profile_sso_only_people(profile=profile),
        )
        return render(self.request, self.template_name, context, status=status)


@method_decorator(never_cache, name="dispatch")
class ProfileDeleteView(ProfileConfirmMixin, View):
    template_name = "sso/wizard/delete.html"

    def post(self, request: HttpRequest, sid: str) -> HttpResponse:
        profile = self.get_profile(sid)
        form = self.confirmed(profile)
        if not form.is_valid():
            return self._render(profile, form, status=400)
        name = profile.name
        profile_delete(profile=profile, actor=request.user)
        messages.success(request, f"SSO profile “{name}” deleted.")
        return redirect("sso:admin_sso")


@method_decorator(never_cache, name="dispatch")
class ProfileActivateView(WizardMixin, View):
    """Turn SSO on after a successful test, or (confirmed, audited) without one."""

    def post(self, request: HttpRequest, sid: str) -> HttpResponse:
        profile = self.get_profile(sid)
        form = ActivateForm(data=request.POST)
        if form.is_valid():
            try:
                profile_activate(
                    profile=profile, actor=request.user, override=form.cleaned_data["override"]
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, f"SSO is on for “{profile.name}”.")
                setup = profile_setup(profile=profile)
                if setup.routes_nobody:
                    messages.warning(
                        request,
                        f"{setup.domains_verified} of {setup.domains_total} domains verified: "
                        f"nobody will be sent to {setup.idp_name} yet.",
                    )
                return redirect("sso:admin_sso")
        context = self.wizard_context(profile, "test")
        context["activate_form"] = form
        response = render(request, "sso/wizard/test.html", context, status=400)
        return to_idp(response, sso_url=profile.idp_sso_url)


@method_decorator(never_cache, name="dispatch")
class ProfileDisableView(ProfileConfirmMixin, View):
    template_name = "sso/wizard/disable.html"

    def post(self, request: HttpRequest, sid: str) -> HttpResponse:
        profile = self.get_profile(sid)
        if profile.status != ProfileStatus.ACTIVE:
            return redirect("sso:admin_sso")
        form = self.confirmed(profile)
        if not form.is_valid():
            return self._render(profile, form, status=400)
        profile_disable(profile=profile, actor=request.user)
        messages.success(request, f"SSO is off for “{profile.name}”.")
        return redirect("sso:admin_sso")


def admin_center_home(request: HttpRequest) -> HttpResponse:
    return redirect(reverse("sso:admin_sso"))
