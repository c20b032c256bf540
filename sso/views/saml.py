"""SP metadata and SP-initiated login for one profile."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.utils.decorators import method_decorator
from django.utils.text import slugify
from django.views import View
from django.views.decorators.cache import never_cache

from sso.models import SSOProfile
from sso.reasons import LoginRefused
from sso.saml.authn import authn_request_url
from sso.saml.metadata import sp_metadata_xml
from sso.saml.pending import browser_token, set_browser_cookie
from sso.validators import same_origin_path
from sso.views.acs import refusal_response


class MetadataView(View):
    def get(self, request: HttpRequest, sid: str) -> HttpResponse:
        profile = get_object_or_404(SSOProfile, sid=sid)
        response = HttpResponse(
            sp_metadata_xml(profile), content_type="application/samlmetadata+xml"
        )
        if request.GET.get("download"):
            filename = f"{slugify(profile.name) or 'sso-profile'}-sp-metadata.xml"
            response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


@method_decorator(never_cache, name="dispatch")
class LoginView(View):
    def get(self, request: HttpRequest, sid: str) -> HttpResponse:
        profile = get_object_or_404(SSOProfile.objects.select_related("organization"), sid=sid)
        token = browser_token(request)
        try:
            url = authn_request_url(
                profile=profile, relay_state=same_origin_path(request.GET.get("next")), token=token
            )
        except LoginRefused as refusal:
            return refusal_response(request, profile=profile, refusal=refusal)
        response = HttpResponseRedirect(url)
        set_browser_cookie(response, token)
        return response
