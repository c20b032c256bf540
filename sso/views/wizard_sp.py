"""Step 1 of the wizard: our SP values, one by one and as a plain-text sheet for the IT admin."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.decorators import method_decorator
from django.utils.text import slugify
from django.views import View
from django.views.decorators.cache import never_cache

from sso.models import IdPKind, SSOProfile
from sso.profiles.presets import GENERIC, PRESETS, preset_for
from sso.profiles.sp_keys import (
    ROLLOVER_OVERLAP_DAYS,
    profile_sp_key_rollover_finish,
    profile_sp_key_rollover_start,
)
from sso.saml.config import sp_acs_url, sp_entity_id, sp_slo_url
from sso.views.wizard import WizardMixin


def sp_values_sheet(request: HttpRequest, profile: SSOProfile) -> str:
    """Every value the IdP needs, named the way the profile's IdP names them, as plain text."""
    guide = preset_for(profile.idp_kind)
    context = {
        "organization": profile.organization,
        "profile": profile,
        "guide": guide,
        "guide_is_generic": guide is GENERIC,
        "idp_kind_label": IdPKind(profile.idp_kind).label,
        "entity_id": sp_entity_id(profile),
        "acs_url": sp_acs_url(profile),
        "slo_url": sp_slo_url(profile),
    }
    # Plain text, not markup: render_to_string marks its output safe, which would let a typed
    # profile or organization name close the textarea it is shown in.
    return "".join([render_to_string("sso/wizard/sp_values.txt", context, request=request)])


@method_decorator(never_cache, name="dispatch")
class SPMetadataStepView(WizardMixin, View):
    def get(self, request: HttpRequest, sid: str) -> HttpResponse:
        profile = self.get_profile(sid)
        context = self.wizard_context(profile, "sp-metadata")
        context["needs_certificate"] = [
            (IdPKind(kind).label, preset.sp_certificate_note)
            for kind, preset in PRESETS.items()
            if preset.sp_certificate_note
        ]
        context["sp_values"] = sp_values_sheet(request, profile)
        context["slo_note"] = preset_for(profile.idp_kind).slo_note
        context["rollover_note"] = preset_for(profile.idp_kind).sp_certificate_note
        context["rollover_overlap_days"] = ROLLOVER_OVERLAP_DAYS
        return render(request, "sso/wizard/sp_metadata.html", context)


class SPCertificateView(WizardMixin, View):
    """Our SP signing certificate as a PEM file, for IdPs that verify our signed requests."""

    def get(self, request: HttpRequest, sid: str) -> HttpResponse:
        profile = self.get_profile(sid)
        response = HttpResponse(profile.sp_certificate_pem, content_type="application/x-pem-file")
        filename = f"{slugify(profile.name) or 'sso-profile'}-sp-certificate.pem"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


@method_decorator(never_cache, name="dispatch")
class SPValuesDownloadView(WizardMixin, View):
    """The sheet of SP values as a .txt file."""

    def get(self, request: HttpRequest, sid: str) -> HttpResponse:
        profile = self.get_profile(sid)
        response = HttpResponse(
            sp_values_sheet(request, profile), content_type="text/plain; charset=utf-8"
        )
        filename = f"{slugify(profile.name) or 'sso-profile'}-sp-values.txt"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class SPKeyRolloverView(WizardMixin, View):
    """Start our SP key rollover, or finish it early (the overlap's end finishes it anyway)."""

    def post(self, request: HttpRequest, sid: str) -> HttpResponse:
        profile = self.get_profile(sid)
        try:
            if request.POST.get("action") == "finish":
                profile_sp_key_rollover_finish(profile=profile, actor=request.user)
                messages.success(request, "The new SP certificate now signs; the old one is gone.")
            else:
                profile_sp_key_rollover_start(profile=profile, actor=request.user)
                messages.success(request, "Next SP certificate created: give it to your IdP.")
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        return redirect("sso:wizard_sp_metadata", sid=profile.sid)
