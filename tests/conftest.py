from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import clear_url_caches

from sso.models import Membership, Role
from tests.factories import MembershipFactory, shared_idp_keys
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
def cert_file(tmp_path: Path, certificate_pem: str) -> Path:
    """The IdP's certificate in a PEM file, as an admin hands it to the CLI or pysaml2 reads it."""
    path = tmp_path / "idp.pem"
    path.write_text(certificate_pem)
    return path


@pytest.fixture
def idp(idp_keys: KeyPair) -> TestIdP:
    return TestIdP(idp_keys)


@pytest.fixture
def admin() -> Membership:
    """An admin of a fresh organization."""
    return MembershipFactory(role=Role.ADMIN, user__email="admin@acme.test")


@pytest.fixture
def admin_client(client: Client, admin: Membership) -> Client:
    client.force_login(admin.user)
    return client


@pytest.fixture
def owner() -> Membership:
    """The owner of a fresh organization."""
    return MembershipFactory(role=Role.OWNER, user__email="owner@acme.test")


@pytest.fixture
def owner_client(client: Client, owner: Membership) -> Client:
    client.force_login(owner.user)
    return client


@pytest.fixture
def demo_idp(settings, tmp_path: Path) -> Iterator[Callable[..., None]]:
    """Route the demo IdP as adminsite/urls.py does for the given DEBUG and SSO_DEMO_IDP (the
    URLconf reads them once, at import), with its key in a fresh folder; undone afterwards."""
    import adminsite.urls

    def route(*, debug: bool = True, enabled: bool = True) -> None:
        settings.DEBUG = debug
        settings.SSO_DEMO_IDP = enabled
        settings.SSO_DEMO_IDP_DIR = tmp_path / "demo-idp"
        importlib.reload(adminsite.urls)
        clear_url_caches()

    yield route
    settings.DEBUG = settings.SSO_DEMO_IDP = False
    importlib.reload(adminsite.urls)
    clear_url_caches()
