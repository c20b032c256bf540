"""The Assertion Consumer Service pipeline: from a posted SAMLResponse to a verified login.

Order matters. Shape and claims are checked first on the untrusted document (they can only
refuse). The AuthnRequest the response answers is then used up as it is found (it is bound to
this browser, and a request is answered once, even by a refused response). Then pysaml2
verifies the signatures the profile's signature policy requires, and any other one present,
with the profile's certificates (in process by default,
sso/saml/pysaml2/client.py), and only then is the assertion id remembered, for replay protection.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from saml2 import BINDING_HTTP_POST
from saml2.ident import code
from saml2.response import (
    IncorrectlySigned,
    StatusError,
    UnsolicitedResponse,
    VerificationError,
)
from saml2.sigver import MissingKey, SignatureError
from saml2.validate import ResponseLifetimeExceed, ToEarly

from sso.crypto import fingerprint_of
from sso.infrastructure import (
    INFRASTRUCTURE_ERRORS,
    infrastructure_component,
    infrastructure_unavailable_log,
)
from sso.models import SSOProfile
from sso.reasons import LoginRefused, Reason
from sso.saml.config import saml_client_for, sp_acs_url, sp_entity_id
from sso.saml.facts import ResponseFacts, check_claims, read_response
from sso.saml.pending import PendingRequest, pending_request_consume, pending_request_take
from sso.saml.pysaml2.signature import ReceivedDocument

_REPLAY_KEY = "sso:assertion-seen:{}"
_MAX_REPLAY_WINDOW = dt.timedelta(days=1)


@dataclass
class VerifiedLogin:
    """What a verified response asserts. Which claim is the email is the login layer's
    mapping (sso/backends.py), not the protocol's."""

    profile: SSOProfile
    name_id: str
    name_id_format: str
    issuer: str
    assertion_id: str
    in_response_to: str
    pending: PendingRequest | None
    attributes: dict[str, list[str]] = field(default_factory=dict)
    signature_algorithms: list[str] = field(default_factory=list)
    verifying_certificate: str = ""
    # Which elements carried a verified signature, and the policy that required them.
    signed: list[str] = field(default_factory=list)
    signature_policy: str = ""
    clock_difference_seconds: int | None = None
    # From the signed assertion's AuthnStatement (read_response found the one assertion
    # pysaml2 then verified): when the person authenticated, and the IdP's session limit.
    authn_instant: dt.datetime | None = None
    session_not_on_or_after: dt.datetime | None = None
    # The NameID as pysaml2 codes it (with its qualifiers) and the AuthnStatement's
    # SessionIndex: what a LogoutRequest to the IdP names.
    subject_id: str = ""
    session_index: str = ""
    # The assertion's issuer and id, hashed, and until when they must stay refused.
    replay_digest: str = ""
    replay_until: dt.datetime | None = None

    @property
    def is_test(self) -> bool:
        return bool(self.pending and self.pending.is_test)

    @property
    def claims(self) -> dict[str, str]:
        return {
            "issuer": self.issuer,
            "assertion_id": self.assertion_id,
            "in_response_to": self.in_response_to,
        }

    def signing(self) -> dict[str, Any]:
        """Which elements were signed, under which policy: for every login event."""
        return {"signed": self.signed, "signature_policy": self.signature_policy}

    def diagnostics(self) -> dict[str, Any]:
        """What a connection test shows the admin about the IdP's response."""
        return {
            "name_id": self.name_id,
            "name_id_format": self.name_id_format,
            "issuer": self.issuer,
            "attributes": self.attributes,
            "signature_algorithms": sorted(set(self.signature_algorithms)),
            "verifying_certificate": self.verifying_certificate,
            **self.signing(),
            "clock_difference_seconds": self.clock_difference_seconds,
        }


def replay_digest(issuer: str, assertion_id: str) -> str:
    return hashlib.sha256(f"{issuer}\0{assertion_id}".encode()).hexdigest()


def _decode(saml_response: str) -> bytes:
    if not saml_response:
        raise LoginRefused(Reason.MALFORMED_RESPONSE, problem="no SAMLResponse was posted")
    try:
        return base64.b64decode(saml_response, validate=False)
    except (binascii.Error, ValueError):
        raise LoginRefused(Reason.MALFORMED_RESPONSE, problem="not base64") from None


# A connection test keeps the decoded response for the admin's IdP support ticket, up to this.
TEST_RESPONSE_MAX_BYTES = 256 * 1024


def response_xml_for_support(saml_response: str) -> str:
    """The decoded XML of a connection test's response, as text to show escaped and offer as a
    download; "" when it is not base64 or is larger than TEST_RESPONSE_MAX_BYTES. Not trusted:
    it is what was posted, verified or not. Never called for a real login."""
    if not saml_response or len(saml_response) > TEST_RESPONSE_MAX_BYTES * 4 // 3 + 4:
        return ""
    try:
        xml = base64.b64decode(saml_response, validate=False)
    except (binascii.Error, ValueError):
        return ""
    if len(xml) > TEST_RESPONSE_MAX_BYTES:
        return ""
    return xml.decode("utf-8", errors="replace")


def _pending_request(
    facts: ResponseFacts, profile: SSOProfile, token: str | None, test: PendingRequest | None
) -> PendingRequest | None:
    answered = {facts.in_response_to, *facts.subject_in_response_to} - {""}
    if len(answered) > 1:
        raise LoginRefused(Reason.UNKNOWN_IN_RESPONSE_TO, problem="conflicting InResponseTo values")
    if test is not None:
        if answered != {test.request_id}:
            raise LoginRefused(
                Reason.UNKNOWN_IN_RESPONSE_TO,
                problem="the response does not answer this connection test",
                in_response_to=", ".join(sorted(answered)) or "(none)",
            )
        return test
    if not answered:
        if not profile.allow_idp_initiated:
            raise LoginRefused(Reason.UNSOLICITED_NOT_ALLOWED)
        return None
    request_id = answered.pop()
    pending = pending_request_take(request_id=request_id, sid=profile.sid, token=token)
    if pending is None:
        raise LoginRefused(Reason.UNKNOWN_IN_RESPONSE_TO, in_response_to=request_id)
    if pending.is_test:
        raise LoginRefused(
            Reason.UNKNOWN_IN_RESPONSE_TO,
            problem="a connection test never signs anybody in",
            in_response_to=request_id,
        )
    return pending


def _certificate_fingerprints(profile: SSOProfile) -> list[str]:
    return [certificate.fingerprint_sha256 for certificate in profile.certificates.all()]


def _verifying_certificate(profile: SSOProfile, facts: ResponseFacts) -> str:
    """pysaml2 does not say which trusted certificate verified; the signature's KeyInfo does,
    and with a single configured certificate there is no question."""
    configured = _certificate_fingerprints(profile)
    if len(configured) == 1:
        return configured[0]
    signed_with = {fingerprint_of(body) for body in facts.signing_certificates}
    return next((fingerprint for fingerprint in configured if fingerprint in signed_with), "")


def _verify_signatures(  # noqa: ANN202
    profile: SSOProfile,
    saml_response: str,
    pending: PendingRequest | None,
    facts: ResponseFacts,
    received: ReceivedDocument,
):
    """pysaml2 verifies the signatures against the profile's certificates, and the rest again."""
    client = saml_client_for(profile, allow_unsolicited=pending is None, received=received)
    outstanding = {pending.request_id: pending.relay_state} if pending else {}
    try:
        verified = client.parse_authn_request_response(
            saml_response, BINDING_HTTP_POST, outstanding
        )
    except (SignatureError, IncorrectlySigned, MissingKey):
        raise LoginRefused(
            Reason.SIGNATURE_INVALID,
            signed_with=sorted({fingerprint_of(body) for body in facts.signing_certificates}),
            configured=_certificate_fingerprints(profile),
        ) from None
    except ResponseLifetimeExceed:
        raise LoginRefused(Reason.EXPIRED) from None
    except ToEarly:
        raise LoginRefused(Reason.NOT_YET_VALID) from None
    except UnsolicitedResponse:
        raise LoginRefused(Reason.UNKNOWN_IN_RESPONSE_TO) from None
    except StatusError:
        raise LoginRefused(Reason.IDP_STATUS_ERROR) from None
    except VerificationError as exc:
        raise LoginRefused(Reason.MALFORMED_RESPONSE, problem=exc.__class__.__name__) from None
    if verified is None or verified.assertion is None:
        raise LoginRefused(Reason.MALFORMED_RESPONSE, problem="refused by the SAML library")
    return verified


def _session_index(assertion: Any) -> str:
    statements = getattr(assertion, "authn_statement", None) or []
    return next((s.session_index for s in statements if s.session_index), "")


def _name_id_from(name_id: object) -> tuple[str, str]:
    """The verified NameID's value and format; whether it is the email is the mapping's call."""
    value = (getattr(name_id, "text", None) or "").strip() if name_id is not None else ""
    if not value:
        raise LoginRefused(Reason.MISSING_NAMEID)
    return value, getattr(name_id, "format", None) or ""


def verify_response(
    *,
    profile: SSOProfile,
    saml_response: str,
    token: str | None,
    test: PendingRequest | None = None,
    now: dt.datetime | None = None,
) -> VerifiedLogin:
    """Verify a posted SAMLResponse for this profile; raise LoginRefused with the reason.

    Bytes in, verified facts out: no tenant rule is applied here (sso/login/services.py
    applies them). `test`: the admin's connection test the response must answer. A refusal
    carries what the response claimed (`refusal.claims`) for the login event.
    """
    now = now or dt.datetime.now(dt.UTC)
    xml = _decode(saml_response)
    facts, root = read_response(xml, policy=profile.signature_policy)
    try:
        return _verify(
            profile=profile,
            saml_response=saml_response,
            facts=facts,
            received=ReceivedDocument(xml, root=root, posted=saml_response),
            token=token,
            test=test,
            now=now,
        )
    except INFRASTRUCTURE_ERRORS as error:
        # Redis or the database failed once the claims were read: the event keeps them.
        infrastructure_unavailable_log(error=error, where=f"ACS of profile {profile.sid}")
        unavailable = LoginRefused(
            Reason.SERVICE_UNAVAILABLE, component=infrastructure_component(error)
        )
        unavailable.claims = {
            "issuer": facts.issuer,
            "assertion_id": facts.assertion_id,
            "in_response_to": facts.in_response_to,
        }
        raise unavailable from error
    except LoginRefused as refusal:
        refusal.claims = {
            "issuer": facts.issuer,
            "assertion_id": facts.assertion_id,
            "in_response_to": facts.in_response_to,
            "email": refusal.claims.get("email", ""),
        }
        raise


def _verify(
    *,
    profile: SSOProfile,
    saml_response: str,
    facts: ResponseFacts,
    received: ReceivedDocument,
    token: str | None,
    test: PendingRequest | None,
    now: dt.datetime,
) -> VerifiedLogin:
    skew = dt.timedelta(seconds=settings.SSO_CLOCK_SKEW_SECONDS)
    check_claims(
        facts,
        issuer=profile.idp_issuer,
        entity_id=sp_entity_id(profile),
        acs_url=sp_acs_url(profile),
        now=now,
        skew=skew,
    )
    digest = replay_digest(facts.issuer, facts.assertion_id)
    replay_key = _REPLAY_KEY.format(digest)
    try:
        pending = _pending_request(facts, profile, token, test)
    except LoginRefused as refusal:
        # An answered request is gone once used: say so when the assertion itself was used.
        if refusal.reason == Reason.UNKNOWN_IN_RESPONSE_TO and cache.get(replay_key):
            raise LoginRefused(Reason.REPLAYED_ASSERTION, assertion_id=facts.assertion_id) from None
        raise

    verified = _verify_signatures(profile, saml_response, pending, facts, received)
    if verified.assertion.id != facts.assertion_id:
        raise LoginRefused(Reason.MALFORMED_RESPONSE, problem="verified another assertion")
    name_id, name_format = _name_id_from(verified.name_id)

    valid_until = facts.valid_until() or now
    window = min(max(valid_until - now + skew, skew), _MAX_REPLAY_WINDOW)
    if not cache.add(replay_key, 1, timeout=int(window.total_seconds()) + 1):
        raise LoginRefused(Reason.REPLAYED_ASSERTION, assertion_id=facts.assertion_id)
    # A login's request was used up when it was found; a connection test's is used up here.
    if test is not None and not pending_request_consume(request_id=test.request_id):
        raise LoginRefused(Reason.UNKNOWN_IN_RESPONSE_TO, in_response_to=test.request_id)

    return VerifiedLogin(
        profile=profile,
        name_id=name_id,
        name_id_format=name_format,
        issuer=facts.issuer,
        assertion_id=facts.assertion_id,
        in_response_to=pending.request_id if pending else "",
        pending=pending,
        attributes={key: [str(v) for v in values] for key, values in (verified.ava or {}).items()},
        signature_algorithms=facts.signature_algorithms,
        verifying_certificate=_verifying_certificate(profile, facts),
        signed=facts.signed,
        signature_policy=profile.signature_policy,
        clock_difference_seconds=(
            round((facts.issue_instant - now).total_seconds()) if facts.issue_instant else None
        ),
        replay_digest=digest,
        replay_until=now + window,
        authn_instant=facts.authn_instant,
        session_not_on_or_after=facts.session_not_on_or_after,
        subject_id=code(verified.name_id) if verified.name_id is not None else "",
        session_index=_session_index(verified.assertion),
    )
