"""SP metadata out."""

from __future__ import annotations

from saml2.metadata import entity_descriptor

from sso.models import SSOProfile
from sso.saml.config import sp_config_for


def sp_metadata_xml(profile: SSOProfile) -> str:
    """This profile's SP metadata: Entity ID, one HTTP-POST ACS, emailAddress, signing cert."""
    descriptor = entity_descriptor(sp_config_for(profile))
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + descriptor.to_string().decode()
