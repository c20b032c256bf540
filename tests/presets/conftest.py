from __future__ import annotations

import pytest

from sso.profiles.presets import preset_for
from tests.factories import ActiveProfileFactory
from tests.fixtures.idp import KeyPair
from tests.fixtures.idps import STYLES, Style
from tests.fixtures.idps.builder import StyledIdP


@pytest.fixture(autouse=True, params=["inprocess", "xmlsec1"])
def signature_backend(request, settings) -> str:
    settings.SSO_SIGNATURE_BACKEND = request.param
    return request.param


@pytest.fixture
def style(request) -> Style:
    """The IdP kind's style: tests parametrize it indirectly with the kind."""
    return STYLES[request.param]


@pytest.fixture
def idp(idp_keys: KeyPair, style: Style) -> StyledIdP:
    return StyledIdP(idp_keys, style)


@pytest.fixture
def profile(style: Style):
    """An active profile for this kind, set up as the wizard sets it: the preset's default
    signature policy and the email attribute its guide names."""
    return ActiveProfileFactory(
        idp_kind=style.kind,
        idp_issuer=style.issuer,
        idp_sso_url=style.sso_url,
        signature_policy=preset_for(style.kind).default_policy,
        email_attribute=style.email_attribute,
        first_name_attribute=style.first_name_attribute,
        last_name_attribute=style.last_name_attribute,
    )
