"""Smoke test of the end-to-end IdPs: each starts and publishes usable metadata. The round trip
through a real Chromium is tests/e2e/test_wizard_e2e.py."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.test import Client
from lxml import etree

from sso.saml.config import sp_acs_url, sp_entity_id
from sso.saml.metadata import parse_idp_metadata
from tests.e2e.idps import AnyIdP
from tests.factories import SSOProfileFactory

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"


@pytest.mark.django_db
def test_idp_publishes_metadata_with_redirect_sso(idp: AnyIdP, client: Client, tmp_path: Path):
    profile = SSOProfileFactory()
    response = client.get(f"/sso/saml2/{profile.sid}/metadata/")
    assert response.status_code == 200

    started = time.monotonic()
    idp.start(response.content.decode(), sp_entity_id(profile), sp_acs_url(profile), tmp_path)
    print(f"{idp.name} started in {time.monotonic() - started:.2f}s on {idp.base_url}")

    xml = idp.metadata_xml()
    root = etree.fromstring(xml.encode())
    descriptor = root.find(f"{{{MD}}}IDPSSODescriptor")
    assert descriptor is not None, xml
    bindings = {
        service.get("Binding"): service.get("Location")
        for service in descriptor.findall(f"{{{MD}}}SingleSignOnService")
    }
    assert bindings.get(REDIRECT) == idp.sso_url, bindings
    metadata = parse_idp_metadata(xml)
    assert (metadata.issuer, metadata.sso_url) == (idp.entity_id, idp.sso_url)
    assert len(metadata.certificates) == 1
