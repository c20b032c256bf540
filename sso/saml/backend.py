"""An in-process signature backend for pysaml2, on the `xmlsec` binding (libxmlsec1).

pysaml2's default backend launches the xmlsec1 program several times per response and writes
temporary files; this one verifies in process. It verifies exactly the element pysaml2 asks
about and nothing else: the one element with that ID (duplicate IDs refused) and that name,
through the one Signature directly under it, whose single Reference points at it, with an
allowed algorithm, against the one trusted certificate pysaml2 hands over. pysaml2's own
`XMLSecurity` backend is not used: it passes a document when any one signature verifies.
"""

from __future__ import annotations

from functools import lru_cache

import xmlsec
from django.conf import settings
from lxml import etree
from saml2.sigver import CryptoBackend, SignatureError

from sso.saml.checks import (
    DIGEST_ALGORITHMS,
    DS,
    SAFE_PARSER,
    SHA1_ALGORITHMS,
    SIGNATURE_ALGORITHMS,
)

ALLOWED = SIGNATURE_ALGORITHMS | DIGEST_ALGORITHMS


@lru_cache(maxsize=256)
def _key_from_pem(pem: bytes) -> xmlsec.Key:
    return xmlsec.Key.from_memory(pem, xmlsec.constants.KeyDataFormatCertPem)


def _trusted_key(cert_file: str) -> xmlsec.Key:
    """pysaml2 hands each trusted certificate over as a (temporary) file."""
    with open(cert_file, "rb") as file:
        return _key_from_pem(file.read())


def _allowed_algorithms() -> set[str]:
    return ALLOWED | SHA1_ALGORITHMS if settings.SSO_ALLOW_SHA1_SIGNATURES else ALLOWED


class InProcessXmlSecBackend(CryptoBackend):
    def __init__(self) -> None:
        super().__init__()

    @property
    def version(self) -> str:
        return f"python-xmlsec {xmlsec.__version__}"

    def validate_signature(
        self,
        signedtext: str | bytes,
        cert_file: str,
        cert_type: str,
        node_name: str,
        node_id: str,
    ) -> bool:
        """True when the signature on the element `node_id` verifies with `cert_file`.

        Raises SignatureError for a document that breaks the rules above, whatever the key.
        """
        if cert_type != "pem":
            raise SignatureError("only PEM certificates are trusted")
        data = signedtext.encode() if isinstance(signedtext, str) else signedtext
        root = etree.fromstring(data, SAFE_PARSER)
        namespace, _, local_name = node_name.rpartition(":")
        matching = [element for element in root.iter() if element.get("ID") == node_id]
        if len(matching) != 1:
            raise SignatureError(f"{len(matching)} elements carry the ID being verified")
        element = matching[0]
        if element.tag != f"{{{namespace}}}{local_name}":
            raise SignatureError("the ID names another kind of element")
        signatures = [child for child in element if child.tag == f"{{{DS}}}Signature"]
        if len(signatures) != 1:
            raise SignatureError("expected one Signature directly under the signed element")
        signature = signatures[0]
        references = signature.findall(f"{{{DS}}}SignedInfo/{{{DS}}}Reference")
        if len(references) != 1 or references[0].get("URI") != f"#{node_id}":
            raise SignatureError("the signature must reference the signed element itself")
        methods = signature.findall(f"{{{DS}}}SignedInfo/{{{DS}}}SignatureMethod")
        methods += references[0].findall(f"{{{DS}}}DigestMethod")
        algorithms = {method.get("Algorithm") for method in methods}
        if not algorithms or not algorithms <= _allowed_algorithms():
            raise SignatureError("signature algorithm not allowed")

        xmlsec.tree.add_ids(root, ["ID"])
        context = xmlsec.SignatureContext()
        context.key = _trusted_key(cert_file)
        try:
            context.verify(signature)
        except xmlsec.Error:
            return False
        return True

    def sign_statement(self, *args: object, **kwargs: object) -> str:
        raise NotImplementedError("this backend only verifies")

    def encrypt(self, *args: object, **kwargs: object) -> str:
        raise NotImplementedError("encryption is not supported")

    def decrypt(self, *args: object, **kwargs: object) -> str:
        raise NotImplementedError("encryption is not supported")
