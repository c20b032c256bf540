"""SAML schema validation with libxml2's compiled XMLSchema, in place of pysaml2's xmlschema.

pysaml2 validates every signed element against the SAML schemas before it checks the
signature (a guard against signature wrapping). It does so with the pure-Python `xmlschema`
package, which costs most of a login's time. The same XSDs, which pysaml2 ships, compiled once
by libxml2 through lxml, give the same verdicts far faster. Remote schema locations are
mapped to those local files; nothing is fetched from the network.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

import saml2.data.schemas
from lxml import etree
from saml2.xml.schema import XMLSchemaError

from sso.saml.facts import SAFE_PARSER

_SCHEMAS = files(saml2.data.schemas)
_ROOT = """<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:import namespace="urn:oasis:names:tc:SAML:2.0:protocol"
             schemaLocation="saml-schema-protocol-2.0.xsd"/>
  <xs:import namespace="urn:oasis:names:tc:SAML:2.0:assertion"
             schemaLocation="saml-schema-assertion-2.0.xsd"/>
</xs:schema>"""


class _LocalSchemas(etree.Resolver):
    def resolve(self, url: str, pubid: str, context: object) -> object:
        # Remote locations (http://www.w3.org/TR/.../xmldsig-core-schema.xsd) and relative ones
        # both name a file pysaml2 ships.
        path = _SCHEMAS.joinpath(url.rsplit("/", 1)[-1])
        if path.is_file():
            return self.resolve_filename(str(path), context)
        return None


@cache
def _validator() -> etree.XMLSchema:
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    parser.resolvers.add(_LocalSchemas())
    base = str(_SCHEMAS.joinpath("admin-center-root.xsd"))
    root = etree.fromstring(_ROOT.encode(), parser, base_url=base)
    return etree.XMLSchema(root)


def validate(doc: str | bytes) -> None:
    """pysaml2's `validate(doc)` contract: return when valid, raise XMLSchemaError when not."""
    data = doc.encode() if isinstance(doc, str) else doc
    try:
        element = etree.fromstring(data, SAFE_PARSER)
    except etree.XMLSyntaxError as exc:
        raise XMLSchemaError({"error": str(exc)}) from exc
    validate_element(element)


def validate_element(element: etree._Element) -> None:
    """Validate an already parsed document (or subtree) the same way."""
    validator = _validator()
    if not validator.validate(element):
        raise XMLSchemaError({"error": str(validator.error_log.last_error)})


def install() -> None:
    """Make pysaml2's signature checks validate with this validator."""
    import saml2.sigver

    _validator()
    saml2.sigver.validate_doc_with_schema = validate
