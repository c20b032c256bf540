"""Throwaway smoke tests of the end-to-end IdPs: each starts, publishes usable metadata and
signs a user in to our SP through a real Chromium."""

from __future__ import annotations

import base64
import re
import time
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from django.test import Client
from lxml import etree
from playwright.sync_api import Browser, Request, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from pytest_django import Settings
from pytest_django.live_server_helper import LiveServer

from sso import services
from sso.models import IdPKind, LoginEvent, SSOProfile
from sso.saml.config import sp_acs_url, sp_entity_id
from sso.saml.metadata import parse_idp_metadata
from sso.validators import parse_certificate
from tests.e2e.idps import EMAIL_FORMAT, GRACE, AnyIdP, http_get
from tests.factories import OrganizationFactory, SSOProfileFactory
from tests.fixtures.browser import Shot

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
CONSOLE = re.compile(r"^http://[^/]+/console/$")


@pytest.mark.django_db
def test_idp_publishes_metadata_with_redirect_sso(idp: AnyIdP, client: Client, tmp_path: Path):
    profile = SSOProfileFactory()
    response = client.get(f"/sso/saml2/{profile.sid}/metadata/")
    assert response.status_code == 200

    started = time.monotonic()
    idp.start(response.content.decode(), sp_entity_id(profile), sp_acs_url(profile), tmp_path)
    print(f"{idp.name} started in {time.monotonic() - started:.2f}s on {idp.base_url}")

    xml = idp.metadata_xml()
    root = etree.fromstring(xml.encode())
    descriptor = root.find(f"{{{MD}}}IDPSSODescriptor")
    assert descriptor is not None, xml
    bindings = {
        service.get("Binding"): service.get("Location")
        for service in descriptor.findall(f"{{{MD}}}SingleSignOnService")
    }
    assert bindings.get(REDIRECT) == idp.sso_url, bindings
    metadata = parse_idp_metadata(xml)
    assert (metadata.issuer, metadata.sso_url) == (idp.entity_id, idp.sso_url)
    assert len(metadata.certificates) == 1


def _check_response(saml_response: str, *, acs_url: str, audience: str) -> None:
    """The IdP's own Response as our SP requires it, checked apart from our SP's verdict."""
    root = etree.fromstring(base64.b64decode(saml_response))
    assert root.tag == f"{{{SAMLP}}}Response"
    assert root.get("Destination") == acs_url
    assert root.find(f"{{{SAML}}}EncryptedAssertion") is None
    assertion = root.find(f"{{{SAML}}}Assertion")
    assert assertion is not None
    for signed in (root, assertion):
        method = signed.find(f"{{{DS}}}Signature/{{{DS}}}SignedInfo/{{{DS}}}SignatureMethod")
        assert method is not None, f"{signed.tag} is not signed"
        assert method.get("Algorithm") == RSA_SHA256
    name_id = assertion.find(f"{{{SAML}}}Subject/{{{SAML}}}NameID")
    assert name_id is not None
    assert (name_id.get("Format"), name_id.text) == (EMAIL_FORMAT, GRACE.email)
    assert assertion.findtext(f".//{{{SAML}}}Audience") == audience
    confirmation = assertion.find(f".//{{{SAML}}}SubjectConfirmationData")
    assert confirmation is not None
    assert confirmation.get("Recipient") == acs_url


def _configure(profile: SSOProfile, idp: AnyIdP) -> None:
    """What an admin does in the wizard: import the IdP's metadata, trust acme.test, turn on."""
    metadata = parse_idp_metadata(idp.metadata_xml())
    services.profile_configure(
        profile=profile,
        actor=None,
        name=f"{idp.name} (e2e)",
        idp_kind=IdPKind.OTHER,
        idp_issuer=metadata.issuer,
        idp_sso_url=metadata.sso_url,
        certificates=[parse_certificate(pem) for pem in metadata.certificates],
        domains=["acme.test"],
        domains_verified=True,
    )
    services.profile_activate(profile=profile, actor=None, override=True)


@pytest.mark.django_db(transaction=True)
def test_sp_initiated_login_through_idp(
    idp: AnyIdP,
    browser: Browser,
    live_server: LiveServer,
    settings: Settings,
    shot: Shot,
    tmp_path: Path,
):
    settings.SSO_PUBLIC_BASE_URL = live_server.url
    profile = services.profile_create(organization=OrganizationFactory(), actor=None)
    sp_metadata = http_get(f"{live_server.url}/sso/saml2/{profile.sid}/metadata/")
    acs_url = sp_acs_url(profile)
    idp.start(sp_metadata, sp_entity_id(profile), acs_url, tmp_path)
    _configure(profile, idp)

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        posted: list[str] = []

        def record(request: Request) -> None:
            if request.method == "POST" and request.url == acs_url:
                posted.append(request.post_data or "")

        page.on("request", record)
        page.goto(f"{live_server.url}/sso/saml2/{profile.sid}/login/")
        shot(page, f"e2e-{idp.name}-1-idp-login")
        idp.login(page, GRACE.username, GRACE.password)
        try:
            page.wait_for_url(CONSOLE, timeout=15_000)
        except PlaywrightTimeout:
            event = LoginEvent.objects.first()
            shot(page, f"e2e-{idp.name}-failed")
            summary = f"{event.reason}: {event.detail}" if event else "no login event"
            pytest.fail(f"not at /console/ but {page.url}; {summary}\n{idp.log_text()[-4000:]}")
        expect(page.locator(".topbar .who")).to_have_text(GRACE.email)
        shot(page, f"e2e-{idp.name}-2-console")
    finally:
        context.close()

    event = LoginEvent.objects.get()
    assert (event.reason, event.email) == ("ok", GRACE.email)
    assert len(posted) == 1
    saml_response = parse_qs(posted[0])["SAMLResponse"][0]
    _check_response(saml_response, acs_url=acs_url, audience=sp_entity_id(profile))
