"""The speedups decide exactly what pysaml2's own code decides, value for value."""

from __future__ import annotations

import itertools
import json
import os
import random
import subprocess
import sys
from datetime import date

import pytest
from saml2 import samlp, time_util, validate
from saml2.saml import AttributeValue, AttributeValueBase

from sso.saml.pysaml2 import speedups
from tests.fixtures.idp import ResponseSpec

TYPES = [
    None, "", "xs:string", "xsd:string", "string", "xs:integer", "xs:int", "xs:short",
    "xs:long", "xs:float", "xs:double", "xs:boolean", "xs:date", "xs:base64Binary",
    "xs:anyType", "anyType", "foo:bar", "integer", "unknown",
]  # fmt: skip
VALUES = [
    "text", "", "  padded ", "42", "-7", "4.5", "true", "False", "maybe", "2020-01-02",
    "2020-13-02", b"bytes", b"42", 42, 4.5, True, False, None, date(2020, 1, 2), ["a", "list"],
]  # fmt: skip
STRINGS = [
    "", "plain", "tab\tnewline\nreturn\r", "é ü 中文", "\x00", "\x08", "\x0b", "\x0c", "\x1f",
    "\x20", "\ud7ff", "\ud800", "\udfff", "\ue000", "\ufffd", "\ufffe", "\uffff", "\U00010000",
    "\U0010ffff", "ok\x01", "ok\uffffok",
]  # fmt: skip
NOT_STRINGS = [b"bytes", b"", 42, None, ["a"], ("ab",), ["a", "b\x01"]]
INSTANTS = [
    "2026-11-24T10:00:00Z", "2026-11-24T10:00:00.123Z", "2026-11-24T10:00:00.123456789Z",
    "2026-11-24T10:00:00.Z", "2026-11-24T10:00:00.123", "2026-11-24T10:00:00", "",
    "2024-02-29T23:59:59Z", "2023-02-29T00:00:00Z", "2026-04-31T00:00:00Z",
    "2026-12-31T23:59:60Z", "2026-12-31T23:59:61Z", "2026-12-31T24:00:00Z",
    "2026-13-01T00:00:00Z", "0000-01-01T00:00:00Z", "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z", "2026-1-2T3:4:5Z", "2026-11-24t10:00:00Z", "2026-11-24T10:00:00z",
    "2026-11-24 10:00:00Z", " 2026-11-24T10:00:00Z", "2026-11-24T10:00:00Z ",
    "2026-11-24T10:00:00+00:00", "2026-11-24T10:00:00Z\n", "２０２６-11-24T10:00:00Z",
    "2026-11-24T10:00:00ZZ", "garbage", None, 0, b"2026-11-24T10:00:00Z",
]  # fmt: skip


def test_speedups_are_installed():
    assert AttributeValueBase.set_text is speedups.set_text
    assert validate.valid_string is speedups.valid_string
    assert validate.VALIDATOR["string"] is speedups.valid_string


def _outcome(function, *arguments):
    try:
        return ("returned", function(*arguments))
    except Exception as exc:  # noqa: BLE001 - the exception is the verdict compared
        return ("raised", type(exc), str(exc))


def _set_text_outcome(set_text, xsi_type, value, base64encode):
    element = AttributeValue()
    if xsi_type is not None:
        element.set_type(xsi_type)
    kind, *verdict = _outcome(set_text, element, value, base64encode)
    if kind == "returned":
        verdict = [verdict[0] is element]
    return (kind, *verdict, element.text, dict(element.extension_attributes))


def test_set_text_does_what_pysaml2s_does():
    cases = list(itertools.product(TYPES, VALUES, [False, True]))
    differences = [
        case
        for case in cases
        if _set_text_outcome(speedups.set_text, *case)
        != _set_text_outcome(speedups._pysaml2_set_text, *case)
    ]
    assert differences == []
    verdicts = {_set_text_outcome(speedups.set_text, *case)[0] for case in cases}
    assert verdicts == {"returned", "raised"}


@pytest.mark.parametrize("value", STRINGS + NOT_STRINGS, ids=repr)
def test_valid_string_does_what_pysaml2s_does(value):
    assert _outcome(speedups.valid_string, value) == _outcome(speedups._pysaml2_valid_string, value)


def _mutations(seed: int, count: int) -> list[str]:
    """Timestamps one to three edits away from the form SAML uses."""
    chance = random.Random(seed)
    alphabet = "0123456789-:TZ.+ zt"
    mutated = []
    for _ in range(count):
        text = list("2026-11-24T10:00:00.5Z")
        for _ in range(chance.randint(1, 3)):
            position = chance.randrange(len(text) + 1)
            edit = chance.choice(["replace", "insert", "delete"])
            if edit == "insert" or position == len(text):
                text.insert(position, chance.choice(alphabet))
            elif edit == "replace":
                text[position] = chance.choice(alphabet)
            else:
                del text[position]
        mutated.append("".join(text))
    return mutated


def test_str_to_time_does_what_pysaml2s_does():
    cases = [(text, time_util.TIME_FORMAT) for text in INSTANTS + _mutations(10, 3000)]
    cases += [
        ("2026-11-24T10:00:00Z", "%Y-%m-%dT%H:%M:%S"),
        ("Nov 24 10:00:00 2026 GMT", "%b %d %H:%M:%S %Y GMT"),
    ]
    differences = [
        case
        for case in cases
        if _outcome(speedups.str_to_time, *case) != _outcome(speedups._pysaml2_str_to_time, *case)
    ]
    assert differences == []
    verdicts = {_outcome(speedups.str_to_time, *case)[0] for case in cases}
    assert verdicts == {"returned", "raised"}


# Run in a fresh interpreter: start-up (django.setup, hence SsoConfig.ready), then every pysaml2
# module imported afterwards, in no particular order.
_MODULES_HOLDING_STR_TO_TIME = """
import importlib, json, pkgutil, warnings
import django
django.setup()
import saml2
from sso.saml.pysaml2 import speedups
warnings.simplefilter("ignore")
holding = {}
for module in pkgutil.walk_packages(saml2.__path__, "saml2."):
    try:
        namespace = vars(importlib.import_module(module.name))
    except ImportError:  # the optional dependencies (mongo, ldap, repoze) are not installed
        continue
    if "str_to_time" in namespace:
        holding[module.name] = namespace["str_to_time"] is speedups.str_to_time
print(json.dumps(holding))
"""


def test_str_to_time_is_installed_in_every_pysaml2_module_holding_it(pytestconfig):
    result = subprocess.run(
        [sys.executable, "-c", _MODULES_HOLDING_STR_TO_TIME],
        cwd=pytestconfig.rootpath,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "adminsite.settings_test"},
        capture_output=True,
        text=True,
        check=True,
    )
    holding = json.loads(result.stdout.splitlines()[-1])
    assert holding == dict.fromkeys(speedups.STR_TO_TIME_MODULES, True)


def test_str_to_time_is_installed_in_this_process():
    for name in speedups.STR_TO_TIME_MODULES:
        assert sys.modules[name].str_to_time is speedups.str_to_time


def test_valid_string_refuses_what_xml_does_not_allow():
    assert speedups.valid_string("\ud7ff\ue000\U0010ffff\t") is True
    for character in ["\x00", "\x1f", "\ud800", "\ufffe"]:
        with pytest.raises(validate.NotValid):
            speedups.valid_string(f"ok{character}")


def _typed_response(idp) -> str:
    spec = ResponseSpec(
        issuer=idp.entity_id,
        destination="https://sp.test/acs/",
        audience="https://sp.test/metadata/",
        email="grace@acme.test",
        attributes={f"attribute-{n}": f"value {n} é" for n in range(20)},
    )
    assertion = idp.assertion_xml(spec)
    for n, (xsi_type, text) in enumerate(
        [("xs:integer", "42"), ("xs:boolean", "true"), ("xs:date", "2020-01-02"),
         ("xs:base64Binary", "aGk="), ("xs:anyType", "any"), ("xs:double", "4.5")]
    ):  # fmt: skip
        assertion = assertion.replace(
            f'xsi:type="xs:string">value {n} é<', f'xsi:type="{xsi_type}">{text}<'
        )
    return idp.response_xml(spec, idp.strip_placeholder(assertion))


def _parsed(xml: str) -> tuple[str, bool]:
    response = samlp.response_from_string(xml)
    return response.to_string().decode(), validate.valid_instance(response)


def test_a_whole_response_reads_the_same_with_or_without_them(idp, monkeypatch):
    xml = _typed_response(idp)
    fast = _parsed(xml)
    monkeypatch.setattr(AttributeValueBase, "set_text", speedups._pysaml2_set_text)
    monkeypatch.setattr(validate, "valid_string", speedups._pysaml2_valid_string)
    monkeypatch.setitem(validate.VALIDATOR, "string", speedups._pysaml2_valid_string)
    monkeypatch.setattr(time_util, "str_to_time", speedups._pysaml2_str_to_time)
    assert fast == _parsed(xml)
    assert 'xsi:type="xs:integer" xmlns:xs="http://www.w3.org/2001/XMLSchema">42<' in fast[0]
