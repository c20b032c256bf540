"""Checks on a SAML Response before and beside pysaml2's verification.

Nothing read here is trusted: these checks can only refuse. They exist because pysaml2 alone
accepts things this product must not (a second assertion wrapped elsewhere in the document,
encrypted assertions, SHA-1, a missing Destination), and because an admin needs the precise
reason a response was refused, which pysaml2's exceptions do not give.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from functools import cache

from lxml import etree

from sso.reasons import LoginRefused, Reason
from sso.saml.signing import (
    DIGEST_ALGORITHMS,
    DS,
    SHA1_ALGORITHMS,
    SIGNATURE_ALGORITHMS,
    check_signatures,
)

# Kept importable from here, where they were first defined.
__all__ = ["DIGEST_ALGORITHMS", "SHA1_ALGORITHMS", "SIGNATURE_ALGORITHMS"]

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
NS = {"samlp": SAMLP, "saml": SAML, "ds": DS}

STATUS_SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
MAX_RESPONSE_BYTES = 2 * 1024 * 1024

# The elements read_response counts in one pass, and every ID attribute value in the document.
_COUNTED = (f"{{{SAML}}}Assertion", f"{{{SAML}}}EncryptedAssertion", f"{{{DS}}}Signature")
_ID_VALUES = etree.XPath("//@ID", smart_strings=False)

# Bounds on the shape of untrusted XML, checked right after parsing and before any
# canonicalization or digest: those cost time in proportion to attributes per element squared
# (50,000 attributes on one element took 18 s to refuse). A real response with 500 SAML
# attributes has about 1,000 elements, depth 8 and at most 10 attributes and namespace
# declarations on one element; libxml2 itself refuses depth beyond 256.
MAX_ELEMENTS = 20_000
MAX_DEPTH = 64
MAX_ATTRIBUTES_PER_ELEMENT = 256
_TOO_MANY_ELEMENTS = etree.XPath(f"count(//*) > {MAX_ELEMENTS}")
_TOO_DEEP = etree.XPath("boolean(/*" + "/*" * MAX_DEPTH + ")")


@cache
def _has_attribute_at(position: int) -> etree.XPath:
    # A literal position: libxml2 stops there, where a variable one collects every attribute.
    return etree.XPath(f"boolean(//@*[{position}])")


# No DTDs, entities or network: untrusted XML is parsed with this parser only.
SAFE_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_comments=False,
)


def shape_problem(root: etree._Element) -> str:
    """What makes this parsed document too big to verify ('' when nothing does).

    Attributes and namespace declarations both count towards an element's attributes. Linear
    in the document, and a small fraction of what reading a response costs.
    """
    if _TOO_MANY_ELEMENTS(root):
        return f"more than {MAX_ELEMENTS} elements"
    if _TOO_DEEP(root):
        return f"elements nested more than {MAX_DEPTH} deep"
    # Namespace declarations are not attributes to XPath, and its namespace axis lists the
    # inherited ones too (quadratic): count them in one walk, then look at each element only
    # when one has so many attributes that, with every declaration, it could pass the bound.
    declared = sum(1 for _ in etree.iterwalk(root, events=("start-ns",)))
    fewest = MAX_ATTRIBUTES_PER_ELEMENT + 1 - declared
    if fewest >= 1 and not _has_attribute_at(fewest)(root):
        return ""
    own = 0
    for event, item in etree.iterwalk(root, events=("start-ns", "start")):
        if event == "start-ns":
            own += 1
        elif own + len(item.attrib) > MAX_ATTRIBUTES_PER_ELEMENT:
            return f"more than {MAX_ATTRIBUTES_PER_ELEMENT} attributes on one element"
        else:
            own = 0
    return ""


@dataclass
class ResponseFacts:
    """What the (not yet verified) response claims."""

    response_id: str
    response_issuer: str
    assertion_id: str
    assertion_issuer: str
    destination: str
    in_response_to: str
    audiences: list[list[str]]
    recipients: list[str]
    subject_in_response_to: list[str]
    not_before: list[dt.datetime] = field(default_factory=list)
    not_on_or_after: list[dt.datetime] = field(default_factory=list)
    signature_algorithms: list[str] = field(default_factory=list)
    signing_certificates: list[str] = field(default_factory=list)
    issue_instant: dt.datetime | None = None
    # The elements that carry a signature ("response", "assertion"); pysaml2 verifies each.
    signed: list[str] = field(default_factory=list)
    # The AuthnStatement's: when the person authenticated at the IdP, and until when the IdP
    # lets the session last (SAML core 2.7.2).
    authn_instant: dt.datetime | None = None
    session_not_on_or_after: dt.datetime | None = None

    @property
    def issuer(self) -> str:
        return self.assertion_issuer or self.response_issuer

    def valid_until(self) -> dt.datetime | None:
        return max(self.not_on_or_after, default=None)


@cache
def _clark(path: str) -> str:
    """`samlp:Status/samlp:StatusCode` in Clark notation: lxml finds it without a prefix map."""
    return "/".join(
        f"{{{NS[prefix]}}}{name}"
        for prefix, _, name in (step.partition(":") for step in path.split("/"))
    )


def _malformed(problem: str) -> LoginRefused:
    return LoginRefused(Reason.MALFORMED_RESPONSE, problem=problem)


def _timestamp(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise _malformed("unreadable timestamp") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment


def _text(element: etree._Element | None) -> str:
    """All the text of an element, comments excluded, as XML canonicalization signs it."""
    if element is None:
        return ""
    return "".join(_own_text(element))


def _own_text(element: etree._Element) -> list[str]:
    parts = [element.text or ""]
    for child in element:
        if child.tag is etree.Comment or child.tag is etree.ProcessingInstruction:
            parts.append(child.tail or "")
        else:
            raise _malformed("unexpected element inside a text value")
    return parts


def read_response(xml: bytes, *, policy: str = "both") -> tuple[ResponseFacts, etree._Element]:
    """Parse and check the shape of a Response; refuse anything but the one assertion in the
    whole document, directly under the Response, signed as the profile's signature policy
    (`SSOProfile.signature_policy`) requires.

    Returns what it claims and the parsed document (its root element).
    """
    if len(xml) > MAX_RESPONSE_BYTES:
        raise _malformed("response too large")
    if b"<!DOCTYPE" in xml or b"<!ENTITY" in xml:
        raise _malformed("DOCTYPE is not allowed")
    try:
        root = etree.fromstring(xml, SAFE_PARSER)
    except etree.XMLSyntaxError:
        raise _malformed("not well-formed XML") from None
    if root.getroottree().docinfo.doctype:
        raise _malformed("DOCTYPE is not allowed")
    if problem := shape_problem(root):
        raise _malformed(problem)
    if root.tag != f"{{{SAMLP}}}Response":
        raise _malformed("not a SAML Response")

    status = root.find(_clark("samlp:Status/samlp:StatusCode"))
    if status is None:
        raise _malformed("no Status")
    if status.get("Value") != STATUS_SUCCESS:
        second = status.find(_clark("samlp:StatusCode"))
        message = root.find(_clark("samlp:Status/samlp:StatusMessage"))
        raise LoginRefused(
            Reason.IDP_STATUS_ERROR,
            status=status.get("Value", ""),
            second_level_status=second.get("Value", "") if second is not None else "",
            status_message=_text(message)[:500],
        )

    kinds = Counter(element.tag for element in root.iter(*_COUNTED))
    if kinds[f"{{{SAML}}}EncryptedAssertion"]:
        raise LoginRefused(Reason.ENCRYPTED_ASSERTION_UNSUPPORTED)
    if kinds[f"{{{SAML}}}Assertion"] != 1:
        raise _malformed(f"expected one assertion, found {kinds[f'{{{SAML}}}Assertion']}")
    assertion = root.find(f"{{{SAML}}}Assertion")
    if assertion is None:
        raise _malformed("assertion is not a child of the Response")
    ids = _ID_VALUES(root)
    if len(ids) != len(set(ids)):
        raise _malformed("duplicate ID attributes")
    signatures = check_signatures(
        root, assertion, policy=policy, signature_count=kinds[f"{{{DS}}}Signature"]
    )
    response_issuer = _text(root.find(_clark("saml:Issuer"))).strip()
    assertion_issuer = _text(assertion.find(_clark("saml:Issuer"))).strip()
    if not assertion_issuer or ("response" in signatures.signed and not response_issuer):
        # SAML profiles 4.1.4.2: a signed Response names its Issuer, an Assertion always does.
        raise LoginRefused(
            Reason.MISSING_ISSUER, element="Assertion" if not assertion_issuer else "Response"
        )
    authn_statement = assertion.find(_clark("saml:AuthnStatement"))
    if authn_statement is None:
        raise LoginRefused(Reason.MISSING_AUTHN_STATEMENT)

    conditions = assertion.find(_clark("saml:Conditions"))
    confirmations = [
        confirmation.find(_clark("saml:SubjectConfirmationData"))
        for confirmation in assertion.findall(_clark("saml:Subject/saml:SubjectConfirmation"))
        if confirmation.get("Method") == BEARER
    ]
    confirmations = [data for data in confirmations if data is not None]
    time_sources = [conditions, *confirmations] if conditions is not None else confirmations

    facts = ResponseFacts(
        response_id=root.get("ID", ""),
        response_issuer=response_issuer,
        assertion_id=assertion.get("ID", ""),
        assertion_issuer=assertion_issuer,
        destination=root.get("Destination", ""),
        in_response_to=root.get("InResponseTo", ""),
        audiences=[
            [_text(audience).strip() for audience in restriction.findall(_clark("saml:Audience"))]
            for restriction in (
                conditions.findall(_clark("saml:AudienceRestriction"))
                if conditions is not None
                else []
            )
        ],
        recipients=[data.get("Recipient", "") for data in confirmations],
        subject_in_response_to=[
            data.get("InResponseTo") for data in confirmations if data.get("InResponseTo")
        ],
        not_before=[
            moment
            for source in time_sources
            if (moment := _timestamp(source.get("NotBefore"))) is not None
        ],
        not_on_or_after=[
            moment
            for source in time_sources
            if (moment := _timestamp(source.get("NotOnOrAfter"))) is not None
        ],
        signature_algorithms=signatures.algorithms,
        signing_certificates=signatures.certificates,
        signed=signatures.signed,
        issue_instant=_timestamp(assertion.get("IssueInstant") or root.get("IssueInstant")),
        authn_instant=_timestamp(authn_statement.get("AuthnInstant")),
        session_not_on_or_after=_timestamp(authn_statement.get("SessionNotOnOrAfter")),
    )
    if not facts.assertion_id:
        raise _malformed("assertion has no ID")
    if "response" not in facts.signed:
        _check_unsigned_response(facts)
    return facts, root


def _check_unsigned_response(facts: ResponseFacts) -> None:
    """An unsigned Response is trusted for nothing: what it says must agree with the signed
    assertion. Its Status was Success (any other refuses), its Destination and the assertion's
    Recipients are all the ACS URL (check_claims), and its InResponseTo is the assertion's."""
    answered = set(facts.subject_in_response_to)
    if facts.in_response_to and answered != {facts.in_response_to}:
        raise LoginRefused(
            Reason.UNKNOWN_IN_RESPONSE_TO,
            problem="the unsigned Response answers a request the signed assertion does not",
            in_response_to=facts.in_response_to,
        )
    if answered and not facts.in_response_to:
        raise LoginRefused(
            Reason.UNKNOWN_IN_RESPONSE_TO,
            problem="the unsigned Response has no InResponseTo, the signed assertion has one",
            in_response_to=", ".join(sorted(answered)),
        )


def check_claims(
    facts: ResponseFacts,
    *,
    issuer: str,
    entity_id: str,
    acs_url: str,
    now: dt.datetime,
    skew: dt.timedelta,
) -> None:
    """Refuse a response meant for another IdP, SP or endpoint, or outside its time window."""
    issuers = {value for value in (facts.response_issuer, facts.assertion_issuer) if value}
    if issuers != {issuer}:
        raise LoginRefused(Reason.ISSUER_MISMATCH, received=sorted(issuers), expected=issuer)
    if facts.destination != acs_url:
        raise LoginRefused(
            Reason.DESTINATION_MISMATCH, received=facts.destination, expected=acs_url
        )
    if not facts.audiences or not all(entity_id in group for group in facts.audiences):
        received = sorted({audience for group in facts.audiences for audience in group})
        raise LoginRefused(Reason.AUDIENCE_MISMATCH, received=received, expected=entity_id)
    if not facts.recipients or any(recipient != acs_url for recipient in facts.recipients):
        raise LoginRefused(
            Reason.RECIPIENT_MISMATCH, received=sorted(set(facts.recipients)), expected=acs_url
        )
    for moment in facts.not_before:
        if now + skew < moment:
            raise LoginRefused(
                Reason.NOT_YET_VALID,
                not_before=moment.isoformat(),
                now=now.isoformat(),
                clock_difference_seconds=round((moment - now).total_seconds()),
            )
    if not facts.not_on_or_after:
        raise LoginRefused(Reason.EXPIRED, problem="assertion has no NotOnOrAfter")
    for moment in facts.not_on_or_after:
        if now - skew >= moment:
            raise LoginRefused(
                Reason.EXPIRED,
                not_on_or_after=moment.isoformat(),
                now=now.isoformat(),
                seconds_late=round((now - moment).total_seconds()),
            )
