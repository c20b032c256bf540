from __future__ import annotations

import pytest
from django.core.cache import cache

from tests.factories import shared_idp_keys
from tests.fixtures.idp import KeyPair, TestIdP

pytest_plugins = ["tests.fixtures.browser"]


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(scope="session")
def idp_keys() -> KeyPair:
    return shared_idp_keys()


@pytest.fixture(scope="session")
def foreign_keys() -> KeyPair:
    """A key pair nobody configured: what an attacker signs with."""
    return KeyPair.generate("Attacker IdP")


@pytest.fixture
def certificate_pem(idp_keys: KeyPair) -> str:
    return idp_keys.certificate_pem


@pytest.fixture
def idp(idp_keys: KeyPair) -> TestIdP:
    return TestIdP(idp_keys)
