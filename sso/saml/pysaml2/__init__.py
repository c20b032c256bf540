"""Every subclass, copy and patch of pysaml2 (and djangosaml2), each pinned in pins.py."""

from __future__ import annotations


def install() -> None:
    """Apply every process-wide patch to pysaml2; SsoConfig.ready() calls it, once."""
    from sso.saml.pysaml2 import schema, speedups

    schema.install()
    speedups.install()
