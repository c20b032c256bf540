"""Real IdPs that sign one part only, as most IdPs do at their usual settings: SimpleSAMLphp
signing only the Response, saml-idp signing only the Assertion. Under the policy `both` the
connection test names the missing signature; under the matching single policy it passes and a
person signs in."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from lxml import etree
from playwright.sync_api import Page, expect
from pytest_django import Settings
from pytest_django.live_server_helper import LiveServer

from sso.models import IdPKind, LoginEvent, ProfileStatus, Role, SSOProfile, User
from sso.profiles.services import profile_configure, profile_create
from sso.saml.config import sp_acs_url, sp_entity_id
from sso.saml.metadata import parse_idp_metadata, sp_metadata_xml
from sso.validators import parse_certificate
from tests.e2e.idps import ASSERTION, GRACE, RESPONSE, AnyIdP, SimpleSAMLphpIdP
from tests.e2e.test_wizard_e2e import (
    CONSOLE,
    DOMAIN,
    EVENT_PAGE,
    OWNER_EMAIL,
    _idp_asks_for_login,
    _password_login,
    _record_acs_post,
    _sign_out,
)
from tests.factories import MembershipFactory, OrganizationFactory
from tests.fixtures.browser import Shot

pytestmark = pytest.mark.django_db(transaction=True)

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"
# What the policy `both` misses from each single-signing IdP.
MISSING = {RESPONSE: "assertion_unsigned", ASSERTION: "response_unsigned"}


def test_single_signing_idp_under_policy_both_fails_the_test_naming_the_missing_signature(
    single_signing_idp: AnyIdP,
    page: Page,
    live_server: LiveServer,
    settings: Settings,
    shot: Shot,
    tmp_path: Path,
) -> None:
    idp = single_signing_idp
    profile = _configured_profile(idp, live_server, settings, tmp_path)
    posted = _record_posts(page, profile)
    assert profile.signature_policy == "both"

    _password_login(page, OWNER_EMAIL)
    _test_connection(page, idp, profile)

    expect(page.get_by_test_id("reason-code")).to_have_text(MISSING[idp.signs])
    shot(page, f"e2e-{idp.name}-signs-{idp.signs}-under-both")
    profile.refresh_from_db()
    assert (profile.last_test_outcome, profile.last_test_code) == (
        "failure",
        MISSING[idp.signs],
    )
    assert [_signed_parts(response) for response in posted] == [{idp.signs}]


def test_single_signing_idp_under_its_policy_passes_the_test_and_a_person_signs_in(
    single_signing_idp: AnyIdP,
    page: Page,
    live_server: LiveServer,
    settings: Settings,
    shot: Shot,
    tmp_path: Path,
) -> None:
    idp = single_signing_idp
    profile = _configured_profile(idp, live_server, settings, tmp_path)
    profile.signature_policy = idp.signs
    profile.save()
    posted = _record_posts(page, profile)

    _password_login(page, OWNER_EMAIL)
    _test_connection(page, idp, profile)

    expect(page.get_by_test_id("test-result")).to_contain_text("The connection works.")
    expect(page.get_by_test_id("name-id")).to_have_text(GRACE.email)
    shot(page, f"e2e-{idp.name}-signs-{idp.signs}-under-{idp.signs}")
    page.get_by_role("button", name="Activate", exact=True).click()
    expect(
        page.locator("[data-messages]").get_by_text(f"SSO is on for “{idp.name}”.")
    ).to_be_visible()
    profile.refresh_from_db()
    assert profile.status == ProfileStatus.ACTIVE

    _sign_out(page)
    page.locator("#id_email").fill(GRACE.email)
    page.get_by_role("button", name="Next").click()
    if _idp_asks_for_login(page, idp, landing=page.locator(".topbar .who")):
        idp.login(page, GRACE.username, GRACE.password)
    expect(page).to_have_url(CONSOLE)
    expect(page.locator(".topbar .who")).to_have_text(GRACE.email)
    login = LoginEvent.objects.filter(profile=profile, is_test=False).get()
    assert (login.reason, login.email) == ("ok", GRACE.email)
    assert User.objects.get(email=GRACE.email).memberships.get().role == Role.MEMBER
    assert [_signed_parts(response) for response in posted] == [{idp.signs}] * 2


def _configured_profile(
    idp: AnyIdP, live_server: LiveServer, settings: Settings, tmp_path: Path
) -> SSOProfile:
    """What steps 1-4 of the wizard leave (tests/e2e/test_wizard_e2e.py walks them): a
    profile configured from the running IdP's own metadata, its domain verified."""
    settings.SSO_PUBLIC_BASE_URL = live_server.url
    settings.DEBUG = True  # the IdPs' single sign-on URLs are plain http on 127.0.0.1
    organization = OrganizationFactory(name="Acme", slug="acme")
    MembershipFactory(role=Role.OWNER, organization=organization, user__email=OWNER_EMAIL)
    kind = IdPKind.SIMPLESAMLPHP if isinstance(idp, SimpleSAMLphpIdP) else IdPKind.OTHER
    profile = profile_create(organization=organization, actor=None, name=idp.name, idp_kind=kind)
    idp.start(
        sp_metadata_xml(profile), sp_entity_id(profile), sp_acs_url(profile), tmp_path / "idp"
    )
    metadata = parse_idp_metadata(idp.metadata_xml())
    return profile_configure(
        profile=profile,
        actor=None,
        name=idp.name,
        idp_kind=kind,
        idp_issuer=metadata.issuer,
        idp_sso_url=metadata.sso_url,
        certificates=[parse_certificate(pem) for pem in metadata.certificates],
        domains=[DOMAIN],
        domains_verified=True,
    )


def _record_posts(page: Page, profile: SSOProfile) -> list[str]:
    posted: list[str] = []
    acs_url = sp_acs_url(profile)
    page.on("request", lambda request: _record_acs_post(request, acs_url, posted))
    return posted


def _test_connection(page: Page, idp: AnyIdP, profile: SSOProfile) -> None:
    page.goto(f"/admin-center/sso/{profile.sid}/test/")
    page.get_by_role("button", name="Test connection").click()
    if _idp_asks_for_login(page, idp, landing=page.get_by_test_id("test-result")):
        idp.login(page, GRACE.username, GRACE.password)
    expect(page).to_have_url(EVENT_PAGE)


def _signed_parts(saml_response: str) -> set[str]:
    """Which of the Response and its one Assertion carry their own enveloped signature."""
    root = etree.fromstring(base64.b64decode(saml_response))
    assert root.tag == f"{{{SAMLP}}}Response"
    assertions = root.findall(f"{{{SAML}}}Assertion")
    assert len(assertions) == 1
    parts = {RESPONSE: root, ASSERTION: assertions[0]}
    return {
        name for name, element in parts.items() if element.find(f"{{{DS}}}Signature") is not None
    }
