"""Single logout with a profile's IdP: pysaml2's LogoutRequest and LogoutResponse, through
djangosaml2's client and its session-held state, over HTTP-Redirect with RSA-SHA256.

SP-initiated: `logout_request_url` signs a LogoutRequest naming the NameID and SessionIndex the
sign-in received; pysaml2 remembers its id in the session (djangosaml2's StateCache), and
`logout_response_read` accepts only the signed LogoutResponse answering it.
IdP-initiated: `idp_logout_request_read` verifies the IdP's signed LogoutRequest, and
`idp_logout_response_url` answers it with a signed LogoutResponse.

pysaml2 as an SP verifies neither signature on its own: it requires a LogoutRequest's only
where an IdP config asks AuthnRequests to be signed, and never checks a redirected
LogoutResponse's; where it does, it inflates and parses the message, without bounds, first, and
verifies a re-encoding of the query, not the query as received. Both signatures are required
here, with pysaml2's signer, over the bytes the IdP signed, before anything else; only then is
the message inflated, within bounds, and its shape checked as the ACS checks a Response's
(facts.py), before pysaml2 reads it.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import zlib
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from django.conf import settings
from djangosaml2.cache import StateCache
from djangosaml2.utils import get_location
from lxml import etree
from saml2 import BINDING_HTTP_REDIRECT
from saml2.ident import decode
from saml2.response import IncorrectlySigned, LogoutResponse
from saml2.s_utils import UnknownPrincipal, status_message_factory, success_status_factory
from saml2.samlp import STATUS_UNKNOWN_PRINCIPAL
from saml2.sigver import extract_rsa_key_from_x509_cert, pem_format
from saml2.xmldsig import SIG_RSA_SHA256

from sso.models import SSOProfile
from sso.reasons import LoginRefused, Reason
from sso.saml.config import ProfileSigningKey, sp_config_for
from sso.saml.facts import SAFE_PARSER, shape_problem
from sso.saml.metadata import saml_instant
from sso.saml.pysaml2.client import ProfileSaml2Client

MAX_MESSAGE_CHARS = 64 * 1024  # a deflated, base64 logout message is a few hundred bytes
MAX_INFLATED_BYTES = 64 * 1024  # and a few kilobytes inflated; a deflate bomb stops here


class ProfileLogoutClient(ProfileSaml2Client):
    """djangosaml2's client for one profile's logout messages, signing with the profile's key;
    the ids of the LogoutRequests it sends are kept in the session (djangosaml2's StateCache)."""

    def __init__(self, profile: SSOProfile, session: MutableMapping[str, Any]) -> None:
        self.state_cache = StateCache(session)
        super().__init__(
            sp_config_for(profile),
            in_process=settings.SSO_SIGNATURE_BACKEND == "inprocess",
            state_cache=self.state_cache,
        )
        # The HTTP-Redirect binding's signer and verifier: RSA-SHA256 only.
        self.sec.sec_backend = ProfileSigningKey(profile)
        self.profile = profile

    def redirect_signature_verifies(
        self, query: Mapping[str, str], query_string: str, message: str
    ) -> bool:
        """The HTTP-Redirect signature of `message` ("SAMLRequest" or "SAMLResponse"), checked
        with pysaml2's signer against each certificate the profile trusts (none for a draft
        without an issuer)."""
        octets = _signed_octets(query, query_string, message)
        if octets is None or self.sec.metadata is None:
            return False
        try:
            certificates = self.sec.metadata.certs(self.profile.idp_issuer, "any", "signing")
        except KeyError:
            return False
        signer = self.sec.sec_backend.get_signer(query["SigAlg"])
        signature = base64.b64decode(query["Signature"])
        return any(
            signer.verify(octets, signature, extract_rsa_key_from_x509_cert(pem_format(cert)))
            for _, cert in certificates
        )


def _signed_octets(query: Mapping[str, str], query_string: str, message: str) -> bytes | None:
    """What the IdP signed (SAML bindings 3.4.4.1): `message`, RelayState and SigAlg as they are
    in the query string received, since URL-encoding is not canonical (Entra ID and AD FS encode
    in lower case; pysaml2 verifies its own re-encoding, in upper case). None unless each of
    them is there once and decodes to the value `query` holds, which is the value used."""
    names = [name for name in (message, "RelayState", "SigAlg") if name in query]
    received: dict[str, str] = {}
    for part in query_string.split("&"):
        name, _, value = part.partition("=")
        if name in (message, "RelayState", "SigAlg"):
            if name in received:
                return None
            received[name] = value
    if set(received) != set(names):
        return None
    if any(unquote_plus(received[name]) != query[name] for name in names):
        return None
    return "&".join(f"{name}={received[name]}" for name in names).encode()


def _check_redirect_query(query: Mapping[str, str], message: str) -> None:
    if len(query.get(message, "")) > MAX_MESSAGE_CHARS:
        raise LoginRefused(Reason.LOGOUT_MALFORMED, problem=f"{message} is too large")
    if not query.get("Signature") or not query.get("SigAlg"):
        raise LoginRefused(
            Reason.LOGOUT_SIGNATURE_MISSING,
            message="LogoutRequest" if message == "SAMLRequest" else "LogoutResponse",
        )
    if query["SigAlg"] != SIG_RSA_SHA256:
        raise LoginRefused(
            Reason.LOGOUT_SIGNATURE_INVALID, problem=f"signed with {query['SigAlg'][:200]}"
        )
    try:
        base64.b64decode(query["Signature"])
    except (binascii.Error, ValueError):
        raise LoginRefused(
            Reason.LOGOUT_SIGNATURE_INVALID, problem="the Signature is not base64"
        ) from None


def _check_signed_message(
    client: ProfileLogoutClient, query: Mapping[str, str], query_string: str, message: str
) -> None:
    """Refuse `message` unless the profile's IdP signed it, and unless it inflates to a well-formed
    document of a logout message's size and shape: all before pysaml2 reads it."""
    _check_redirect_query(query, message)
    if not client.redirect_signature_verifies(query, query_string, message):
        raise LoginRefused(
            Reason.LOGOUT_SIGNATURE_INVALID,
            message="LogoutRequest" if message == "SAMLRequest" else "LogoutResponse",
            problem="no certificate of this profile verifies it",
        )
    inflater = zlib.decompressobj(-15)
    try:
        xml = inflater.decompress(base64.b64decode(query[message]), MAX_INFLATED_BYTES + 1)
    except (binascii.Error, ValueError, zlib.error):
        raise LoginRefused(
            Reason.LOGOUT_MALFORMED, problem=f"{message} is not deflated base64"
        ) from None
    if len(xml) > MAX_INFLATED_BYTES:
        raise LoginRefused(
            Reason.LOGOUT_MALFORMED,
            problem=f"{message} inflates to more than {MAX_INFLATED_BYTES} bytes",
        )
    try:
        root = etree.fromstring(xml, SAFE_PARSER)
    except etree.XMLSyntaxError:
        raise LoginRefused(Reason.LOGOUT_MALFORMED, problem="not well-formed XML") from None
    problem = (
        "a DOCTYPE is not allowed" if root.getroottree().docinfo.doctype else shape_problem(root)
    )
    if problem:
        raise LoginRefused(Reason.LOGOUT_MALFORMED, problem=problem)


def logout_request_url(
    *,
    profile: SSOProfile,
    subject_id: str,
    session_index: str,
    session: MutableMapping[str, Any],
) -> str | None:
    """The IdP URL carrying a signed LogoutRequest for this sign-in, or None when the IdP has
    no single logout URL. Its id is kept in `session` for the LogoutResponse."""
    if not (profile.idp_slo_url and profile.is_configured and subject_id):
        return None
    client = ProfileLogoutClient(profile, session)
    name_id = decode(subject_id)
    client.users.add_information_about_person(
        {
            "name_id": name_id,
            "issuer": profile.idp_issuer,
            "not_on_or_after": 0,
            "ava": {},
            "session_index": session_index or None,
        }
    )
    result = client.global_logout(name_id, sign=True, sign_alg=SIG_RSA_SHA256)
    client.state_cache.sync()
    for outcome in result.values():
        binding, http_info = outcome
        if binding == BINDING_HTTP_REDIRECT:
            return get_location(http_info)
    return None


@dataclass(frozen=True)
class IdPLogoutRequest:
    """What a verified LogoutRequest of the IdP names."""

    request_id: str
    issue_instant: dt.datetime | None
    not_on_or_after: dt.datetime | None
    name_id: str
    name_id_format: str
    session_indexes: tuple[str, ...]
    relay_state: str
    # pysaml2's verified LogoutRequest, which the LogoutResponse answers.
    message: Any


def idp_logout_request_read(
    *,
    profile: SSOProfile,
    query: Mapping[str, str],
    query_string: str,
    session: MutableMapping[str, Any],
) -> IdPLogoutRequest:
    """The IdP's LogoutRequest, its signature, Destination (required), issuer and time verified
    by pysaml2; LoginRefused else."""
    client = ProfileLogoutClient(profile, session)
    _check_signed_message(client, query, query_string, "SAMLRequest")
    try:
        parsed = client.parse_logout_request(query["SAMLRequest"], BINDING_HTTP_REDIRECT)
    except Exception as error:  # pysaml2 raises a dozen kinds: none of them signs anyone out
        raise _refusal(error) from None
    message = parsed.message if parsed else None
    if message is None or message.name_id is None:
        raise LoginRefused(Reason.LOGOUT_MALFORMED, problem="no NameID")
    issuer = (message.issuer.text or "").strip() if message.issuer is not None else ""
    if issuer != profile.idp_issuer:
        raise LoginRefused(
            Reason.ISSUER_MISMATCH, received=issuer[:200], expected=profile.idp_issuer
        )
    if not message.destination:  # SAML bindings 3.4.5.2: a signed message must name it
        raise LoginRefused(Reason.LOGOUT_MALFORMED, problem="no Destination")
    return IdPLogoutRequest(
        request_id=message.id,
        issue_instant=saml_instant(message.issue_instant),
        not_on_or_after=saml_instant(message.not_on_or_after),
        name_id=(message.name_id.text or "").strip(),
        name_id_format=message.name_id.format or "",
        session_indexes=tuple((index.text or "").strip() for index in message.session_index or []),
        relay_state=query.get("RelayState", ""),
        message=message,
    )


def idp_logout_response_url(
    *,
    profile: SSOProfile,
    logout: IdPLogoutRequest,
    session: MutableMapping[str, Any],
    signed_out: bool,
) -> str | None:
    """The IdP URL carrying our signed LogoutResponse to its LogoutRequest, verified by
    `idp_logout_request_read` (Success, or UnknownPrincipal when nobody was signed in under
    that NameID); None when the IdP has no single logout URL to answer at."""
    if not profile.idp_slo_url:
        return None
    client = ProfileLogoutClient(profile, session)
    status = (
        success_status_factory()
        if signed_out
        else status_message_factory(
            "Nobody is signed in under this NameID", STATUS_UNKNOWN_PRINCIPAL
        )
    )
    response = client.create_logout_response(
        logout.message, bindings=[BINDING_HTTP_REDIRECT], status=status, sign=False
    )
    destination = client.response_args(logout.message, [BINDING_HTTP_REDIRECT])["destination"]
    http_info = client.apply_binding(
        BINDING_HTTP_REDIRECT,
        response,
        destination,
        logout.relay_state,
        response=True,
        sign=True,
        sigalg=SIG_RSA_SHA256,
    )
    return get_location(http_info)


def logout_response_read(
    *,
    profile: SSOProfile,
    query: Mapping[str, str],
    query_string: str,
    session: MutableMapping[str, Any],
) -> bool:
    """Whether the IdP's signed LogoutResponse, answering the LogoutRequest this browser sent,
    says the person is signed out there; LoginRefused when it is not one we can trust."""
    client = ProfileLogoutClient(profile, session)
    _check_signed_message(client, query, query_string, "SAMLResponse")
    try:
        response: LogoutResponse | None = client.parse_logout_request_response(
            query["SAMLResponse"], BINDING_HTTP_REDIRECT
        )
    except Exception as error:  # as above: whatever pysaml2 refuses is refused
        raise _refusal(error) from None
    if response is None:
        raise LoginRefused(Reason.LOGOUT_MALFORMED, problem="not a LogoutResponse")
    in_response_to = response.in_response_to or ""
    if in_response_to not in client.state_cache:
        raise LoginRefused(Reason.LOGOUT_UNKNOWN_RESPONSE, in_response_to=in_response_to[:200])
    del client.state_cache[in_response_to]
    client.state_cache.sync()
    issuer = (response.issuer() or "").strip()
    if issuer != profile.idp_issuer:
        raise LoginRefused(
            Reason.ISSUER_MISMATCH, received=issuer[:200], expected=profile.idp_issuer
        )
    return response.status_ok()


def _refusal(error: Exception) -> LoginRefused:
    if isinstance(error, IncorrectlySigned):
        return LoginRefused(Reason.LOGOUT_SIGNATURE_INVALID, problem=str(error)[:200])
    if isinstance(error, UnknownPrincipal):
        return LoginRefused(Reason.LOGOUT_MALFORMED, problem="unknown principal")
    return LoginRefused(
        Reason.LOGOUT_MALFORMED, problem=f"{type(error).__name__}: {str(error)[:200]}"
    )
