"""The whole story in a real Chromium against a real third-party IdP: an organization owner sets
SSO up through the wizard, tests and activates it, people sign in through the IdP, and a wrong
certificate shows up as a failed test with its fix."""

from __future__ import annotations

import base64
import re
import time
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from lxml import etree
from playwright.sync_api import Locator, Page, Request, expect
from pytest_django import Settings
from pytest_django.live_server_helper import LiveServer

from sso.domains.services import domain_mark_verified
from sso.models import LoginEvent, ProfileStatus, Role, SSOProfile, TrustedDomain, User
from sso.validators import parse_certificate
from tests.e2e.idps import EMAIL_FORMAT, GRACE, AnyIdP, SimpleSAMLphpIdP
from tests.factories import MembershipFactory, OrganizationFactory
from tests.fixtures.browser import PASSWORD, Shot
from tests.fixtures.idp import KeyPair

pytestmark = pytest.mark.django_db(transaction=True)

# Not in acme.test: once SSO is on, the email step sends every acme.test address to the IdP,
# where the owner has no account.
OWNER_EMAIL = "owner@acme-admins.test"
DOMAIN = "acme.test"
SID = r"JI[0-9a-f]{32}"
EVENT_PAGE = re.compile(rf"/admin-center/sso/{SID}/events/\d+/$")
TEST_PAGE = re.compile(rf"/admin-center/sso/{SID}/test/$")
CONSOLE = re.compile(r"/console/$")
# The attribute that carries the email, as each IdP names it.
EMAIL_ATTRIBUTE = {"simplesamlphp": "mail", "saml-idp": "email"}

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"


def test_admin_sets_up_sso_with_a_real_idp_and_people_sign_in(
    idp: AnyIdP,
    page: Page,
    live_server: LiveServer,
    settings: Settings,
    shot: Shot,
    tmp_path: Path,
) -> None:
    started = time.monotonic()
    settings.SSO_PUBLIC_BASE_URL = live_server.url
    settings.DEBUG = True  # the IdPs' single sign-on URLs are plain http on 127.0.0.1
    prefix = f"e2e-{idp.name}"
    MembershipFactory(
        role=Role.OWNER,
        organization=OrganizationFactory(name="Acme", slug="acme"),
        user__email=OWNER_EMAIL,
    )
    posted: list[str] = []  # every SAMLResponse the IdP posts to our ACS, in order

    # 1. The owner signs in with a password and creates an SSO profile.
    _password_login(page, OWNER_EMAIL)
    page.goto("/admin-center/sso/")
    expect(page.get_by_role("heading", name="Single Sign-On", exact=True)).to_be_visible()
    shot(page, f"{prefix}-01-sso-page")
    page.get_by_role("button", name="Create new SSO Profile").click()

    # Step 1: the SP metadata, downloaded and handed to the IdP as its admin would upload it.
    expect(page.get_by_role("heading", name="Step 1: SP metadata")).to_be_visible()
    entity_id = page.locator("#entity-id").input_value()
    acs_url = page.locator("#acs-url").input_value()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download SP metadata").click()
    sp_metadata = Path(download_info.value.path()).read_text()
    assert entity_id in sp_metadata and acs_url in sp_metadata
    shot(page, f"{prefix}-02-sp-metadata")
    idp.start(sp_metadata, entity_id, acs_url, tmp_path / "idp")
    profile = SSOProfile.objects.get()
    assert (entity_id, acs_url) == (
        f"{live_server.url}/sso/saml2/{profile.sid}/metadata/",
        f"{live_server.url}/sso/saml2/{profile.sid}/acs/",
    )
    page.on("request", lambda request: _record_acs_post(request, acs_url, posted))

    # Steps 2 and 3 are the IdP's side, done above.
    page.get_by_role("link", name="Continue", exact=True).click()
    page.get_by_role("button", name="I have configured my IdP — Continue").click()

    # Step 4: import the IdP's metadata, name the profile, trust acme.test, save.
    expect(page.get_by_role("heading", name="Step 4: IdP metadata")).to_be_visible()
    page.get_by_text("Import IdP metadata", exact=True).click()
    page.get_by_label("IdP metadata XML").fill(idp.metadata_xml())
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator("[data-messages]").get_by_text("IdP metadata imported.")).to_be_visible()
    expect(page.get_by_label("Issuer ID/URL")).to_have_value(idp.entity_id)
    expect(page.get_by_label("Single sign-on URL")).to_have_value(idp.sso_url)
    certificate = page.get_by_label("Paste the certificate", exact=True).input_value()
    idp_fingerprint = parse_certificate(certificate).fingerprint_sha256
    page.get_by_label("Friendly name").fill(idp.name)
    page.get_by_label("Trusted domain 1", exact=True).fill(DOMAIN)
    shot(page, f"{prefix}-03-idp-metadata-imported")
    page.get_by_role("button", name="Save & Continue").click()
    expect(page).to_have_url(TEST_PAGE)
    expect(
        page.locator("[data-messages]").get_by_text("SSO profile saved. Now test the connection.")
    ).to_be_visible()
    shot(page, f"{prefix}-04-saved")
    profile.refresh_from_db()
    assert (profile.status, profile.name, profile.idp_issuer, profile.idp_sso_url) == (
        ProfileStatus.CONFIGURED,
        idp.name,
        idp.entity_id,
        idp.sso_url,
    )
    assert [c.fingerprint_sha256 for c in profile.certificates.all()] == [idp_fingerprint]
    # What an operator does once the domain's DNS or HTTPS proof is in place.
    domain_mark_verified(
        domain=TrustedDomain.objects.get(profile=profile, domain=DOMAIN),
        actor=None,
        how="operator",
    )

    # 2. Step 5: a connection test through the IdP's own login form, then Activate.
    page.get_by_role("button", name="Test connection").click()
    expect(_login_form(page, idp)).to_be_visible()
    assert page.url.startswith(idp.base_url), page.url
    shot(page, f"{prefix}-05-idp-login")
    idp.login(page, GRACE.username, GRACE.password)
    expect(page).to_have_url(EVENT_PAGE)
    expect(page.get_by_test_id("test-result")).to_contain_text("The connection works.")
    expect(page.get_by_test_id("name-id")).to_have_text(GRACE.email)
    email_attribute = page.get_by_test_id("attributes").locator(
        "tbody tr",
        has=page.locator("code").filter(has_text=re.compile(rf"^{EMAIL_ATTRIBUTE[idp.name]}$")),
    )
    expect(email_attribute.locator("td").nth(1)).to_have_text(GRACE.email)
    shot(page, f"{prefix}-06-test-success")
    assert not User.objects.filter(email=GRACE.email).exists(), "a test must create nobody"
    page.get_by_role("button", name="Activate", exact=True).click()
    expect(page).to_have_url(re.compile(r"/admin-center/sso/$"))
    expect(
        page.locator("[data-messages]").get_by_text(f"SSO is on for “{idp.name}”.")
    ).to_be_visible()
    row = page.locator(f'table.profiles tr[data-sid="{profile.sid}"]')
    expect(row.locator(".badge.status-active")).to_have_text("Active")
    shot(page, f"{prefix}-07-active")
    profile.refresh_from_db()
    assert profile.status == ProfileStatus.ACTIVE

    # 3. Grace signs in at the email step and is sent to the IdP (whose session may still be
    # alive from the test: then it signs her in without showing its form).
    _sign_out(page)
    page.locator("#id_email").fill(GRACE.email)
    page.get_by_role("button", name="Next").click()
    asked = _idp_asks_for_login(page, idp, landing=page.locator(".topbar .who"))
    shot(page, f"{prefix}-08-end-user-idp-login")
    if asked:
        idp.login(page, GRACE.username, GRACE.password)
    expect(page).to_have_url(CONSOLE)
    expect(page.locator(".topbar .who")).to_have_text(GRACE.email)
    expect(page.locator("main")).to_contain_text(f"Signed in as {GRACE.email}.")
    shot(page, f"{prefix}-09-console")
    login = LoginEvent.objects.filter(profile=profile, is_test=False).get()
    assert (login.reason, login.email) == ("ok", GRACE.email)
    grace = User.objects.get(email=GRACE.email)  # created on her first login
    assert grace.memberships.get().role == Role.MEMBER

    # 4. On purpose: the IdP's certificate replaced by one it does not sign with. The wrong one
    # goes in as the second (rotation) certificate, then the real one is removed.
    _sign_out(page)
    _password_login(page, OWNER_EMAIL)
    page.goto(f"/admin-center/sso/{profile.sid}/idp-metadata/")
    wrong = parse_certificate(KeyPair.generate("Wrong").certificate_pem)
    page.get_by_text("Add a second certificate (rotation)").click()
    page.get_by_label("Second signing certificate (for a rotation)").fill(wrong.pem)
    page.get_by_role("button", name="Save & Continue").click()
    expect(page).to_have_url(TEST_PAGE)
    page.get_by_role("link", name="Back", exact=True).click()
    saved = page.get_by_test_id("saved-certificate")
    expect(saved).to_have_count(2)
    in_use = saved.filter(has_text=idp_fingerprint).get_by_test_id("certificate-last-used")
    expect(in_use).to_contain_text(" UTC")  # Grace's login a moment ago
    saved.filter(has_text=idp_fingerprint).get_by_role("button", name="Remove", exact=True).click()
    # The admin is asked before it goes.
    expect(page.locator("main")).to_contain_text("your IdP may still sign with it")
    page.get_by_role("button", name="Remove anyway").click()
    expect(page.locator("[data-messages]").get_by_text("Certificate removed.")).to_be_visible()
    expect(saved).to_have_count(1)
    expect(saved).to_contain_text(wrong.fingerprint_sha256)
    page.get_by_role("button", name="Save & Continue").click()
    expect(page).to_have_url(TEST_PAGE)
    page.get_by_role("button", name="Test connection").click()
    if _idp_asks_for_login(page, idp, landing=page.get_by_test_id("test-result")):
        idp.login(page, GRACE.username, GRACE.password)
    expect(page).to_have_url(EVENT_PAGE)
    expect(page.get_by_test_id("reason-code")).to_have_text("signature_invalid")
    fix = page.get_by_test_id("fix")
    expect(fix).to_contain_text(
        f"signed with the certificate whose SHA-256 fingerprint is {idp_fingerprint}"
    )
    expect(fix).to_contain_text(f"this profile trusts {wrong.fingerprint_sha256}")
    expect(fix).to_contain_text("Paste the IdP's current signing certificate")
    shot(page, f"{prefix}-10-test-failure")
    profile.refresh_from_db()
    assert (profile.last_test_outcome, profile.last_test_code) == ("failure", "signature_invalid")

    # What the IdP itself sent, apart from our SP's verdict: test, login, failed test.
    assert len(posted) == 3, posted
    for saml_response in posted:
        _check_response(saml_response, acs_url=acs_url, audience=entity_id)

    elapsed = time.monotonic() - started
    print(f"{idp.name}: {elapsed:.1f}s, IdP form at the end user's login: {asked}")


def _password_login(page: Page, email: str) -> None:
    page.goto("/login/")
    page.locator("#id_email").fill(email)
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log In").click()
    expect(page).to_have_url(CONSOLE)


def _sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login/$"))


def _login_form(page: Page, idp: AnyIdP) -> Locator:
    """The IdP's own login form: SimpleSAMLphp's username, or saml-idp's assertion form."""
    return page.locator("#username" if isinstance(idp, SimpleSAMLphpIdP) else "#userName")


def _idp_asks_for_login(page: Page, idp: AnyIdP, *, landing: Locator) -> bool:
    """Wait for the IdP's login form or for `landing` (back with us, the form skipped)."""
    form = _login_form(page, idp)
    expect(form.or_(landing).first).to_be_visible()
    return page.url.startswith(idp.base_url) and form.is_visible()


def _record_acs_post(request: Request, acs_url: str, posted: list[str]) -> None:
    if request.method == "POST" and request.url == acs_url:
        posted.append(parse_qs(request.post_data or "")["SAMLResponse"][0])


def _check_response(saml_response: str, *, acs_url: str, audience: str) -> None:
    """The IdP's own Response as our SP requires it: signed twice with RSA-SHA256, for us."""
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
