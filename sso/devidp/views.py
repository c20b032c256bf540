"""The demo IdP's pages: its metadata, and the sign-in page an AuthnRequest lands on."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache

from sso.devidp.saml import (
    DEMO_DOMAIN,
    PEOPLE,
    DemoRequest,
    DemoRequestError,
    metadata_xml,
    person_for,
    read_request,
    signed_response,
)
from sso.views.headers import to_idp

logger = logging.getLogger(__name__)


def metadata(request: HttpRequest) -> HttpResponse:
    return HttpResponse(metadata_xml(), content_type="application/samlmetadata+xml")


@method_decorator(never_cache, name="dispatch")
class SignInView(View):
    """GET: the AuthnRequest arrives (HTTP-Redirect); the page lists the demo people.
    POST: the chosen person; the page posts the signed Response to the SP's ACS."""

    def get(self, request: HttpRequest) -> HttpResponse:
        try:
            demo_request = read_request(request.GET.dict())
        except DemoRequestError as refusal:
            return self._refused(request, refusal)
        return self._sign_in_page(request, demo_request)

    def post(self, request: HttpRequest) -> HttpResponse:
        try:
            demo_request = read_request(request.POST.dict())
        except DemoRequestError as refusal:
            return self._refused(request, refusal)
        person = person_for(request.POST.get("email", ""))
        if person is None:
            return self._sign_in_page(request, demo_request, email_error=True, status=400)
        response = render(
            request,
            "sso/devidp/continue.html",
            {
                "acs_url": demo_request.acs_url,
                "saml_response": signed_response(request=demo_request, person=person),
                "relay_state": demo_request.relay_state,
                "person": person,
            },
        )
        return to_idp(response, sso_url=demo_request.acs_url)

    def _sign_in_page(
        self,
        request: HttpRequest,
        demo_request: DemoRequest,
        *,
        email_error: bool = False,
        status: int = 200,
    ) -> HttpResponse:
        context = {
            "people": PEOPLE,
            "domain": DEMO_DOMAIN,
            "parameters": demo_request.parameters,
            "organization": demo_request.profile.organization,
            "email_error": email_error,
        }
        return render(request, "sso/devidp/sign_in.html", context, status=status)

    def _refused(self, request: HttpRequest, refusal: DemoRequestError) -> HttpResponse:
        logger.info("Demo IdP refused an AuthnRequest: %s", refusal)
        return render(request, "sso/devidp/refused.html", status=400)
