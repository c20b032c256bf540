"""Django system checks: the app refuses to start on SAML code nobody reviewed."""

from __future__ import annotations

from importlib import metadata
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error

from sso.saml.pysaml2.pins import REVIEWED_VERSIONS, changed_pins


def installed_version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def reviewed_saml_libraries_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """sso.E001: pysaml2 or djangosaml2 is not the reviewed version; sso.E002: code the
    project overrides, copies or patches differs from the reviewed source."""
    errors: list[CheckMessage] = []
    for distribution, reviewed in REVIEWED_VERSIONS.items():
        installed = installed_version(distribution)
        if installed != reviewed:
            errors.append(
                Error(
                    f"{distribution} {installed or '(none)'} is installed; this release was "
                    f"reviewed against {distribution} {reviewed}: its overrides in "
                    "sso/saml/pysaml2/ copy and patch that version's code.",
                    hint=f"Install {distribution}=={reviewed}, or review the overrides against "
                    f"{installed} and update REVIEWED_VERSIONS and the pins in "
                    "sso/saml/pysaml2/pins.py.",
                    id="sso.E001",
                )
            )
    changed = changed_pins()
    if changed:
        errors.append(
            Error(
                "The source of "
                + ", ".join(pin.name for pin in changed)
                + " differs from the one reviewed.",
                hint="Review "
                + "; ".join(pin.override for pin in changed)
                + " against it, then update its digest in sso/saml/pysaml2/pins.py.",
                id="sso.E002",
            )
        )
    return errors


def demo_idp_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """sso.E003: the demo IdP (it signs anyone in without a password) is on without DEBUG."""
    if settings.SSO_DEMO_IDP and not settings.DEBUG:
        return [
            Error(
                "SSO_DEMO_IDP is on while DEBUG is off: the demo IdP signs anyone of its "
                "domain in without a password and is for development only.",
                hint="Unset SSO_DEMO_IDP (it follows DJANGO_DEBUG), or run with DJANGO_DEBUG=true "
                "on a development machine.",
                id="sso.E003",
            )
        ]
    return []
