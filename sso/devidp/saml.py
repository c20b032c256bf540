"""The demo IdP's SAML side: pysaml2's own IdP (`saml2.server.Server`), signing Response and
Assertion with an RSA key made at first use and kept under SSO_DEMO_IDP_DIR (var/, gitignored).

The SPs it answers are the SSO profiles that name it as their IdP; it verifies each
AuthnRequest's HTTP-Redirect signature with that profile's SP certificate, and posts its
Response only to the ACS URL of that profile's SP metadata, never to one the request names.

Single logout, HTTP-Redirect both ways: it answers an SP's LogoutRequest, its signature required
by pysaml2's Server as for an AuthnRequest, with a signed LogoutResponse to the SP's single
logout URL of its metadata; and sends its own signed LogoutRequest there, accepting only a
LogoutResponse signed with one of the SP's certificates.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import logging
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.urls import reverse
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, SAMLError
from saml2.config import IdPConfig
from saml2.metadata import entity_descriptor
from saml2.request import AuthnRequest, LogoutRequest
from saml2.response import LogoutResponse, StatusError
from saml2.s_utils import OtherError, SamlException, VersionMismatch, decode_base64_and_inflate
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS, NameID
from saml2.samlp import authn_request_from_string, logout_request_from_string
from saml2.server import Server
from saml2.sigver import RSASigner, verify_redirect_signature
from saml2.validate import NotValid
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from sso.models import SSOProfile
from sso.saml.config import sp_entity_id
from sso.saml.metadata import sp_metadata_xml

logger = logging.getLogger(__name__)

DEMO_DOMAIN = "demo-sso.test"
CERTIFICATE_DAYS = 3650
# The parameters of an HTTP-Redirect AuthnRequest, carried through the sign-in page unchanged:
# the request is verified again when the person chooses, so the page keeps no state.
REDIRECT_PARAMETERS = ("SAMLRequest", "RelayState", "SigAlg", "Signature")
RESPONSE_PARAMETERS = ("SAMLResponse", "RelayState", "SigAlg", "Signature")


@dataclass(frozen=True)
class Person:
    username: str
    first_name: str
    last_name: str

    @property
    def email(self) -> str:
        return f"{self.username}@{DEMO_DOMAIN}"

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


PEOPLE = (
    Person("grace", "Grace", "Hopper"),
    Person("ada", "Ada", "Lovelace"),
    Person("alan", "Alan", "Turing"),
)


class DemoRequestError(Exception):
    """The AuthnRequest, LogoutRequest or LogoutResponse is missing, unreadable, badly signed,
    or from an SP we do not serve."""


@dataclass(frozen=True)
class DemoRequest:
    """A verified AuthnRequest: who asked, and where its answer goes."""

    profile: SSOProfile
    request_id: str
    acs_url: str
    relay_state: str | None
    parameters: dict[str, str]


@dataclass(frozen=True)
class DemoSignIn:
    """A signed SAMLResponse (base64), and the SessionIndex of its AuthnStatement."""

    saml_response: str
    session_index: str


@dataclass(frozen=True)
class DemoLogout:
    """A verified LogoutRequest of an SP: whom it names, and the URL of the signed answer."""

    profile: SSOProfile
    name_id: str
    session_indexes: tuple[str, ...]
    response_url: str


@dataclass(frozen=True)
class DemoLogoutStart:
    """The URL carrying the demo IdP's signed LogoutRequest to the SP, and its ID."""

    url: str
    request_id: str


def entity_id() -> str:
    return settings.SSO_PUBLIC_BASE_URL + reverse("devidp:metadata")


def sso_url() -> str:
    return settings.SSO_PUBLIC_BASE_URL + reverse("devidp:sso")


def slo_url() -> str:
    return settings.SSO_PUBLIC_BASE_URL + reverse("devidp:slo")


def signing_files() -> tuple[Path, Path]:
    """The key and certificate files, made at first use (RSA-2048, self-signed, 10 years)."""
    folder = Path(settings.SSO_DEMO_IDP_DIR)
    key_path, cert_path = folder / "signing.key", folder / "signing.crt"
    if key_path.exists() and cert_path.exists():
        return key_path, cert_path
    folder.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Admin Center demo IdP")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=CERTIFICATE_DAYS))
        .sign(key, hashes.SHA256())
    )
    key_path.touch(mode=0o600)
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    logger.info("Demo IdP signing key created in %s", folder)
    return key_path, cert_path


def certificate_pem() -> str:
    return signing_files()[1].read_text()


def _config(sp_metadata: str | None) -> IdPConfig:
    key_path, cert_path = signing_files()
    config = IdPConfig()
    config.load(
        {
            "entityid": entity_id(),
            "key_file": str(key_path),
            "cert_file": str(cert_path),
            "metadata": {"inline": [sp_metadata]} if sp_metadata else {},
            "xmlsec_binary": settings.SSO_XMLSEC_BINARY or None,
            "service": {
                "idp": {
                    "name": "Admin Center demo IdP",
                    "endpoints": {
                        "single_sign_on_service": [(sso_url(), BINDING_HTTP_REDIRECT)],
                        "single_logout_service": [(slo_url(), BINDING_HTTP_REDIRECT)],
                    },
                    # pysaml2's Server requires the signature of every request it parses with
                    # this: AuthnRequest and LogoutRequest alike (HTTP-Redirect: the query's).
                    "want_authn_requests_signed": True,
                    "name_id_format": [NAMEID_FORMAT_EMAILADDRESS],
                    "policy": {
                        "default": {"lifetime": {"minutes": 5}, "attribute_restrictions": None}
                    },
                }
            },
        }
    )
    return config


def metadata_xml() -> str:
    descriptor = entity_descriptor(_config(None))
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + descriptor.to_string().decode()


def _profile_for(sp: str) -> SSOProfile | None:
    """The profile whose SP sent this, among those that name this IdP."""
    for profile in SSOProfile.objects.filter(idp_issuer=entity_id()).select_related("organization"):
        if sp_entity_id(profile) == sp:
            return profile
    return None


class _DemoSigningKey:
    """The demo IdP's HTTP-Redirect signer and verifier, RSA-SHA256 only: a fresh signer per
    call, as config.py's ProfileSigningKey, since pysaml2's RSACrypto keeps its key on a signer
    shared by the whole process."""

    def __init__(self, key_path: Path) -> None:
        self._key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)

    def get_signer(self, sigalg: str, sigkey: object = None) -> RSASigner | None:
        if sigalg != SIG_RSA_SHA256:
            return None
        return RSASigner(hashes.SHA256(), key=sigkey or self._key)


def profile_get(sid: str) -> SSOProfile | None:
    """The profile `sid`, if it still names this IdP."""
    return (
        SSOProfile.objects.select_related("organization")
        .filter(sid=sid, idp_issuer=entity_id())
        .first()
    )


def _server_for(profile: SSOProfile) -> Server:
    server = Server(config=_config(sp_metadata_xml(profile)))
    server.sec.sec_backend = _DemoSigningKey(signing_files()[0])
    return server


def _kept(parameters: Mapping[str, str], names: tuple[str, ...]) -> dict[str, str]:
    return {name: parameters[name] for name in names if name in parameters}


def _location(http_info: dict) -> str:
    return dict(http_info["headers"])["Location"]


def _sender(kept: Mapping[str, str], from_string: Callable[[str], Any]) -> SSOProfile:
    """The profile whose SP sent this SAMLRequest, read unverified only to find which SP's
    metadata (and certificate) the request is checked against."""
    encoded = kept.get("SAMLRequest", "")
    if not encoded:
        raise DemoRequestError("no SAMLRequest")
    try:
        unverified = from_string(decode_base64_and_inflate(encoded))
    except (binascii.Error, zlib.error, ValueError, SyntaxError) as exc:
        raise DemoRequestError("unreadable SAMLRequest") from exc
    sp = unverified.issuer.text if unverified is not None and unverified.issuer else ""
    profile = _profile_for(sp)
    if profile is None:
        raise DemoRequestError("no SSO profile names the demo IdP for this SP")
    return profile


def read_request(parameters: dict[str, str]) -> DemoRequest:
    """Verify an HTTP-Redirect AuthnRequest (its query parameters); raise DemoRequestError."""
    kept = _kept(parameters, REDIRECT_PARAMETERS)
    profile = _sender(kept, authn_request_from_string)
    encoded = kept["SAMLRequest"]
    server = _server_for(profile)
    try:
        parsed: AuthnRequest | None = server.parse_authn_request(
            encoded,
            BINDING_HTTP_REDIRECT,
            relay_state=kept.get("RelayState"),
            sigalg=kept.get("SigAlg"),
            signature=kept.get("Signature"),
        )
        if parsed is None:
            raise DemoRequestError("unreadable SAMLRequest")
        arguments = server.response_args(parsed.message, [BINDING_HTTP_POST])
    except (SAMLError, SamlException, OtherError, VersionMismatch, NotValid, ValueError) as exc:
        raise DemoRequestError(f"refused AuthnRequest ({exc.__class__.__name__})") from exc
    return DemoRequest(
        profile=profile,
        request_id=arguments["in_response_to"],
        acs_url=arguments["destination"],
        relay_state=kept.get("RelayState"),
        parameters=kept,
    )


def signed_response(*, request: DemoRequest, person: Person) -> DemoSignIn:
    """The base64 SAMLResponse for this person, Response and Assertion signed (RSA-SHA256)."""
    server = _server_for(request.profile)
    response = server.create_authn_response(
        identity={
            "email": [person.email],
            "givenName": [person.first_name],
            "sn": [person.last_name],
        },
        in_response_to=request.request_id,
        destination=request.acs_url,
        sp_entity_id=sp_entity_id(request.profile),
        name_id=NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=person.email),
        authn={
            "class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport",
            "authn_auth": entity_id(),
        },
        sign_response=True,
        sign_assertion=True,
        sign_alg=SIG_RSA_SHA256,
        digest_alg=DIGEST_SHA256,
    )
    # pysaml2 keeps the assertion it made (in memory, for this Server only): its SessionIndex.
    [(assertion, _)] = server.session_db.assertion.values()
    return DemoSignIn(
        saml_response=base64.b64encode(str(response).encode()).decode(),
        session_index=assertion.authn_statement[0].session_index,
    )


def answer_logout_request(parameters: Mapping[str, str]) -> DemoLogout:
    """Verify an SP's HTTP-Redirect LogoutRequest and sign its Success LogoutResponse, sent by
    HTTP-Redirect to the SP's single logout URL; raise DemoRequestError."""
    kept = _kept(parameters, REDIRECT_PARAMETERS)
    profile = _sender(kept, logout_request_from_string)
    encoded = kept["SAMLRequest"]
    server = _server_for(profile)
    try:
        parsed: LogoutRequest | None = server.parse_logout_request(
            encoded,
            BINDING_HTTP_REDIRECT,
            relay_state=kept.get("RelayState"),
            sigalg=kept.get("SigAlg"),
            signature=kept.get("Signature"),
        )
        if parsed is None or parsed.message.name_id is None:
            raise DemoRequestError("unreadable SAMLRequest")
        message = parsed.message
        response = server.create_logout_response(message, [BINDING_HTTP_REDIRECT], sign=False)
        destination = server.response_args(message, [BINDING_HTTP_REDIRECT])["destination"]
        http_info = server.apply_binding(
            BINDING_HTTP_REDIRECT,
            str(response),
            destination,
            kept.get("RelayState", ""),
            response=True,
            sign=True,
            sigalg=SIG_RSA_SHA256,
        )
    except (SAMLError, SamlException, OtherError, VersionMismatch, NotValid, ValueError) as exc:
        raise DemoRequestError(f"refused LogoutRequest ({exc.__class__.__name__})") from exc
    return DemoLogout(
        profile=profile,
        name_id=(message.name_id.text or "").strip(),
        session_indexes=tuple((index.text or "").strip() for index in message.session_index or []),
        response_url=_location(http_info),
    )


def logout_request_start(*, profile: SSOProfile, email: str, session_index: str) -> DemoLogoutStart:
    """The demo IdP's signed LogoutRequest for this person (NameID: their email), by
    HTTP-Redirect to the single logout URL of the profile's SP metadata."""
    server = _server_for(profile)
    sp = sp_entity_id(profile)
    [service, *_] = server.metadata.single_logout_service(sp, BINDING_HTTP_REDIRECT, "spsso")
    request_id, request = server.create_logout_request(
        service["location"],
        sp,
        name_id=NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=email),
        session_indexes=[session_index] if session_index else None,
        sign=False,
    )
    http_info = server.apply_binding(
        BINDING_HTTP_REDIRECT,
        str(request),
        service["location"],
        "",
        sign=True,
        sigalg=SIG_RSA_SHA256,
    )
    return DemoLogoutStart(url=_location(http_info), request_id=request_id)


def read_logout_response(
    *, profile: SSOProfile, parameters: Mapping[str, str], request_id: str
) -> bool:
    """Whether the SP's LogoutResponse to the demo IdP's LogoutRequest `request_id` says it
    signed the person out; DemoRequestError unless it is signed with a certificate of the SP's
    metadata (RSA-SHA256), from that SP, and answers that request."""
    kept = _kept(parameters, RESPONSE_PARAMETERS)
    if not kept.get("SAMLResponse"):
        raise DemoRequestError("no SAMLResponse")
    if kept.get("SigAlg") != SIG_RSA_SHA256 or not kept.get("Signature"):
        raise DemoRequestError("the LogoutResponse is not signed with RSA-SHA256")
    server = _server_for(profile)
    sp = sp_entity_id(profile)
    try:
        verified = any(
            verify_redirect_signature(kept, server.sec.sec_backend, certificate)
            for _, certificate in server.metadata.certs(sp, "spsso", "signing")
        )
        if not verified:
            raise DemoRequestError("no certificate of the SP verifies the LogoutResponse")
        response: LogoutResponse | None = server.parse_logout_request_response(
            kept["SAMLResponse"], BINDING_HTTP_REDIRECT
        )
    except (SAMLError, SamlException, OtherError, VersionMismatch, NotValid, ValueError) as exc:
        raise DemoRequestError(f"refused LogoutResponse ({exc.__class__.__name__})") from exc
    if response is None or (response.issuer() or "").strip() != sp:
        raise DemoRequestError("the LogoutResponse is not from this SP")
    if not request_id or response.in_response_to != request_id:
        raise DemoRequestError("the LogoutResponse answers no LogoutRequest of this browser")
    try:
        return response.status_ok()
    except StatusError:  # pysaml2 raises for any status but Success
        return False


def person_for(email: str) -> Person | None:
    """A listed person, or anyone of the demo domain (named after the address)."""
    email = email.strip().lower()
    for person in PEOPLE:
        if person.email == email:
            return person
    username, _, domain = email.rpartition("@")
    if domain != DEMO_DOMAIN or not username:
        return None
    return Person(username, username.split(".")[0].capitalize(), "")
