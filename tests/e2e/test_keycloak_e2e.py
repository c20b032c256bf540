"""Keycloak 26 as the customer's IdP, in a real Chromium: the wizard walked against a SAML client
made by hand at Keycloak's defaults (only the document signed, NameID = username, client
signature required), then the fewest changes on the Keycloak side until people sign in; and
against a client imported from our SP metadata."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree
from playwright.sync_api import Page, expect
from pytest_django import Settings
from pytest_django.live_server_helper import LiveServer

from sso.domains.services import domain_mark_verified
from sso.models import (
    LoginEvent,
    ProfileStatus,
    Role,
    SignaturePolicy,
    SSOProfile,
    SubjectLink,
    TrustedDomain,
)
from tests.e2e.idps import GRACE
from tests.e2e.keycloak import (
    ACS_POST_URL,
    CLIENT_SIGNATURE_REQUIRED,
    ENCRYPT_ASSERTIONS,
    FORCE_NAME_ID_FORMAT,
    NAME_ID_FORMAT,
    SIGN_ASSERTIONS,
    SIGN_DOCUMENTS,
    SIGNATURE_ALGORITHM,
    SIGNING_CERTIFICATE,
    KeycloakRealm,
)
from tests.factories import MembershipFactory, OrganizationFactory
from tests.fixtures.browser import PASSWORD, Shot

pytestmark = pytest.mark.django_db(transaction=True)

OWNER_EMAIL = "owner@acme-admins.test"
DOMAIN = "acme.test"
SID = r"JI[0-9a-f]{32}"
EVENT_PAGE = re.compile(rf"/admin-center/sso/{SID}/events/\d+/$")
TEST_PAGE = re.compile(rf"/admin-center/sso/{SID}/test/$")
CONSOLE = re.compile(r"/console/$")
MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"


@dataclass(frozen=True)
class SP:
    profile: SSOProfile
    entity_id: str
    acs_url: str
    metadata_xml: str

    @property
    def signing_certificate_pem(self) -> str:
        """Our SP signing certificate, as an admin takes it from the downloaded SP metadata."""
        root = etree.fromstring(self.metadata_xml.encode())
        body = root.findtext(
            f"{{{MD}}}SPSSODescriptor/{{{MD}}}KeyDescriptor[@use='signing']//{{{DS}}}X509Certificate"
        )
        assert body, self.metadata_xml
        return f"-----BEGIN CERTIFICATE-----\n{body.strip()}\n-----END CERTIFICATE-----\n"


@pytest.fixture
def owner_page(page: Page, live_server: LiveServer, settings: Settings) -> Page:
    """The organization owner, signed in with a password, on a page of our live server."""
    settings.SSO_PUBLIC_BASE_URL = live_server.url
    settings.DEBUG = True  # Keycloak's single sign-on URL is plain http on 127.0.0.1
    MembershipFactory(
        role=Role.OWNER,
        organization=OrganizationFactory(name="Acme", slug="acme"),
        user__email=OWNER_EMAIL,
    )
    _password_login(page, OWNER_EMAIL)
    return page


def test_keycloak_client_by_hand_at_defaults_then_fewest_changes_people_sign_in(
    keycloak: KeycloakRealm, owner_page: Page, shot: Shot
) -> None:
    started = time.monotonic()
    page = owner_page
    prefix = "e2e-keycloak-by-hand"
    sp = _create_profile(page, shot, prefix)

    # Keycloak: Clients → Create client, SAML, Client ID = our Entity ID, Valid redirect URIs =
    # our ACS URL, everything else as the console leaves it.
    client = keycloak.client_create_by_hand(entity_id=sp.entity_id, acs_url=sp.acs_url)
    defaults = keycloak.client_json(client)["attributes"]
    assert defaults[SIGN_DOCUMENTS] == "true"
    assert defaults.get(SIGN_ASSERTIONS, "false") == "false"
    assert (defaults[NAME_ID_FORMAT], defaults[FORCE_NAME_ID_FORMAT]) == ("username", "false")
    assert defaults[CLIENT_SIGNATURE_REQUIRED] == "true"
    # With no certificate given, Keycloak makes up a key pair of its own for the client.
    assert defaults[SIGNING_CERTIFICATE] not in sp.signing_certificate_pem

    _configure_idp_steps(page, shot, prefix)
    _import_idp_metadata(page, keycloak, shot, prefix)
    # The Twilio recipe, both signatures, whatever the Keycloak preset would choose.
    _set_policy(sp.profile, SignaturePolicy.BOTH)

    # 1. At Keycloak's defaults, Keycloak itself refuses our signed AuthnRequest: it checks it
    # with the certificate it made up, not ours.
    page.get_by_role("button", name="Test connection").click()
    page.wait_for_url(f"{keycloak.base_url}/**")
    expect(page.locator("body")).to_contain_text("Invalid requester")
    assert not LoginEvent.objects.filter(profile=sp.profile).exists()
    shot(page, f"{prefix}-05-keycloak-refuses-authnrequest")

    # 2. Fewest change for that: our SP signing certificate on the client (Keys → Import key).
    keycloak.client_certificate_upload(client, sp.signing_certificate_pem)
    page.goto(f"/admin-center/sso/{sp.profile.sid}/test/")
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#username")).to_be_visible()
    shot(page, f"{prefix}-06-keycloak-login")
    keycloak.login(page, GRACE.username, GRACE.password)
    expect(page).to_have_url(EVENT_PAGE)
    expect(page.get_by_test_id("reason-code")).to_have_text("assertion_unsigned")
    expect(page.get_by_test_id("fix")).to_contain_text("The Response is signed but the Assertion")
    shot(page, f"{prefix}-07-test-refused")

    # 3. Keycloak: Signature and Encryption → Sign assertions on.
    keycloak.client_update(client, {SIGN_ASSERTIONS: "true"})
    page.goto(f"/admin-center/sso/{sp.profile.sid}/test/")
    page.get_by_role("button", name="Test connection").click()
    expect(page).to_have_url(EVENT_PAGE)
    expect(page.get_by_test_id("test-result")).to_contain_text("The connection works.")
    # NameID format stays "username": Keycloak honours the emailAddress our AuthnRequest asks
    # for unless "Force name ID format" is on.
    expect(page.get_by_test_id("name-id")).to_have_text(GRACE.email)
    shot(page, f"{prefix}-08-test-success")

    _activate_and_sign_in(page, keycloak, sp, shot, prefix)
    print(f"keycloak by hand: {time.monotonic() - started:.1f}s")


def test_keycloak_client_imported_from_our_sp_metadata_works_at_once(
    keycloak: KeycloakRealm, owner_page: Page, shot: Shot
) -> None:
    started = time.monotonic()
    page = owner_page
    prefix = "e2e-keycloak-imported"
    sp = _create_profile(page, shot, prefix)

    # Keycloak: Clients → Import client, our SP metadata file, Save.
    client = keycloak.client_import(sp.metadata_xml)
    attributes = keycloak.client_json(client)["attributes"]
    assert client.client_id == sp.entity_id
    assert (attributes[SIGN_DOCUMENTS], attributes[SIGN_ASSERTIONS]) == ("true", "true")
    assert (attributes[NAME_ID_FORMAT], attributes[FORCE_NAME_ID_FORMAT]) == ("email", "false")
    assert attributes[CLIENT_SIGNATURE_REQUIRED] == "true"
    assert attributes[SIGNING_CERTIFICATE] in sp.signing_certificate_pem
    assert attributes[ACS_POST_URL] == sp.acs_url
    assert attributes.get(ENCRYPT_ASSERTIONS, "false") == "false"
    assert attributes[SIGNATURE_ALGORITHM] == "RSA_SHA256"

    _configure_idp_steps(page, shot, prefix)
    _import_idp_metadata(page, keycloak, shot, prefix)
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#username")).to_be_visible()
    shot(page, f"{prefix}-05-keycloak-login")
    keycloak.login(page, GRACE.username, GRACE.password)
    expect(page).to_have_url(EVENT_PAGE)
    expect(page.get_by_test_id("test-result")).to_contain_text("The connection works.")
    expect(page.get_by_test_id("name-id")).to_have_text(GRACE.email)
    shot(page, f"{prefix}-08-test-success")

    _activate_and_sign_in(page, keycloak, sp, shot, prefix)
    print(f"keycloak imported: {time.monotonic() - started:.1f}s")


def test_keycloak_preset_names_its_switch_then_accepts_the_document_signed_alone(
    keycloak: KeycloakRealm, owner_page: Page, shot: Shot
) -> None:
    page = owner_page
    prefix = "e2e-keycloak-preset"
    sp = _create_profile(page, shot, prefix)
    client = keycloak.client_create_by_hand(entity_id=sp.entity_id, acs_url=sp.acs_url)
    # The one change Keycloak itself requires: our SP signing certificate (Keys → Import key).
    keycloak.client_certificate_upload(client, sp.signing_certificate_pem)
    _configure_idp_steps(page, shot, prefix)
    _import_idp_metadata(page, keycloak, shot, prefix)
    # The Keycloak preset asks for both signatures: Keycloak reaches them with one switch.
    sp.profile.refresh_from_db()
    assert sp.profile.signature_policy == SignaturePolicy.BOTH

    # At Keycloak's default (only the document signed) the fix names Keycloak's own switch.
    page.get_by_role("button", name="Test connection").click()
    keycloak.login(page, GRACE.username, GRACE.password)
    expect(page).to_have_url(EVENT_PAGE)
    expect(page.get_by_test_id("reason-code")).to_have_text("assertion_unsigned")
    expect(page.get_by_test_id("fix")).to_contain_text("Sign assertions")
    shot(page, f"{prefix}-08-test-refused-both")

    # The fix's other way out: the policy that reads claims from the signed document alone.
    _set_policy(sp.profile, SignaturePolicy.RESPONSE)
    page.goto(f"/admin-center/sso/{sp.profile.sid}/test/")
    page.get_by_role("button", name="Test connection").click()
    expect(page).to_have_url(EVENT_PAGE)
    expect(page.get_by_test_id("test-result")).to_contain_text("The connection works.")
    shot(page, f"{prefix}-09-test-success-response-policy")


def test_keycloak_username_name_id_with_email_attribute_signs_in_and_links_the_subject(
    keycloak: KeycloakRealm, owner_page: Page, shot: Shot
) -> None:
    # Today: refused `nameid_format` (unspecified NameID "grace", no mapping to fall back on).
    page = owner_page
    prefix = "e2e-keycloak-mapping"
    sp = _create_profile(page, shot, prefix)
    client = keycloak.client_import(sp.metadata_xml)
    # Keycloak: Name ID format = username with Force name ID format on, and a "User Property"
    # mapper sending the email as the attribute `email`.
    keycloak.client_update(client, {NAME_ID_FORMAT: "username", FORCE_NAME_ID_FORMAT: "true"})
    keycloak.client_mapper_create(client, user_property="email", attribute="email")
    _configure_idp_steps(page, shot, prefix)
    _import_idp_metadata(page, keycloak, shot, prefix)
    sp.profile.refresh_from_db()
    sp.profile.email_attribute = "email"
    sp.profile.save()

    page.get_by_role("button", name="Test connection").click()
    keycloak.login(page, GRACE.username, GRACE.password)
    expect(page).to_have_url(EVENT_PAGE)
    shot(page, f"{prefix}-08-test-result")
    expect(page.get_by_test_id("name-id")).to_have_text(GRACE.username)
    expect(page.get_by_test_id("test-result")).to_contain_text("The connection works.")

    _activate_and_sign_in(page, keycloak, sp, shot, prefix)
    link = SubjectLink.objects.get(profile=sp.profile)
    assert (link.name_id, link.user.email) == (GRACE.username, GRACE.email)


def _create_profile(page: Page, shot: Shot, prefix: str) -> SP:
    page.goto("/admin-center/sso/")
    page.get_by_role("button", name="Create new SSO Profile").click()
    expect(page.get_by_role("heading", name="Step 1: SP metadata")).to_be_visible()
    entity_id = page.locator("#entity-id").input_value()
    acs_url = page.locator("#acs-url").input_value()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download SP metadata").click()
    metadata_xml = Path(download_info.value.path()).read_text()
    shot(page, f"{prefix}-01-sp-metadata")
    return SP(SSOProfile.objects.get(), entity_id, acs_url, metadata_xml)


def _configure_idp_steps(page: Page, shot: Shot, prefix: str) -> None:
    page.get_by_role("link", name="Continue", exact=True).click()
    page.locator("#idp-kind").select_option("keycloak")
    page.get_by_role("button", name="Show instructions").click()
    expect(page.get_by_role("heading", name="In Keycloak")).to_be_visible()
    shot(page, f"{prefix}-02-configure-keycloak")
    page.get_by_role("button", name="I have configured Keycloak — Continue").click()


def _import_idp_metadata(page: Page, keycloak: KeycloakRealm, shot: Shot, prefix: str) -> None:
    expect(page.get_by_role("heading", name="Step 4: IdP metadata")).to_be_visible()
    page.get_by_text("Import IdP metadata", exact=True).click()
    page.get_by_label("IdP metadata XML").fill(keycloak.metadata_xml())
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator("[data-messages]").get_by_text("IdP metadata imported.")).to_be_visible()
    # Step 4 speaks Keycloak's words now that the kind was chosen in steps 2-3.
    expect(page.get_by_label(re.compile(r"^Issuer"))).to_have_value(keycloak.entity_id)
    expect(page.get_by_label(re.compile(r"^SAML endpoint"))).to_have_value(keycloak.sso_url)
    page.get_by_label("Identity provider", exact=True).select_option("keycloak")
    page.get_by_label("Friendly name").fill("Keycloak")
    page.get_by_label("Trusted domain 1", exact=True).fill(DOMAIN)
    shot(page, f"{prefix}-03-idp-metadata-imported")
    page.get_by_role("button", name="Save & Continue").click()
    expect(page).to_have_url(TEST_PAGE)
    shot(page, f"{prefix}-04-saved")
    profile = SSOProfile.objects.get()
    assert (profile.status, profile.idp_kind, profile.idp_issuer) == (
        ProfileStatus.CONFIGURED,
        "keycloak",
        keycloak.entity_id,
    )
    domain_mark_verified(
        domain=TrustedDomain.objects.get(profile=profile, domain=DOMAIN), actor=None, how="operator"
    )


def _set_policy(profile: SSOProfile, policy: SignaturePolicy) -> None:
    profile.refresh_from_db()
    profile.signature_policy = policy
    profile.save()


def _activate_and_sign_in(
    page: Page, keycloak: KeycloakRealm, sp: SP, shot: Shot, prefix: str
) -> None:
    """Activate the tested profile; Grace signs in at the email step through Keycloak."""
    page.get_by_role("button", name="Activate", exact=True).click()
    expect(page.locator("[data-messages]").get_by_text("SSO is on for “Keycloak”.")).to_be_visible()
    _sign_out(page)
    page.locator("#id_email").fill(GRACE.email)
    page.get_by_role("button", name="Next").click()
    # Keycloak's session from the test may still be alive: then it skips its form.
    form = page.locator("#username")
    expect(form.or_(page.locator(".topbar .who")).first).to_be_visible()
    if page.url.startswith(keycloak.base_url):
        keycloak.login(page, GRACE.username, GRACE.password)
    expect(page).to_have_url(CONSOLE)
    expect(page.locator(".topbar .who")).to_have_text(GRACE.email)
    shot(page, f"{prefix}-10-console")
    login = LoginEvent.objects.filter(profile=sp.profile, is_test=False).get()
    assert (login.reason, login.email) == ("ok", GRACE.email)


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
