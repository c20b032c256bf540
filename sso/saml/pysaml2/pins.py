"""Every pysaml2 and djangosaml2 object this project subclasses, copies or patches, pinned.

Each pin is the sha256 of the object's source as it was when the override depending on it was
reviewed. An upgrade that changes one of them makes tests/saml/pysaml2/test_pins.py fail and
`manage.py check` refuse to start (sso/checks.py) until someone has reviewed the override
against the new code, then updated the digest here.
"""

from __future__ import annotations

import hashlib
import inspect
from dataclasses import dataclass
from importlib import import_module

from sso.saml.pysaml2 import speedups

REVIEWED_VERSIONS = {"pysaml2": "7.5.5", "djangosaml2": "1.12.0"}


@dataclass(frozen=True)
class Pin:
    name: str  # dotted path, as `import_module` and `getattr` reach it
    reviewed: str  # sha256 of `inspect.getsource`
    override: str  # what in this project depends on it


PINS = (
    Pin(
        "saml2.sigver.SecurityContext.__init__",
        "e45ae9e0a4981df363a38580ded594ad75a70f7e21e5bedc2aed4963c838eb5c",
        "client.py InProcessSecurityContext.replacing copies the attributes it sets (vars())",
    ),
    Pin(
        "saml2.sigver.SecurityContext._check_signature",
        "aaa53953eefd3065c4ca5a0938960c8272a555fed99bffc55256af1c2d2246f4",
        "client.py InProcessSecurityContext._check_signature, xmldsig_profile_violations",
    ),
    Pin(
        "saml2.sigver.SecurityContext.correctly_signed_response",
        "90216a8181ee9e91fe6c5a713375d73010c7b3d09b43ac1dbddf89ac8ef58463",
        "client.py InProcessSecurityContext.correctly_signed_response",
    ),
    Pin(
        "saml2.create_class_from_xml_string",
        "b652d412b09230b3cafb2f32cfec6f91c7b6ceebe182785a6d837c2100a82bf8",
        "client.py InProcessSecurityContext.correctly_signed_response parses in its place",
    ),
    Pin(
        "saml2.sigver.CryptoBackend",
        "9440a76e32b764b0dd5389d377bd5705e79e6aba72663e51f4ed4710c670e5db",
        "signature.py InProcessXmlSecBackend",
    ),
    Pin(
        "saml2.sigver.RSACrypto.get_signer",
        "1f9d2d686101ab0879359d52f96fa02b95736be807c44974d32ea79773881883",
        "config.py ProfileSigningKey (and sso/devidp/saml.py _DemoSigningKey) stands in for "
        "RSACrypto as the context's sec_backend",
    ),
    Pin(
        "saml2.pack.http_redirect_message",
        "b1e26d0969e802d56a952d0a8da6b5f857ebae064f5f145a4d2f33058715d9ec",
        "config.py ProfileSigningKey.get_signer (and _DemoSigningKey's), as this caller uses it",
    ),
    Pin(
        "saml2.response.AuthnResponse.get_identity",
        "167c29dda006c5708a75bbf7c092fcb22779831c51f4a1ed00955c0327769d64",
        "client.py ProfileAuthnResponse.get_identity",
    ),
    Pin(
        "saml2.client_base.Base.__init__",
        "3575a19277c9db17b0d469ebba7d1599a843adcefa5d392ffe1919e47cf15c8e",
        "client.py ProfileSaml2Client.__init__ replaces the `sec` context it builds",
    ),
    Pin(
        "saml2.entity.Entity.unravel",
        "9dc413f58bb153350a471befc0663f64bfa091fdd73f6de1f658d6ca40ab5f30",
        "client.py ProfileSaml2Client.unravel",
    ),
    Pin(
        "saml2.entity.Entity._parse_response",
        "f1d023a7b06f9f4c611cbe0338d863e2db66d104964cfc4696d4084054762acb",
        "client.py ProfileSaml2Client._parse_response",
    ),
    Pin(
        "saml2.xml.schema.validate",
        "0f3b141989a0e400b74f43228363220a14dbe51ea7d1fbcacbe1746010cf4e3e",
        "schema.py validate, installed as saml2.sigver.validate_doc_with_schema",
    ),
    Pin(
        "saml2.saml.AttributeValueBase.set_text",
        "3ac7cd58226e72d0f4133e18488207a06103ea3bd20afa18e761150536c8a26b",
        "speedups.py set_text",
    ),
    Pin(
        "saml2.validate.valid_string",
        "87a26ada32351a50743967d7a6c1b5254975d4866b9d9a49312a0e394817a293",
        "speedups.py valid_string",
    ),
    Pin(
        "saml2.time_util.str_to_time",
        "079d99a368b294c90022cd1025f0cba40ef3d44e31b558772d585d773f062cd1",
        "speedups.py str_to_time",
    ),
    Pin(
        "djangosaml2.overrides.Saml2Client",
        "c25d52e0b2ccf4694eb5e2b5dd800ed9793f791d5cc4de1811324299524024aa",
        "client.py ProfileSaml2Client",
    ),
    Pin(
        "djangosaml2.backends.Saml2Backend.authenticate",
        "7a625797eb8d7b0db2159906178986e9dee6078cb60148c651705a453f139923",
        "sso/backends.py ProfileSaml2Backend",
    ),
    Pin(
        "djangosaml2.backends.Saml2Backend.get_or_create_user",
        "bd70e4348704d5f61083b84cdfb1550bc9fd1614de824d87c771cf317431b3b2",
        "sso/backends.py ProfileSaml2Backend",
    ),
    Pin(
        "djangosaml2.backends.Saml2Backend._update_user",
        "91833aad3a908c6ef4b092e18f477c83d704b6fa2f75db3329612d83f461b0a8",
        "sso/backends.py ProfileSaml2Backend",
    ),
    Pin(
        "djangosaml2.backends.Saml2Backend.is_authorized",
        "eb0d36782b899efed4a32c66435dec97190d256e95dbbf2ff3d0ef6d67bbed2c",
        "sso/backends.py ProfileSaml2Backend",
    ),
    Pin(
        "djangosaml2.backends.Saml2Backend.clean_user_main_attribute",
        "6518368bf7953ff5dcf93e3feb12956416f8d6c0b0cd819e58013b8abeef1cbc",
        "sso/backends.py ProfileSaml2Backend",
    ),
    Pin(
        "djangosaml2.backends.Saml2Backend.clean_attributes",
        "be79f56a24e18cfe844b074650eedaad04e585b5edfb3f9909cb39076f91f86a",
        "sso/backends.py ProfileSaml2Backend",
    ),
    Pin(
        "djangosaml2.conf.get_config",
        "89c3e9c4916ccf2dd29035695aa0d7add6b1b38f39482ec236b8da175d964cff",
        "sso/saml/config.py sp_config_for_request, the SAML_CONFIG_LOADER it calls",
    ),
)


def source_digest(obj: object) -> str:
    return hashlib.sha256(inspect.getsource(obj).encode()).hexdigest()


def pinned_object(name: str) -> object:
    """The object a pin names; for one that speedups.install() replaced, pysaml2's own.

    Raises ImportError or AttributeError when it no longer exists.
    """
    if name in speedups.REPLACED:
        return speedups.REPLACED[name]
    parts = name.split(".")
    for split in range(len(parts) - 1, 0, -1):
        try:
            obj = import_module(".".join(parts[:split]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[split:]:
            obj = getattr(obj, attribute)
        return obj
    raise ImportError(f"no module in {name}")


def changed_pins(pins: tuple[Pin, ...] = PINS) -> list[Pin]:
    """The pins whose object is gone or whose source is not the one reviewed."""
    changed = []
    for pin in pins:
        try:
            digest = source_digest(pinned_object(pin.name))
        except (ImportError, AttributeError, OSError, TypeError):
            digest = None
        if digest != pin.reviewed:
            changed.append(pin)
    return changed
