"""The one pin list covers every override of pysaml2 and djangosaml2, and each pin holds."""

from __future__ import annotations

import importlib
import inspect

import pytest
from djangosaml2.backends import Saml2Backend
from saml2 import time_util

from sso.saml.pysaml2 import speedups
from sso.saml.pysaml2.pins import PINS, Pin, changed_pins, pinned_object, source_digest

PINNED = {pin.name for pin in PINS}

# Every module holding a class built on a pysaml2 or djangosaml2 one.
OVERRIDING_MODULES = [
    "sso.saml.pysaml2.client",
    "sso.saml.pysaml2.signature",
    "sso.saml.pysaml2.schema",
    "sso.saml.pysaml2.speedups",
    "sso.saml.config",
    "sso.backends",
    "sso.views.acs",
]
# What the overrides depend on without overriding it.
DEPENDED_ON = {
    "saml2.sigver.SecurityContext.__init__": "InProcessSecurityContext.replacing copies vars()",
    "saml2.sigver.RSACrypto.get_signer": "ProfileSigningKey stands in for RSACrypto",
    "saml2.xml.schema.validate": "schema.install() replaces it in saml2.sigver",
}
THIRD_PARTY = ("saml2", "djangosaml2")


@pytest.mark.parametrize("pin", PINS, ids=lambda pin: pin.name)
def test_pin_source_is_the_reviewed_one(pin):
    assert source_digest(pinned_object(pin.name)) == pin.reviewed, (
        f"{pin.name} changed: review {pin.override} against it, then update its digest in "
        "sso/saml/pysaml2/pins.py"
    )


def _overridden() -> set[str]:
    """`module.Class.method` of every pysaml2 or djangosaml2 method a class of ours redefines."""
    names = set()
    for module_name in OVERRIDING_MODULES:
        module = importlib.import_module(module_name)
        for cls in vars(module).values():
            if not inspect.isclass(cls) or cls.__module__ != module_name:
                continue
            for attribute in vars(cls):
                if attribute.startswith("__") and attribute != "__init__":
                    continue
                definer = next((base for base in cls.__mro__[1:] if attribute in vars(base)), None)
                if definer is not None and definer.__module__.split(".")[0] in THIRD_PARTY:
                    names.add(f"{definer.__module__}.{definer.__qualname__}.{attribute}")
    return names


def test_pins_cover_every_override_and_what_the_overrides_depend_on():
    required = _overridden() | set(DEPENDED_ON) | set(speedups.REPLACED)
    missing = [
        name
        for name in sorted(required)
        if name not in PINNED and name.rsplit(".", 1)[0] not in PINNED  # or its class, whole
    ]
    assert missing == []


def test_a_replaced_function_is_pinned_as_pysaml2s_own():
    assert time_util.str_to_time is speedups.str_to_time
    assert pinned_object("saml2.time_util.str_to_time") is speedups._pysaml2_str_to_time


def _is_authorized(self, *args, **kwargs):
    return True


def test_changed_pins_names_a_changed_or_vanished_source(monkeypatch):
    assert changed_pins() == []
    monkeypatch.setattr(Saml2Backend, "is_authorized", _is_authorized)
    gone = Pin("saml2.entity.Entity.gone", "0" * 64, "nothing")
    changed = changed_pins((*PINS, gone))
    assert [pin.name for pin in changed] == [
        "djangosaml2.backends.Saml2Backend.is_authorized",
        "saml2.entity.Entity.gone",
    ]
