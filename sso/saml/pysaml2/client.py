"""pysaml2's SP client for one profile, verifying a response's signatures in process.

pysaml2 stays the engine: it parses the response into its classes, validates them, checks the
signatures' shape (SAML core 5.4), the conditions, the subject and the attributes. With the
in-process backend, three of its steps are done once rather than per signed element:

- the response is parsed into pysaml2's classes once; `any_response_from_string` parses the
  whole document once per candidate class before it reaches `Response`;
- the schema validation runs once, on the document as received, with the compiled validator;
  pysaml2 validates a re-serialisation of each signed element (`str(item)`), which costs more
  than all the rest, and the received document contains both signed elements;
- the document is parsed for signature verification once, and the trusted certificates are
  handed to the backend in memory rather than through a temporary file per check.

Nothing is relaxed: the checks of pysaml2's `SecurityContext._check_signature` are all kept
(trusted certificates from the profile's metadata only, the schema, the xmldsig profile), and
pins.py pins the pysaml2 source these overrides were written against.
"""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

from djangosaml2.overrides import Saml2Client
from saml2 import BINDING_HTTP_POST, class_name, create_class_from_element_tree, samlp
from saml2.config import SPConfig
from saml2.response import AuthnResponse
from saml2.sigver import NODE_NAME, MissingKey, SecurityContext, SignatureError, pem_format
from saml2.xml.schema import XMLSchemaError
from saml2.xmldsig import ALLOWED_CANONICALIZATIONS, ALLOWED_TRANSFORMS, TRANSFORM_ENVELOPED

from sso.saml.pysaml2 import schema
from sso.saml.pysaml2.signature import InProcessXmlSecBackend, ReceivedDocument, key_from_pem


def xmldsig_profile_violations(item: Any) -> list[str]:
    """The rules of SAML core 5.4 (XML Signature Profile) a signed element's Signature breaks.

    The same rules, with the same names, as pysaml2 7.5's `_check_signature`.
    """
    signed_info = item.signature.signed_info
    references = signed_info.reference
    one_reference = len(references) == 1
    uri = (references[0].uri or "") if one_reference else ""
    transforms = (
        [transform.algorithm for transform in references[0].transforms.transform]
        if one_reference and references[0].transforms
        else []
    )
    one_or_two_transforms = 1 <= len(transforms) <= 2
    rules = {
        "signatures must have a single reference element": one_reference,
        "the Reference element must have a URI attribute": bool(uri),
        "the URI attribute contains an anchor": uri.startswith("#") and len(uri) > 1,
        "the anchor points to the enclosing element ID attribute": uri == f"#{item.id}",
        "canonicalization method is c14n": (
            signed_info.canonicalization_method.algorithm in ALLOWED_CANONICALIZATIONS
        ),
        "the number of transforms is one or two": one_or_two_transforms,
        "all transform algs are allowed": one_or_two_transforms
        and len(ALLOWED_TRANSFORMS.intersection(transforms)) == len(transforms),
        "the enveloped signature transform is defined": one_or_two_transforms
        and TRANSFORM_ENVELOPED in transforms,
        "object element is not present": not item.signature.object,
    }
    return [rule for rule, holds in rules.items() if not holds]


class InProcessSecurityContext(SecurityContext):
    """pysaml2's SecurityContext verifying with the in-process backend, once per document."""

    crypto: InProcessXmlSecBackend

    @classmethod
    def replacing(
        cls, context: SecurityContext, *, received: ReceivedDocument | None = None
    ) -> InProcessSecurityContext:
        """The same context (metadata, SP certificate, settings), verifying in process.

        `received`: the document about to be verified, when the caller has parsed it already.
        """
        replacement = cls.__new__(cls)
        replacement.__dict__.update(vars(context))
        replacement.crypto = InProcessXmlSecBackend()
        replacement._document = received
        replacement._schema_valid = False
        return replacement

    def _received(self, decoded_xml: str | bytes) -> ReceivedDocument:
        """The document under verification, parsed and schema-validated once."""
        if self._document is None or not self._document.is_same(decoded_xml):
            self._document, self._schema_valid = ReceivedDocument(decoded_xml), False
        if self._document.root.getroottree().docinfo.doctype:
            raise SignatureError("a DOCTYPE is not allowed")
        if not self._schema_valid:
            try:
                schema.validate_element(self._document.root)
            except XMLSchemaError as exc:
                raise SignatureError(
                    {"message": "Invalid document format.", "reason": str(exc)}
                ) from exc
            self._schema_valid = True
        return self._document

    def _trusted_keys(self, issuer: str | None) -> list:
        """The profile's IdP certificates, from its metadata only; never from the document."""
        try:
            certificates = self.metadata.certs(issuer, "any", "signing") if self.metadata else []
        except KeyError:
            certificates = []
        if not certificates:
            raise MissingKey(issuer)
        return [key_from_pem(pem_format(certificate)) for _, certificate in certificates]

    def _check_signature(
        self,
        decoded_xml: str | bytes,
        item: Any,
        node_name: str = NODE_NAME,
        origdoc: str | None = None,
        must: bool = False,
        only_valid_cert: bool = False,
        issuer: Any = None,
    ) -> Any:
        """pysaml2's checks, in its order: trusted keys, schema, xmldsig profile, signature.

        pysaml2's optional chain check (`validate_certificate`) is not run: the profile's
        config never enables it, since its IdP certificates are pinned, not chained.
        """
        issuer_element = getattr(item, "issuer", None) or issuer
        issuer_text = (getattr(issuer_element, "text", None) or "").strip() or None
        keys = self._trusted_keys(issuer_text)
        document = self._received(decoded_xml)
        violations = xmldsig_profile_violations(item)
        if violations:
            raise SignatureError(
                {
                    "message": "Signature failed to meet constraints on xmldsig",
                    "violations": violations,
                    "item ID": item.id,
                    "node name": node_name,
                }
            )
        if any(self.crypto.verify(document, key, node_name, item.id) for key in keys):
            return item
        raise SignatureError("Failed to verify signature")

    def correctly_signed_response(
        self,
        decoded_xml: str | bytes,
        must: bool = False,
        origdoc: str | None = None,
        only_valid_cert: bool = False,
        require_response_signature: bool = False,
        **kwargs: Any,
    ) -> samlp.Response:
        """pysaml2's, parsing a Response once; its signature is always verified.

        pysaml2 parses with defusedxml's pure-Python parser; the document has been parsed
        with the hardened parser (no DTD, no entities) and schema-validated by then, so
        the C parser builds the same tree for pysaml2's classes.
        """
        document = self._received(decoded_xml)
        response = create_class_from_element_tree(samlp.Response, ElementTree.XML(document.data))
        if not response:
            raise TypeError("Not a Response")
        if response.signature:
            self._check_signature(decoded_xml, response, class_name(response), origdoc)
        elif require_response_signature:
            raise SignatureError("Signature missing for response")
        return response


class ProfileAuthnResponse(AuthnResponse):
    def get_identity(self) -> dict[str, list[Any]]:
        """pysaml2's, without serialising every attribute statement for a debug line.

        pysaml2 7.5 formats `logger.debug(f"Attribute Statement: {...}")` eagerly, which turns
        the whole statement back into XML on every login, whatever the log level.
        """
        ava: dict[str, list[Any]] = {}
        for assertion in self.assertions:
            if assertion.advice and assertion.advice.assertion:
                for advice_assertion in assertion.advice.assertion:
                    if advice_assertion.attribute_statement:
                        statements = advice_assertion.attribute_statement
                        if len(statements) != 1:
                            raise ValueError(
                                f"Invalid number of AuthnStatement found in Response: "
                                f"{len(statements)}"
                            )
                        ava.update(self.read_attribute_statement(statements[0]))
            for statement in assertion.attribute_statement or []:
                ava.update(self.read_attribute_statement(statement))
        return ava


class ProfileSaml2Client(Saml2Client):
    """djangosaml2's client for one profile's SPConfig."""

    def __init__(
        self,
        config: SPConfig,
        *,
        in_process: bool,
        received: ReceivedDocument | None = None,
        state_cache: dict | None = None,
    ) -> None:
        """`state_cache`: where pysaml2 keeps the ids of the logout requests it sent
        (djangosaml2's StateCache, in the session)."""
        super().__init__(config, state_cache=state_cache)
        self._received = received
        if in_process:
            self.sec = InProcessSecurityContext.replacing(self.sec, received=received)

    def unravel(self, txt: str, binding: str, msgtype: str = "response") -> Any:
        """pysaml2's, except that a posted response the caller has decoded already is not
        decoded twice more (pysaml2 tries to inflate it, then decodes it again)."""
        received = self._received
        if binding == BINDING_HTTP_POST and received is not None and txt == received.posted:
            return received.data
        return super().unravel(txt, binding, msgtype)

    def _parse_response(
        self, xmlstr: str, response_cls: type, service: str, binding: str, *args: Any, **kwargs: Any
    ) -> Any:
        """pysaml2's, reading authentication responses with ProfileAuthnResponse."""
        if response_cls is AuthnResponse:
            response_cls = ProfileAuthnResponse
        return super()._parse_response(xmlstr, response_cls, service, binding, *args, **kwargs)
