"""Two of pysaml2's per-value steps, with the same verdicts, at a fraction of their cost.

A response's every attribute value passes through both, so at hundreds of attributes they
are a large part of a login:

- `AttributeValueBase.set_text` rebuilds its table of XSD types (a dozen dicts and lambdas)
  on every call, and runs twice per value (`SamlBase.__init__` sets the text to None first).
  `set_text` below is pysaml2 7.5's, line for line, with the table built once.
- `validate.valid_string` checks a string one character at a time in Python; one compiled
  regular expression over the same character ranges (XML 1.0 `Char`) decides the same.

tests/test_saml_speedups.py pins the pysaml2 sources these copy and compares both with
pysaml2's own over the value types and the failures they know.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, NamedTuple

from saml2 import SamlBase, validate
from saml2.saml import XSD, AttributeValueBase


class _XsdType(NamedTuple):
    type: type | None  # None: the value's own type (anyType)
    to_type: Callable[[Any], Any]
    to_text: Callable[[Any], Any] | None  # None: base64Binary, which depends on the call


def _boolean(text: Any) -> bool:
    return {"true": True, "false": False}[str(text).lower()]


def _date(text: Any) -> date:
    return datetime.strptime(text, "%Y-%m-%d").date()


def _same(value: Any) -> Any:
    return value


_TYPE_TO_XSD = {str: "string", int: "integer", float: "float", bool: "boolean", type(None): ""}
_XSD_TYPES = {
    "string": _XsdType(str, str, str),
    "integer": _XsdType(int, int, str),
    "short": _XsdType(int, int, str),
    "int": _XsdType(int, int, str),
    "long": _XsdType(int, int, str),
    "float": _XsdType(float, float, str),
    "double": _XsdType(float, float, str),
    "boolean": _XsdType(bool, _boolean, lambda value: str(value).lower()),
    "date": _XsdType(date, _date, str),
    "base64Binary": _XsdType(str, str, None),
    "anyType": _XsdType(None, _same, _same),
    "": _XsdType(type(None), lambda value: None, lambda value: ""),
}


def _wrong_type_value(xsd: Any, value: Any) -> None:
    raise ValueError(f"Type and value do not match: {xsd}:{type(value)}:{value}")


def set_text(self: AttributeValueBase, value: Any, base64encode: bool = False) -> Any:
    """pysaml2 7.5's `AttributeValueBase.set_text`, with its type table built once."""
    if isinstance(value, bytes):
        value = value.decode("utf-8")

    xsd_string = (
        "base64Binary" if base64encode else self.get_type() or _TYPE_TO_XSD.get(type(value))
    )

    xsd_ns, xsd_type = (
        ["", type(None)]
        if xsd_string is None
        else ["", ""]
        if xsd_string == ""
        else [XSD if xsd_string in _XSD_TYPES else "", xsd_string]
        if ":" not in xsd_string
        else xsd_string.split(":", 1)
    )

    props = _XSD_TYPES.get(xsd_type) or _XSD_TYPES["string"]
    valid_type = type(value) if props.type is None else props.type
    to_type = props.to_type
    to_text = props.to_text or (
        (lambda text: base64.encodebytes(text.encode())) if base64encode else _same
    )

    # cast to correct type before type-checking
    if type(value) is str and valid_type is not str:
        try:
            value = to_type(value)
        except (TypeError, ValueError, KeyError):
            _wrong_type_value(xsd=xsd_type, value=value)

    if type(value) is not valid_type:
        _wrong_type_value(xsd=xsd_type, value=value)

    text = to_text(value)
    self.set_type(f"{xsd_ns}:{xsd_type}" if xsd_ns else xsd_type if xsd_type else "")
    SamlBase.__setattr__(self, "text", text)
    return self


_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def valid_string(val: Any) -> bool:
    """pysaml2's `validate.valid_string`: True, or NotValid("string")."""
    if type(val) is not str:
        return _pysaml2_valid_string(val)
    if _NOT_XML_CHAR.search(val):
        raise validate.NotValid("string")
    return True


_pysaml2_set_text = AttributeValueBase.set_text
_pysaml2_valid_string = validate.valid_string


def install() -> None:
    """Put both in pysaml2's place (its modules look `valid_string` up by name)."""
    AttributeValueBase.set_text = set_text
    validate.valid_string = valid_string
    validate.VALIDATOR["string"] = valid_string
