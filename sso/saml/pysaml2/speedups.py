"""Three of pysaml2's small steps, with the same verdicts, at a fraction of their cost.

They run for every value of a response, so at hundreds of attributes they are a large part of
a login, and even at five a noticeable one:

- `AttributeValueBase.set_text` rebuilds its table of XSD types (a dozen dicts and lambdas)
  on every call, and runs twice per value (`SamlBase.__init__` sets the text to None first).
  `set_text` below is pysaml2 7.5's, line for line, with the table built once.
- `validate.valid_string` checks a string one character at a time in Python; one compiled
  regular expression over the same character ranges (XML 1.0 `Char`) decides the same.
- `time_util.str_to_time` runs `strptime` (and, for a fraction of a second, fails and runs
  it again) on every timestamp, a dozen per response; the form SAML uses is read directly,
  and anything else is left to pysaml2's own.

pins.py pins the pysaml2 sources these copy; tests/saml/pysaml2/test_speedups.py compares each
with pysaml2's own over the inputs they know, and over a whole response.
"""

from __future__ import annotations

import base64
import calendar
import re
import time
from collections.abc import Callable
from datetime import date, datetime
from importlib import import_module
from typing import Any, NamedTuple

from saml2 import SamlBase, time_util, validate
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


_SAML_INSTANT = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.[0-9]*)?Z\Z"
)


def str_to_time(timestr: Any, format: str = time_util.TIME_FORMAT) -> Any:
    """pysaml2's `time_util.str_to_time`, reading the form SAML uses without `strptime`.

    `2026-11-24T10:00:00Z`, with or without a fraction of a second, when it names a real
    moment; anything else (another format, a leap second, a day the month does not have)
    goes to pysaml2's own, whose verdict it is.
    """
    if format == time_util.TIME_FORMAT and type(timestr) is str:
        match = _SAML_INSTANT.match(timestr)
        if match:
            try:
                moment = datetime(*map(int, match.groups()))
            except ValueError:
                pass
            else:
                return time.gmtime(calendar.timegm(moment.timetuple()))
    return _pysaml2_str_to_time(timestr, format)


_pysaml2_set_text = AttributeValueBase.set_text
_pysaml2_valid_string = validate.valid_string
_pysaml2_str_to_time = time_util.str_to_time

# pysaml2's own functions that install() replaces, by the name pins.py pins them under.
REPLACED = {
    "saml2.saml.AttributeValueBase.set_text": _pysaml2_set_text,
    "saml2.validate.valid_string": _pysaml2_valid_string,
    "saml2.time_util.str_to_time": _pysaml2_str_to_time,
}

# time_util, and the pysaml2 modules that bind `str_to_time` by name (`from saml2.time_util
# import str_to_time`, found by grep in pysaml2 7.5.5); the others call `time_util.str_to_time`.
STR_TO_TIME_MODULES = ("saml2.time_util", "saml2.mdstore", "saml2.response", "saml2.sigver")


def install() -> None:
    """Put them in pysaml2's place, in every pysaml2 module that holds them by name.

    The modules are imported here, so the result does not depend on what was imported before.
    """
    AttributeValueBase.set_text = set_text
    validate.valid_string = valid_string
    validate.VALIDATOR["string"] = valid_string
    for name in STR_TO_TIME_MODULES:
        import_module(name).str_to_time = str_to_time
