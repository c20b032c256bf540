"""Single logout: signing out here goes on to the IdP with a signed LogoutRequest, and the IdP's
own signed LogoutRequest ends every session of the person it names. Real signatures both ways:
the IdP's with the test IdP's key, ours checked against the profile's SP certificate."""

from __future__ import annotations

import base64
import datetime as dt
import re
import tracemalloc
import zlib
from http import HTTPStatus
from urllib.parse import quote, urlencode

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from lxml import etree

from sso.models import AuditAction, AuditEvent, LoginOutcome
from sso.saml.config import sp_slo_url
from tests.factories import ActiveProfileFactory, MembershipFactory, SSOProfileFactory
from tests.fixtures.idp import (
    RSA_SHA256,
    SAML,
    SAMLP,
    TestIdP,
    logout_request_xml,
    logout_response_xml,
    redirect_message,
    redirect_query,
)
from tests.login.test_session_limits import sign_in, signed_in
from tests.saml.test_acs import last_event

pytestmark = pytest.mark.django_db

IDP_SLO_URL = "https://idp.acme.test/slo"
SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
UNKNOWN_PRINCIPAL = "urn:oasis:names:tc:SAML:2.0:status:UnknownPrincipal"
NS = {"samlp": SAMLP, "saml": SAML, "md": "urn:oasis:names:tc:SAML:2.0:metadata"}


@pytest.fixture
def profile():
    return ActiveProfileFactory(idp_slo_url=IDP_SLO_URL)


def slo(client: Client, profile, query: dict[str, str]):
    return client.get(reverse("sso:saml2_slo", args=[profile.sid]) + "?" + urlencode(query))


def assert_signed_by_sp(profile, location: str, message: str) -> None:
    """Our HTTP-Redirect signature verifies with the certificate of our SP metadata."""
    raw_query = location.split("?", 1)[1]
    parts = dict(part.split("=", 1) for part in raw_query.split("&"))
    signed = "&".join(f"{k}={parts[k]}" for k in (message, "RelayState", "SigAlg") if k in parts)
    _, query = redirect_message(location, message)
    assert query["SigAlg"] == RSA_SHA256
    certificate = x509.load_pem_x509_certificate(profile.sp_certificate_pem.encode())
    certificate.public_key().verify(
        base64.b64decode(query["Signature"]), signed.encode(), padding.PKCS1v15(), hashes.SHA256()
    )


def sign_out(client: Client):
    """Press Sign out; the page that goes on to the IdP, and the IdP URL it goes to."""
    response = client.post(reverse("sso:logout"))
    assert response.status_code == HTTPStatus.OK, response
    page = response.content.decode()
    url = response.context["url"]
    assert f'http-equiv="refresh" content="0;url={url}"'.replace("&", "&amp;") in page
    return response, url


# SP-initiated --------------------------------------------------------------------------------


def test_sp_metadata_advertises_the_single_logout_service(client, profile):
    metadata = client.get(reverse("sso:saml2_metadata", args=[profile.sid])).content
    services = etree.fromstring(metadata).findall(".//md:SingleLogoutService", NS)
    assert [(s.get("Binding"), s.get("Location")) for s in services] == [
        ("urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect", sp_slo_url(profile))
    ]


def test_sign_out_ends_the_session_first_then_sends_a_signed_logout_request(client, idp, profile):
    sign_in(client, profile, idp)
    assert signed_in(client)
    session_index = client.session["sso_session_index"]
    assert session_index

    _, url = sign_out(client)

    assert not signed_in(client), "the local session ends before the IdP answers"
    assert url.startswith(IDP_SLO_URL + "?")
    request, query = redirect_message(url)
    assert request.tag == f"{{{SAMLP}}}LogoutRequest"
    assert request.get("Destination") == IDP_SLO_URL
    assert request.findtext("saml:Issuer", namespaces=NS) == reverse_entity_id(profile)
    name_id = request.find("saml:NameID", NS)
    assert (name_id.text, name_id.get("Format")) == (
        "grace@acme.test",
        "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
    )
    assert request.findtext("samlp:SessionIndex", namespaces=NS) == session_index
    assert_signed_by_sp(profile, url, "SAMLRequest")


def reverse_entity_id(profile) -> str:
    from sso.saml.config import sp_entity_id

    return sp_entity_id(profile)


def idp_answer(profile, idp: TestIdP, url: str, *, status: str = SUCCESS, keys=None, **query):
    request, sent = redirect_message(url)
    xml = logout_response_xml(
        issuer=profile.idp_issuer,
        destination=sp_slo_url(profile),
        in_response_to=request.get("ID"),
        status=status,
    )
    return redirect_query(
        keys if keys is not None else idp.keys,
        "SAMLResponse",
        xml,
        relay_state=sent.get("RelayState"),
        **query,
    )


def test_the_idps_signed_logout_response_confirms_the_sign_out(client, idp, profile):
    sign_in(client, profile, idp)
    _, url = sign_out(client)

    response = slo(client, profile, idp_answer(profile, idp, url))

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == reverse("sso:login")
    page = client.get(response["Location"]).content.decode()
    assert "You are signed out here and at your identity provider." in page
    assert not signed_in(client)


def test_a_logout_response_goes_on_to_the_profiles_default_redirect_url(client, idp):
    profile = ActiveProfileFactory(
        idp_slo_url=IDP_SLO_URL, default_redirect_url="https://app.acme.test/bye"
    )
    sign_in(client, profile, idp)
    _, url = sign_out(client)

    response = slo(client, profile, idp_answer(profile, idp, url))

    assert (response.status_code, response["Location"]) == (
        HTTPStatus.FOUND,
        "https://app.acme.test/bye",
    )


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("unsigned", "logout_signature_missing"),
        ("foreign_key", "logout_signature_invalid"),
        ("sha1", "logout_signature_invalid"),
    ],
)
def test_an_untrusted_logout_response_is_refused_and_recorded(
    client, idp, profile, foreign_keys, change, reason
):
    sign_in(client, profile, idp)
    _, url = sign_out(client)
    if change == "unsigned":
        query = idp_answer(profile, idp, url)
        query.pop("Signature")
        query.pop("SigAlg")
    elif change == "foreign_key":
        query = idp_answer(profile, idp, url, keys=foreign_keys)
    else:
        query = idp_answer(profile, idp, url, sig_alg="http://www.w3.org/2000/09/xmldsig#rsa-sha1")

    response = slo(client, profile, query)

    event = last_event()
    assert (event.outcome, event.reason) == (LoginOutcome.FAILURE, reason)
    assert response.status_code == HTTPStatus.FORBIDDEN
    page = response.content.decode()
    assert "You are signed out here." in page
    assert event.reference in page
    assert not signed_in(client)


def test_a_logout_response_to_no_request_of_this_browser_is_refused(client, idp, profile):
    sign_in(client, profile, idp)
    _, url = sign_out(client)
    query = idp_answer(profile, idp, url)
    assert slo(client, profile, query).status_code == HTTPStatus.FOUND

    again = slo(client, profile, query)  # answered already
    other_browser = slo(Client(), profile, query)

    for response in (again, other_browser):
        assert response.status_code == HTTPStatus.FORBIDDEN
    assert last_event().reason == "logout_unknown_response"


def test_an_idp_without_single_logout_url_signs_out_here_only(client, idp):
    profile = ActiveProfileFactory()
    sign_in(client, profile, idp)

    response = client.post(reverse("sso:logout"))

    assert (response.status_code, response["Location"]) == (HTTPStatus.FOUND, reverse("sso:login"))
    assert not signed_in(client)


def test_a_password_session_signs_out_here_only(client, profile):
    user = MembershipFactory(organization=profile.organization).user
    client.force_login(user)

    response = client.post(reverse("sso:logout"))

    assert response.status_code == HTTPStatus.FOUND
    assert not signed_in(client)


# IdP-initiated -------------------------------------------------------------------------------


def idp_logout_request(profile, idp: TestIdP, *, keys=None, sig_alg=RSA_SHA256, **changes):
    values = {
        "issuer": profile.idp_issuer,
        "destination": sp_slo_url(profile),
        "name_id": "grace@acme.test",
        **changes,
    }
    xml = logout_request_xml(**values)
    return redirect_query(
        keys if keys is not None else idp.keys,
        "SAMLRequest",
        xml,
        relay_state="idp-state-1",
        sig_alg=sig_alg,
    )


def test_an_idp_logout_request_ends_every_session_of_the_person(client, idp, profile):
    laptop, phone = Client(), Client()
    sign_in(laptop, profile, idp)
    sign_in(phone, profile, idp)
    query = idp_logout_request(profile, idp)

    # From a browser without our cookie (a front-channel iframe, another browser).
    response = client.get(reverse("sso:saml2_slo", args=[profile.sid]) + "?" + urlencode(query))

    assert not signed_in(laptop) and not signed_in(phone)
    assert response.status_code == HTTPStatus.FOUND
    url = response["Location"]
    assert url.startswith(IDP_SLO_URL + "?")
    answer, sent = redirect_message(url, "SAMLResponse")
    request, _ = redirect_message("x?" + urlencode(query))
    assert answer.get("InResponseTo") == request.get("ID")
    assert answer.find("samlp:Status/samlp:StatusCode", NS).get("Value") == SUCCESS
    assert sent["RelayState"] == "idp-state-1"
    assert_signed_by_sp(profile, url, "SAMLResponse")
    audit = AuditEvent.objects.get(action=AuditAction.IDP_LOGOUT)
    assert audit.changes["accounts_signed_out"] == ["grace@acme.test"]


def test_an_idp_logout_request_in_this_browser_signs_it_out(client, idp, profile):
    sign_in(client, profile, idp)

    response = slo(client, profile, idp_logout_request(profile, idp))

    assert response.status_code == HTTPStatus.FOUND
    assert not signed_in(client)


def test_an_idp_logout_request_for_a_linked_subject_ends_its_sessions(client, idp):
    """Keycloak's way: the NameID a persistent id, the email an attribute."""
    profile = ActiveProfileFactory(idp_slo_url=IDP_SLO_URL, email_attribute="mail")
    persistent = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
    sign_in(
        client,
        profile,
        idp,
        email="a1b2c3",
        name_id_format=persistent,
        attributes={"mail": "grace@acme.test"},
    )
    assert signed_in(client)
    query = idp_logout_request(profile, idp, name_id="a1b2c3", name_id_format=persistent)

    slo(Client(), profile, query)

    assert not signed_in(client)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("unsigned", "logout_signature_missing"),
        ("foreign_key", "logout_signature_invalid"),
        ("sha1", "logout_signature_invalid"),
        ("destination", "logout_malformed"),
        ("issuer", "issuer_mismatch"),
        ("old", "logout_malformed"),
    ],
)
def test_an_untrusted_idp_logout_request_changes_nothing(
    client, idp, profile, foreign_keys, change, reason
):
    sign_in(client, profile, idp)
    if change == "unsigned":
        query = idp_logout_request(profile, idp)
        query.pop("Signature")
        query.pop("SigAlg")
    elif change == "foreign_key":
        query = idp_logout_request(profile, idp, keys=foreign_keys)
    elif change == "sha1":
        query = idp_logout_request(
            profile, idp, sig_alg="http://www.w3.org/2000/09/xmldsig#rsa-sha1"
        )
    elif change == "destination":
        query = idp_logout_request(profile, idp, destination="https://elsewhere.test/slo")
    elif change == "issuer":
        query = idp_logout_request(profile, idp, issuer="https://other-idp.test")
    else:
        query = idp_logout_request(
            profile, idp, issue_instant=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30)
        )

    response = slo(Client(), profile, query)

    assert signed_in(client), "a refused logout request signs nobody out"
    assert response.status_code == HTTPStatus.FORBIDDEN
    event = last_event()
    assert (event.outcome, event.reason) == (LoginOutcome.FAILURE, reason), event.detail
    assert "could not be verified, so nothing was changed" in response.content.decode()


def test_a_replayed_idp_logout_request_is_refused(client, idp, profile):
    query = idp_logout_request(profile, idp)
    assert slo(Client(), profile, query).status_code == HTTPStatus.FOUND
    sign_in(client, profile, idp)  # signed in again since

    response = slo(Client(), profile, query)

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert signed_in(client)
    assert "already used" in last_event().detail["problem"]


def test_an_idp_logout_request_never_signs_out_another_organizations_person(client, idp, profile):
    other = ActiveProfileFactory(idp_slo_url=IDP_SLO_URL)
    sign_in(client, other, idp)  # grace@acme.test of the other organization
    assert get_user_model().objects.filter(email="grace@acme.test").count() == 1

    response = slo(Client(), profile, idp_logout_request(profile, idp))

    assert signed_in(client)
    answer, _ = redirect_message(response["Location"], "SAMLResponse")
    status = answer.find("samlp:Status/samlp:StatusCode/samlp:StatusCode", NS)
    assert status.get("Value") == UNKNOWN_PRINCIPAL


def test_a_logout_request_by_post_is_not_accepted(client, idp, profile):
    response = client.post(
        reverse("sso:saml2_slo", args=[profile.sid]), idp_logout_request(profile, idp)
    )
    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED


# Hostile messages ----------------------------------------------------------------------------

BOMB_BYTES = 40 * 1024 * 1024  # deflates to under MAX_MESSAGE_CHARS of base64


def test_a_logout_request_signed_by_nobody_is_refused_before_it_is_inflated(
    client, idp, profile, foreign_keys
):
    """A deflate bomb costs its sender a few kilobytes and us its inflated size, unless the
    signature is checked first."""
    xml = logout_request_xml(
        issuer=profile.idp_issuer, destination=sp_slo_url(profile), name_id="grace@acme.test"
    )
    query = redirect_query(foreign_keys, "SAMLRequest", xml + " " * BOMB_BYTES)

    tracemalloc.start()
    try:
        response = slo(Client(), profile, query)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert last_event().reason == "logout_signature_invalid"
    assert peak < BOMB_BYTES // 10, f"{peak} bytes allocated for a refused request"


def idp_message_xml(client: Client, profile, idp: TestIdP, message: str, extensions="") -> str:
    """Sign `client` in; the IdP's LogoutRequest naming the person ("SAMLRequest"), or, after
    Sign out, its LogoutResponse answering ours ("SAMLResponse")."""
    sign_in(client, profile, idp)
    if message == "SAMLRequest":
        return logout_request_xml(
            issuer=profile.idp_issuer,
            destination=sp_slo_url(profile),
            name_id="grace@acme.test",
            extensions=extensions,
        )
    _, url = sign_out(client)
    request, _ = redirect_message(url)
    return logout_response_xml(
        issuer=profile.idp_issuer, destination=sp_slo_url(profile), in_response_to=request.get("ID")
    )


def deeply_nested(depth: int) -> str:
    return "<x:e xmlns:x='urn:x'>" * depth + "</x:e>" * depth


@pytest.mark.parametrize(
    ("message", "padding", "problem"),
    [
        ("SAMLRequest", " " * BOMB_BYTES, "inflates to more than"),
        ("SAMLResponse", " " * BOMB_BYTES, "inflates to more than"),
        ("SAMLRequest", "deep", "nested more than 64 deep"),
    ],
)
def test_a_signed_logout_message_beyond_the_bounds_is_refused(
    client, idp, profile, message, padding, problem
):
    """Even the IdP's own signature does not make us inflate or parse without bounds."""
    deep = padding == "deep"
    xml = idp_message_xml(client, profile, idp, message, deeply_nested(80) if deep else "")
    xml += "" if deep else padding

    response = slo(client, profile, redirect_query(idp.keys, message, xml))

    assert response.status_code == HTTPStatus.FORBIDDEN
    event = last_event()
    assert event.reason == "logout_malformed", event.detail
    assert problem in event.detail["problem"]


@pytest.mark.parametrize("message", ["SAMLRequest", "SAMLResponse"])
def test_a_signature_that_is_not_base64_is_refused_not_an_error(client, idp, profile, message):
    sign_in(client, profile, idp)
    if message == "SAMLRequest":
        query = idp_logout_request(profile, idp)
    else:
        _, url = sign_out(client)
        query = idp_answer(profile, idp, url)
    query["Signature"] = "abc"

    response = Client(raise_request_exception=False).get(
        reverse("sso:saml2_slo", args=[profile.sid]) + "?" + urlencode(query)
    )

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert last_event().reason == "logout_signature_invalid"


@pytest.mark.parametrize("message", ["SAMLRequest", "SAMLResponse"])
def test_a_logout_message_to_a_draft_profile_is_refused_not_an_error(idp, message):
    draft = SSOProfileFactory(idp_slo_url=IDP_SLO_URL)
    query = redirect_query(idp.keys, message, "<samlp:LogoutRequest/>")

    response = Client(raise_request_exception=False).get(
        reverse("sso:saml2_slo", args=[draft.sid]) + "?" + urlencode(query)
    )

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert last_event().reason == "logout_signature_invalid"


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"destination": None}, "no Destination"),
        (
            {"not_on_or_after": dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)},
            "expired at",
        ),
    ],
)
def test_a_signed_logout_request_without_destination_or_expired_changes_nothing(
    client, idp, profile, changes, problem
):
    """SAML bindings 3.4.5.2: a signed message names where it is sent; SAML core 3.7.1: a
    LogoutRequest past its NotOnOrAfter is discarded."""
    sign_in(client, profile, idp)

    response = slo(Client(), profile, idp_logout_request(profile, idp, **changes))

    assert signed_in(client)
    assert response.status_code == HTTPStatus.FORBIDDEN
    event = last_event()
    assert event.reason == "logout_malformed"
    assert problem in event.detail["problem"]


def lower_case_encoded(keys, message: str, xml: str, relay_state: str) -> str:
    """An HTTP-Redirect query as Entra ID and AD FS encode it, percent-escapes in lower case,
    signed over those very bytes (URL-encoding is not canonical: SAML bindings 3.4.4.1)."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    encoded = base64.b64encode(deflate.compress(xml.encode()) + deflate.flush()).decode()
    signed = "&".join(
        f"{name}=" + re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), quote(value, safe=""))
        for name, value in ((message, encoded), ("RelayState", relay_state), ("SigAlg", RSA_SHA256))
    )
    assert "%2f" in signed
    signature = keys.private_key.sign(signed.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signed}&Signature={quote(base64.b64encode(signature).decode(), safe='')}"


@pytest.mark.parametrize("message", ["SAMLRequest", "SAMLResponse"])
def test_a_logout_message_encoded_in_lower_case_verifies(client, idp, profile, message):
    xml = idp_message_xml(client, profile, idp, message)
    other = Client() if message == "SAMLRequest" else client  # a LogoutResponse: its browser
    query = lower_case_encoded(idp.keys, message, xml, relay_state="https://app.acme.test/x")

    response = other.get(reverse("sso:saml2_slo", args=[profile.sid]) + "?" + query)

    assert response.status_code == HTTPStatus.FOUND, last_event().detail
    assert not signed_in(client)


def test_a_signature_covers_only_the_saml_request_it_was_made_over(client, idp, profile):
    """A second SAMLRequest beside a signed one is what a decoded query would use."""
    sign_in(client, profile, idp)
    signed = idp_logout_request(profile, idp, name_id="someone@acme.test")
    other = idp_logout_request(profile, idp)

    response = Client().get(
        reverse("sso:saml2_slo", args=[profile.sid])
        + "?"
        + urlencode(signed)
        + "&"
        + urlencode({"SAMLRequest": other["SAMLRequest"]})
    )

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert last_event().reason == "logout_signature_invalid"
    assert signed_in(client)
