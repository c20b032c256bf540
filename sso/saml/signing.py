"""Which elements of a Response must be signed, and the shape of their signatures.

Read on the untrusted document before pysaml2 verifies anything, so these checks can only
refuse. The profile's signature policy names the element that must be signed (both, the
Assertion, or the Response); the other may be signed, and then its signature must verify too
(pysaml2 verifies every signature it finds). A document signed on one element only is open to
signature wrapping, so every signature must sit directly under the Response or its Assertion
and reference that element's own ID; read_response has counted the assertions by then.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from lxml import etree

from sso.reasons import LoginRefused, Reason

DS = "http://www.w3.org/2000/09/xmldsig#"
SIGNATURE = f"{{{DS}}}Signature"
_REFERENCE = f"{{{DS}}}SignedInfo/{{{DS}}}Reference"
_SIGNATURE_METHOD = f"{{{DS}}}SignedInfo/{{{DS}}}SignatureMethod"
_DIGEST_METHOD = f"{{{DS}}}DigestMethod"

SHA1_ALGORITHMS = {
    "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
    "http://www.w3.org/2000/09/xmldsig#sha1",
    "http://www.w3.org/2000/09/xmldsig#dsa-sha1",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1",
}
SIGNATURE_ALGORITHMS = {
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512",
}
DIGEST_ALGORITHMS = {
    "http://www.w3.org/2001/04/xmlenc#sha256",
    "http://www.w3.org/2001/04/xmldsig-more#sha384",
    "http://www.w3.org/2001/04/xmlenc#sha512",
}
_STRONG_ALGORITHMS = frozenset(SIGNATURE_ALGORITHMS | DIGEST_ALGORITHMS)
_WITH_SHA1_ALGORITHMS = _STRONG_ALGORITHMS | SHA1_ALGORITHMS

RESPONSE = "response"
ASSERTION = "assertion"
# sso.models.SignaturePolicy's values.
BOTH = "both"
_REQUIRED: dict[str, frozenset[str]] = {
    BOTH: frozenset({RESPONSE, ASSERTION}),
    ASSERTION: frozenset({ASSERTION}),
    RESPONSE: frozenset({RESPONSE}),
}
_MISSING = {RESPONSE: Reason.RESPONSE_UNSIGNED, ASSERTION: Reason.ASSERTION_UNSIGNED}


def allowed_algorithms() -> frozenset[str]:
    """The signature and digest algorithms a signature may use; SHA-1 ones only while
    SSO_ALLOW_SHA1_SIGNATURES is on. The one place the rule and the setting meet."""
    return _WITH_SHA1_ALGORITHMS if settings.SSO_ALLOW_SHA1_SIGNATURES else _STRONG_ALGORITHMS


def required_signatures(policy: str) -> frozenset[str]:
    """The elements the policy requires signed; an unknown policy requires both."""
    return _REQUIRED.get(policy, _REQUIRED[BOTH])


@dataclass(frozen=True)
class Signatures:
    """The signatures found, by element ("response", "assertion"), in document order."""

    signed: list[str]
    algorithms: list[str]
    certificates: list[str]


def _only_signature(parent: etree._Element) -> etree._Element | None:
    signatures = [child for child in parent if child.tag == SIGNATURE]
    if len(signatures) > 1:
        raise LoginRefused(
            Reason.MALFORMED_RESPONSE, problem="more than one signature on one element"
        )
    return signatures[0] if signatures else None


def _check_signature_shape(
    signature: etree._Element, signed: etree._Element, *, allowed: frozenset[str]
) -> list[str]:
    references = signature.findall(_REFERENCE)
    if len(references) != 1:
        raise LoginRefused(Reason.SIGNATURE_INVALID, problem="signature must have one reference")
    element_id = signed.get("ID")
    if not element_id or references[0].get("URI") != f"#{element_id}":
        raise LoginRefused(Reason.SIGNATURE_INVALID, problem="signature references another element")
    method = signature.find(_SIGNATURE_METHOD)
    digest = references[0].find(_DIGEST_METHOD)
    algorithms = [
        method.get("Algorithm", "") if method is not None else "",
        digest.get("Algorithm", "") if digest is not None else "",
    ]
    for algorithm in algorithms:
        if algorithm in allowed:
            continue
        if algorithm in SHA1_ALGORITHMS:
            raise LoginRefused(Reason.WEAK_SIGNATURE_ALGORITHM, algorithm=algorithm)
        # RSA-PSS (…#sha256-rsa-MGF1, Keycloak's RSA_SHA256_MGF1) and anything else we do not
        # verify: the certificate is not the problem, the algorithm is.
        raise LoginRefused(Reason.UNSUPPORTED_SIGNATURE_ALGORITHM, algorithm=algorithm or "(none)")
    return algorithms


def check_signatures(
    root: etree._Element, assertion: etree._Element, *, policy: str, signature_count: int
) -> Signatures:
    """Refuse unless the elements the policy requires are signed, each signature directly
    under its element and referencing its own ID, and no signature sits anywhere else.

    `signature_count`: the ds:Signature elements in the whole document.
    """
    found = {RESPONSE: _only_signature(root), ASSERTION: _only_signature(assertion)}
    for element in sorted(required_signatures(policy)):
        if found[element] is None:
            raise LoginRefused(_MISSING[element], signature_policy=policy)
    present = {name: signature for name, signature in found.items() if signature is not None}
    if signature_count != len(present):
        raise LoginRefused(
            Reason.MALFORMED_RESPONSE,
            problem="a signature outside the Response and its Assertion",
        )
    allowed = allowed_algorithms()
    signed_elements = {RESPONSE: root, ASSERTION: assertion}
    algorithms = []
    for name, signature in present.items():
        algorithms += _check_signature_shape(signature, signed_elements[name], allowed=allowed)
    return Signatures(
        signed=list(present),
        algorithms=algorithms,
        certificates=[
            "".join((certificate.text or "").split())
            for signature in present.values()
            for certificate in signature.iter(f"{{{DS}}}X509Certificate")
        ],
    )
