"""End-to-end fixtures: third-party IdPs run for real (the browser comes from
tests/fixtures/browser.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import NoReturn

import pytest

from tests.e2e.idps import ASSERTION, RESPONSE, AnyIdP, SamlIdpJs, SimpleSAMLphpIdP


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
