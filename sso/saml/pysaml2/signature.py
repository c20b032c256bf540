"""An in-process signature backend for pysaml2, on the `xmlsec` binding (libxmlsec1).

pysaml2's default backend launches the xmlsec1 program several times per response and writes
temporary files; this one verifies in process. It verifies exactly the element pysaml2 asks
about and nothing else: the one element with that ID (duplicate IDs refused) and that name,
through the one Signature directly under it, whose single Reference points at it, with an
allowed algorithm, against the one trusted certificate pysaml2 hands over. pysaml2's own
`XMLSecurity` backend is not used: it passes a document when any one signature verifies.
"""

from __future__ import annotations

from collections import Counter
from functools import cached_property, lru_cache

import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from lxml import etree
from saml2.sigver import CryptoBackend, SignatureError

from sso.saml.facts import SAFE_PARSER
from sso.saml.signing import DS, allowed_algorithms

_ELEMENTS_WITH_ID = etree.XPath("//*[@ID]")


@lru_cache(maxsize=256)
def key_from_pem(pem: bytes) -> xmlsec.Key:
    """The public key of a trusted PEM certificate, as `xmlsec1 --pubkey-cert-pem` uses it.

    Loaded as a bare public key: xmlsec copies a key into every signature context, and a key
    carrying its X.509 certificate costs more to copy than the RSA verification itself.
    """
    public_key = x509.load_pem_x509_certificate(pem).public_key()
    der = public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return xmlsec.Key.from_memory(der, xmlsec.constants.KeyDataFormatDer)


class ReceivedDocument:
    """A received XML document, parsed once with the hardened parser, its IDs indexed."""

    def __init__(
        self, data: str | bytes, *, root: etree._Element | None = None, posted: str | None = None
    ) -> None:
        """`root`: the same bytes, already parsed with SAFE_PARSER by the caller; `posted`: the
        base64 text they were decoded from, when they came through the HTTP-POST binding."""
        self.data = data.encode() if isinstance(data, str) else data
        self.root = etree.fromstring(self.data, SAFE_PARSER) if root is None else root
        self.posted = posted

    def is_same(self, data: str | bytes) -> bool:
        return self.data == (data.encode() if isinstance(data, str) else data)

    @cached_property
    def _ids(self) -> tuple[dict[str, etree._Element], Counter[str]]:
        elements, counts = {}, Counter()
        for element in _ELEMENTS_WITH_ID(self.root):
            elements[element.get("ID")] = element
            counts[element.get("ID")] += 1
        xmlsec.tree.add_ids(self.root, ["ID"])
        return elements, counts

    def element_with_id(self, node_id: str) -> etree._Element:
        elements, counts = self._ids
        if counts[node_id] != 1:
            raise SignatureError(f"{counts[node_id]} elements carry the ID being verified")
        return elements[node_id]


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
        """pysaml2's CryptoBackend interface: the trusted certificate comes as a file."""
        if cert_type != "pem":
            raise SignatureError("only PEM certificates are trusted")
        with open(cert_file, "rb") as file:
            key = key_from_pem(file.read())
        return self.verify(ReceivedDocument(signedtext), key, node_name, node_id)

    def verify(
        self, document: ReceivedDocument, key: xmlsec.Key, node_name: str, node_id: str
    ) -> bool:
        """True when the signature on the element `node_id` verifies with `key`.

        Raises SignatureError for a document that breaks the rules above, whatever the key.
        """
        element = document.element_with_id(node_id)
        namespace, _, local_name = node_name.rpartition(":")
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
        if not algorithms or not algorithms <= allowed_algorithms():
            raise SignatureError("signature algorithm not allowed")

        context = xmlsec.SignatureContext()
        context.key = key
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
