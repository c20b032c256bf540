"""End-to-end fixtures: third-party IdPs run for real (the browser comes from
tests/fixtures/browser.py)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from typing import NoReturn

import pytest

from tests.e2e.idps import ASSERTION, GRACE, RESPONSE, AnyIdP, SamlIdpJs, SimpleSAMLphpIdP
from tests.e2e.keycloak import KeycloakRealm, KeycloakServer


def _skip_or_fail(message: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(params=[SimpleSAMLphpIdP, SamlIdpJs], ids=["simplesamlphp", "saml-idp"])
def idp(request: pytest.FixtureRequest) -> Iterator[AnyIdP]:
    """Each IdP in turn, not started yet (the test has the SP metadata); stopped afterwards."""
    kind: type[AnyIdP] = request.param
    if problem := kind.missing():
        _skip_or_fail(problem)
    instance = kind()
    yield instance
    instance.stop()


@pytest.fixture
def simplesamlphp() -> Iterator[SimpleSAMLphpIdP]:
    """SimpleSAMLphp alone (it checks our AuthnRequest signature), not started yet; stopped
    afterwards."""
    if problem := SimpleSAMLphpIdP.missing():
        _skip_or_fail(problem)
    instance = SimpleSAMLphpIdP()
    yield instance
    instance.stop()


@pytest.fixture(
    params=[(SimpleSAMLphpIdP, RESPONSE), (SamlIdpJs, ASSERTION)],
    ids=["simplesamlphp-signs-response", "saml-idp-signs-assertion"],
)
def single_signing_idp(request: pytest.FixtureRequest) -> Iterator[AnyIdP]:
    """Each IdP in a mode that signs one part only, the way most real IdPs do by default."""
    kind, signs = request.param
    if problem := kind.missing():
        _skip_or_fail(problem)
    instance = kind(signs=signs)
    yield instance
    instance.stop()


@pytest.fixture(scope="session")
def keycloak_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KeycloakServer]:
    """One Keycloak for the whole run: it takes half a minute to start."""
    if problem := KeycloakServer.missing():
        _skip_or_fail(problem)
    server = KeycloakServer()
    server.start(tmp_path_factory.mktemp("keycloak"))
    print(f"Keycloak started in {server.startup_seconds:.1f}s on {server.base_url}")
    yield server
    server.stop()


@pytest.fixture
def keycloak(keycloak_server: KeycloakServer) -> Iterator[KeycloakRealm]:
    """A realm of the test's own, with Grace in it and no client yet; deleted afterwards."""
    realm = keycloak_server.admin().realm_create(f"acme-{secrets.token_hex(4)}")
    realm.user_create(GRACE)
    yield realm
    realm.delete()
