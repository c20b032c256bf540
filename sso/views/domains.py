"""Domain verification: every trusted domain proves its owner before it routes or provisions."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache

from sso.domains import proof
from sso.domains.selectors import domain_proof_tokens, domains_for_organization
from sso.domains.services import domain_check
from sso.forms import DomainCheckForm
from sso.views.access import OrganizationAdminMixin

RESULT_MESSAGES = {
    proof.Proof.FOUND: (messages.SUCCESS, "{domain} is verified."),
    proof.Proof.MISSING: (
        messages.ERROR,
        "No proof found for {domain} yet: {detail}. DNS changes can take a while to appear.",
    ),
    proof.Proof.UNKNOWN: (
        messages.WARNING,
        "Could not check {domain} right now ({detail}). Nothing changed; try again later.",
    ),
}


@method_decorator(never_cache, name="dispatch")
class DomainsView(OrganizationAdminMixin, View):
    nav = "domains"

    def get(self, request: HttpRequest) -> HttpResponse:
        domains = list(domains_for_organization(organization=self.organization))
        tokens = domain_proof_tokens(domains=domains)
        rows = [
            {
                "domain": domain,
                "txt_name": proof.txt_name(domain.domain),
                "txt_value": proof.expected_value(tokens[domain.pk]),
                "https_url": proof.https_url(domain.domain),
            }
            for domain in domains
        ]
        return render(request, "sso/admin_center/domains.html", self.admin_context(rows=rows))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = DomainCheckForm(request.POST)
        if not form.is_valid():
            raise BadRequest("The domain to check is not a domain name.")
        domain = get_object_or_404(
            domains_for_organization(organization=self.organization),
            domain=form.cleaned_data["domain"],
        )
        check = domain_check(domain=domain, actor=request.user)
        level, text = RESULT_MESSAGES[check.proof]
        if check.proof == proof.Proof.FOUND and not domain.is_verified:
            level, text = messages.ERROR, domain.check_detail
        messages.add_message(request, level, text.format(domain=domain.domain, detail=check.detail))
        return redirect("sso:admin_domains")
