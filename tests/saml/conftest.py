from __future__ import annotations

import pytest

from tests.fixtures.idp import ResponseSpec


@pytest.fixture
def spec(profile) -> ResponseSpec:
    """A response for the module's `profile`: its issuer, audience and ACS."""
    return ResponseSpec.for_profile(profile)
