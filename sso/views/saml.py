"""SP metadata and SP-initiated login for one profile, each with the SP config djangosaml2's
config loader builds for the profile the URL names."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.decorators import method_decorator
from django.utils.text import slugify
from django.views import View
from django.views.decorators.cache import never_cache
from djangosaml2.conf import get_config

from sso.login.services import sso_login_start
from sso.reasons import LoginRefused
from sso.saml.config import profile_for_request
from sso.saml.metadata import sp_metadata_xml
from sso.saml.pending import browser_token, set_browser_cookie
from sso.validators import same_origin_path
from sso.views.acs import login_failed


class MetadataView(View):
    def get(self, request: HttpRequest, sid: str) -> HttpResponse:
        profile = profile_for_request(request)
        response = HttpResponse(
            sp_metadata_xml(profile, config=get_config(request=request)),
            content_type="application/samlmetadata+xml",
        )
        if request.GET.get("download"):
            filename = f"{slugify(profile.name) or 'sso-profile'}-sp-metadata.xml"
            response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


@method_decorator(never_cache, name="dispatch")
class LoginView(View):
    def get(self, request: HttpRequest, sid: str) -> HttpResponse:
        token = browser_token(request)
        try:
            url = sso_login_start(
                request=request,
                profile=profile_for_request(request),
                config=get_config(request=request),
                relay_state=same_origin_path(request.GET.get("next")),
                token=token,
                login_hint=request.GET.get("login_hint", ""),
            )
        except LoginRefused as refusal:
            return login_failed(request, refusal)
        response = HttpResponseRedirect(url)
        set_browser_cookie(response, token)
        return response
