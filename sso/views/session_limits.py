"""An SSO profile's session limits: a card of its settings page (step 4), saved on its own."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from sso.forms import IdPMetadataImportForm
from sso.profiles.services import profile_set_session_limits
from sso.views.wizard import IdPMetadataStepView, session_limits_form


class ProfileSessionLimitsView(IdPMetadataStepView):
    def get(self, request: HttpRequest, sid: str) -> HttpResponse:
        return redirect(self._card(self.get_profile(sid).sid))

    def post(self, request: HttpRequest, sid: str) -> HttpResponse:
        profile = self.get_profile(sid)
        form = session_limits_form(profile, request.POST)
        if form.is_valid():
            try:
                profile_set_session_limits(
                    profile=profile,
                    actor=request.user,
                    max_session_minutes=form.cleaned_data["max_session_minutes"],
                    max_authn_age_minutes=form.cleaned_data["max_authn_age_minutes"],
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(
                    request, "Session limits saved. They apply to sign-ins from now on."
                )
                return redirect(self._card(profile.sid))
        return self._render(
            profile,
            self._settings_form(profile),
            IdPMetadataImportForm(),
            limits_form=form,
            status=400,
        )

    @staticmethod
    def _card(sid: str) -> str:
        return reverse("sso:wizard_idp_metadata", args=[sid]) + "#session-limits"
