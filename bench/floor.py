"""The floor: the least any verifier does with a signed SAML Response, timed as row 1."""

from __future__ import annotations

import base64
import hashlib

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


class Floor:
    """The least any verifier does: parse, and for the Response and the Assertion, exclusive
    c14n of SignedInfo and of the element minus its enveloped Signature, a SHA-256 digest
    compared with DigestValue, and an RSA PKCS#1 v1.5 / SHA-256 verification."""

    def __init__(self, certificate_pem: str) -> None:
        public_key = x509.load_pem_x509_certificate(certificate_pem.encode()).public_key()
        if not isinstance(public_key, rsa.RSAPublicKey):
            raise TypeError("the benchmark IdP signs with RSA")
        self._public_key = public_key

    def __call__(self, saml_response: str) -> None:
        root = etree.fromstring(base64.b64decode(saml_response), _PARSER)
        assertion = root.find(f"{{{SAML}}}Assertion")
        if root.tag != f"{{{SAMLP}}}Response" or assertion is None:
            raise ValueError("not a Response with an Assertion")
        # The Response first: its digest covers the Assertion with the Assertion's Signature.
        for signed_info, signature_value in (self._digest(root), self._digest(assertion)):
            self._public_key.verify(
                signature_value, signed_info, padding.PKCS1v15(), hashes.SHA256()
            )

    @staticmethod
    def _digest(element: etree._Element) -> tuple[bytes, bytes]:
        signature = element.find(f"{{{DS}}}Signature")
        signed_info = signature.find(f"{{{DS}}}SignedInfo") if signature is not None else None
        if signature is None or signed_info is None:
            raise ValueError("unsigned element")
        canonical_signed_info = etree.tostring(signed_info, method="c14n", exclusive=True)
        digest_value = signed_info.findtext(f"{{{DS}}}Reference/{{{DS}}}DigestValue") or ""
        signature_value = signature.findtext(f"{{{DS}}}SignatureValue") or ""
        element.remove(signature)  # the enveloped-signature transform
        canonical = etree.tostring(element, method="c14n", exclusive=True)
        if hashlib.sha256(canonical).digest() != base64.b64decode(digest_value):
            raise ValueError("digest mismatch")
        return canonical_signed_info, base64.b64decode(signature_value)
