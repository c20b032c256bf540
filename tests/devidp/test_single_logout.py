"""The demo IdP as a single logout peer, both ways through Django's test client with real
signatures: Sign out here goes on to the demo IdP, which ends its own session and answers
signed; its Sign out everywhere signs the person out here, and takes only our signed answer."""

from __future__ import annotations

from http import HTTPStatus
from urllib.parse import urlencode, urlsplit

import pytest
from cryptography.hazmat.primitives import serialization
from django.test import Client
from django.urls import reverse
from lxml import etree

from sso.crypto import decrypt_private_key
from sso.devidp import saml
from sso.devidp.session import LOGOUT_COOKIE, SESSION_COOKIE
from sso.models import AuditAction, AuditEvent, SSOProfile
from sso.saml.config import sp_entity_id, sp_slo_url
from tests.devidp.conftest import seed
from tests.fixtures.idp import (
    EMAIL_FORMAT,
    SAML,
    SAMLP,
    KeyPair,
    logout_request_xml,
    logout_response_xml,
    redirect_message,
    redirect_query,
)

pytestmark = pytest.mark.django_db

GRACE = "grace@demo-sso.test"
NS = {"samlp": SAMLP, "saml": SAML, "md": "urn:oasis:names:tc:SAML:2.0:metadata"}
SIGNED_OUT_BOTH = "You are signed out here and at your identity provider."


def _local(url: str) -> str:
    """The path and query of one of this site's absolute URLs (SSO_PUBLIC_BASE_URL)."""
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == "http://127.0.0.1:8765", url
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def _signed_in_here(client: Client) -> bool:
    return client.get(reverse("sso:console")).status_code == HTTPStatus.OK


def _signed_in_at_demo_idp(client: Client) -> bool:
    page = client.get(reverse("devidp:home")).content.decode()
    return "Sign out everywhere" in page


def sign_in(client: Client, profile: SSOProfile, email: str = GRACE) -> str:
    """SP-initiated sign-in through the demo IdP's pages; the SessionIndex it issued."""
    authn = client.get(reverse("sso:saml2_login", args=[profile.sid]))
    assert authn.status_code == HTTPStatus.FOUND
    page = client.get(_local(authn["Location"]))
    chosen = client.post(reverse("devidp:sso"), {**page.context["parameters"], "email": email})
    assert chosen.status_code == HTTPStatus.OK
    data = {"SAMLResponse": chosen.context["saml_response"]}
    if chosen.context["relay_state"] is not None:
        data["RelayState"] = chosen.context["relay_state"]
    landed = client.post(_local(chosen.context["acs_url"]), data)
    assert landed.status_code == HTTPStatus.FOUND, landed
    assert _signed_in_here(client)
    return client.session["sso_session_index"]


def test_demo_idp_metadata_publishes_its_single_logout_service(
    client: Client, seeded: SSOProfile
) -> None:
    metadata = etree.fromstring(client.get(reverse("devidp:metadata")).content)
    services = metadata.findall(".//md:IDPSSODescriptor/md:SingleLogoutService", NS)
    assert [(s.get("Binding"), s.get("Location")) for s in services] == [
        (
            "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect",
            "http://127.0.0.1:8765/dev-idp/slo/",
        )
    ]
    assert seeded.idp_slo_url == saml.slo_url() == "http://127.0.0.1:8765/dev-idp/slo/"


def test_seed_gives_an_older_demo_profile_the_single_logout_url(
    seeded: SSOProfile, settings, tmp_path
) -> None:
    SSOProfile.objects.filter(pk=seeded.pk).update(idp_slo_url="")
    seed(tmp_path, settings)
    assert SSOProfile.objects.get(pk=seeded.pk).idp_slo_url == saml.slo_url()


def test_sign_out_signs_out_at_the_demo_idp_which_answers_signed(
    client: Client, seeded: SSOProfile
) -> None:
    session_index = sign_in(client, seeded)
    assert session_index, "the demo IdP issues a SessionIndex"
    assert _signed_in_at_demo_idp(client)

    going = client.post(reverse("sso:logout"))
    assert going.status_code == HTTPStatus.OK
    url = going.context["url"]
    assert url.startswith(saml.slo_url() + "?")
    request, _ = redirect_message(url)
    assert request.findtext("samlp:SessionIndex", namespaces=NS) == session_index

    answered = client.get(_local(url))
    assert answered.status_code == HTTPStatus.FOUND
    assert answered["Location"].startswith(sp_slo_url(seeded) + "?")
    response, query = redirect_message(answered["Location"], "SAMLResponse")
    assert response.tag == f"{{{SAMLP}}}LogoutResponse"
    assert response.get("InResponseTo") == request.get("ID")
    assert response.findtext("saml:Issuer", namespaces=NS) == saml.entity_id()
    assert query["SigAlg"] == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    assert client.cookies[SESSION_COOKIE].value == "", "the demo IdP's own session ends"

    landed = client.get(_local(answered["Location"]), follow=True)
    assert SIGNED_OUT_BOTH in landed.content.decode()
    assert not _signed_in_here(client)
    assert not _signed_in_at_demo_idp(client)
    page = client.get(reverse("devidp:home")).content.decode()
    assert "Nobody is signed in here" in page


def test_sign_in_page_says_who_is_signed_in_at_the_demo_idp_until_signed_out(
    client: Client, seeded: SSOProfile
) -> None:
    sign_in(client, seeded)
    authn = client.get(reverse("sso:saml2_login", args=[seeded.sid]))
    notice = "You are signed in at the demo IdP as Grace Hopper."
    assert notice in client.get(_local(authn["Location"])).content.decode()

    url = client.post(reverse("sso:logout")).context["url"]
    client.get(_local(client.get(_local(url))["Location"]))

    authn = client.get(reverse("sso:saml2_login", args=[seeded.sid]))
    page = client.get(_local(authn["Location"])).content.decode()
    assert "Sign in as Grace Hopper" in page
    assert notice not in page


@pytest.mark.parametrize("tamper", ["unsigned", "other-key", "signature"])
def test_demo_idp_refuses_a_logout_request_not_signed_by_the_sp(
    client: Client, seeded: SSOProfile, tamper: str
) -> None:
    sign_in(client, seeded)
    xml = logout_request_xml(issuer=sp_entity_id(seeded), destination=saml.slo_url(), name_id=GRACE)
    if tamper == "unsigned":
        query = redirect_query(None, "SAMLRequest", xml)
    elif tamper == "other-key":
        query = redirect_query(KeyPair.generate("not the SP"), "SAMLRequest", xml)
    else:  # the SP's own LogoutRequest, its signature altered
        _, query = redirect_message(client.post(reverse("sso:logout")).context["url"])
        query["Signature"] = query["Signature"][:-8] + "AAAAAAA="

    refused = client.get(reverse("devidp:slo") + "?" + urlencode(query))

    assert refused.status_code == HTTPStatus.BAD_REQUEST
    assert "This sign-out message was refused" in refused.content.decode()
    assert "SAMLResponse" not in refused.get("Location", "")
    assert _signed_in_at_demo_idp(client), "a refused request ends no session"


def test_logout_request_for_someone_else_leaves_the_demo_idp_session(
    client: Client, seeded: SSOProfile
) -> None:
    sign_in(client, seeded)
    other = Client()
    sign_in(other, seeded, email="ada@demo-sso.test")
    url = other.post(reverse("sso:logout")).context["url"]

    answered = client.get(_local(url))  # Ada's LogoutRequest, in Grace's browser

    assert answered.status_code == HTTPStatus.FOUND
    assert _signed_in_at_demo_idp(client)


# IdP-initiated --------------------------------------------------------------------------------


def test_sign_out_everywhere_sends_a_signed_logout_request_and_takes_the_signed_answer(
    client: Client, seeded: SSOProfile
) -> None:
    session_index = sign_in(client, seeded)
    elsewhere = Client()
    sign_in(elsewhere, seeded)
    page = client.get(reverse("devidp:home"))
    assert "Signed in as Grace Hopper" in page.content.decode()
    assert 'name="csrfmiddlewaretoken"' in page.content.decode()

    started = client.post(reverse("devidp:home"))

    assert started.status_code == HTTPStatus.FOUND
    url = started["Location"]
    assert url.startswith(sp_slo_url(seeded) + "?")
    request, query = redirect_message(url)
    assert request.tag == f"{{{SAMLP}}}LogoutRequest"
    assert request.findtext("saml:Issuer", namespaces=NS) == saml.entity_id()
    assert request.get("Destination") == sp_slo_url(seeded)
    name_id = request.find("saml:NameID", NS)
    assert (name_id.text, name_id.get("Format")) == (GRACE, EMAIL_FORMAT)
    assert request.findtext("samlp:SessionIndex", namespaces=NS) == session_index
    assert query["SigAlg"] == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"

    answered = client.get(_local(url))
    assert answered.status_code == HTTPStatus.FOUND, answered
    assert answered["Location"].startswith(saml.slo_url() + "?")
    assert not _signed_in_here(client)
    assert not _signed_in_here(elsewhere), "every session of Grace ends"
    event = AuditEvent.objects.get(action=AuditAction.IDP_LOGOUT)
    assert event.changes["accounts_signed_out"] == [GRACE]

    landing = client.get(_local(answered["Location"]))
    assert landing.status_code == HTTPStatus.OK
    page = landing.content.decode()
    assert "You are signed out everywhere" in page
    assert "Acme confirmed that it signed you out too" in page
    assert client.cookies[LOGOUT_COOKIE].value == ""
    assert not _signed_in_at_demo_idp(client)


def test_sign_out_everywhere_needs_the_csrf_token(client: Client, seeded: SSOProfile) -> None:
    sign_in(client, seeded)
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = client.cookies
    assert strict.post(reverse("devidp:home")).status_code == HTTPStatus.FORBIDDEN
    assert _signed_in_here(client)


def test_sign_out_everywhere_with_nobody_signed_in_sends_nothing(
    client: Client, seeded: SSOProfile
) -> None:
    response = client.post(reverse("devidp:home"))
    assert (response.status_code, response["Location"]) == (
        HTTPStatus.FOUND,
        reverse("devidp:home"),
    )


@pytest.mark.parametrize("tamper", ["unsigned", "other-key", "unasked"])
def test_demo_idp_refuses_a_logout_response_not_signed_by_the_sp_or_not_asked_for(
    client: Client, seeded: SSOProfile, tamper: str
) -> None:
    sign_in(client, seeded)
    request, _ = redirect_message(client.post(reverse("devidp:home"))["Location"])
    xml = logout_response_xml(
        issuer=sp_entity_id(seeded),
        destination=saml.slo_url(),
        in_response_to="_another" if tamper == "unasked" else request.get("ID"),
    )
    keys = None if tamper == "unsigned" else KeyPair.generate("not the SP")
    if tamper == "unasked":  # signed with the SP's own key, answering nothing we sent
        keys = KeyPair(key_pem=_sp_key_pem(seeded), certificate_pem=seeded.sp_certificate_pem)
    query = redirect_query(keys, "SAMLResponse", xml)

    refused = client.get(reverse("devidp:slo") + "?" + urlencode(query))

    assert refused.status_code == HTTPStatus.BAD_REQUEST
    assert "This sign-out message was refused" in refused.content.decode()


def _sp_key_pem(profile: SSOProfile) -> bytes:
    return decrypt_private_key(profile.sp_private_key_encrypted).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
