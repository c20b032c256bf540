"""Signature wrapping on each preset's own documents: the single-signature modes its usual
settings or its guide's use, every variant of tests/fixtures/wrapping.py, real keys."""

from __future__ import annotations

from http import HTTPStatus

import pytest

from sso.models import SignaturePolicy, User
from tests.fixtures.idps import ASSERTION_ONLY, BOTH, RESPONSE_ONLY, STYLES
from tests.fixtures.idps.builder import StyledWrapper
from tests.fixtures.wrapping import ASSERTION_VARIANTS, EVIL_EMAIL, RESPONSE_VARIANTS, wrapped
from tests.saml.test_acs import last_event, post_response

pytestmark = pytest.mark.django_db

MODES = {SignaturePolicy.ASSERTION: ASSERTION_ONLY, SignaturePolicy.RESPONSE: RESPONSE_ONLY}
VARIANTS = {
    SignaturePolicy.ASSERTION: ASSERTION_VARIANTS,
    SignaturePolicy.RESPONSE: RESPONSE_VARIANTS,
}


def _cases() -> list[tuple[str, str, str]]:
    cases = []
    for kind, style in STYLES.items():
        used = [
            policy
            for policy, signing in MODES.items()
            if signing in (style.default_signing, style.guide_signing)
        ]
        if used:
            cases += [(kind, policy, name) for policy in used for name in VARIANTS[policy]]
        else:
            # It signs both at its usual settings; a profile may still choose one mode.
            cases += [(kind, policy, name) for policy in MODES for name in VARIANTS[policy][:2]]
    return cases


CASES = _cases()


@pytest.mark.parametrize(
    ("style", "policy", "variant"),
    CASES,
    indirect=["style"],
    ids=[f"{kind}-{policy}-{variant}" for kind, policy, variant in CASES],
)
def test_preset_wrapped_document_refused_and_the_genuine_one_accepted(
    client, profile, idp, style, policy, variant
):
    profile.signature_policy = policy
    profile.allow_idp_initiated = True
    profile.save()
    sign_response, sign_assertion = MODES[policy]
    wrapper = StyledWrapper(
        idp,
        style.spec(profile, guide=True),
        sign_response=sign_response,
        sign_assertion=sign_assertion,
    )
    xml = wrapped(wrapper, policy, variant)
    assert EVIL_EMAIL in xml

    response = post_response(client, profile, xml)

    assert response.status_code in (HTTPStatus.BAD_REQUEST, HTTPStatus.FORBIDDEN)
    assert last_event().reason in {
        "malformed_response",
        "signature_invalid",
        "response_unsigned",
        "assertion_unsigned",
    }, last_event().detail
    assert not User.objects.filter(email=EVIL_EMAIL).exists()
    assert "_auth_user_id" not in client.session

    genuine = post_response(client, profile, wrapper.genuine)
    assert genuine.status_code == HTTPStatus.FOUND, last_event().detail
    assert not User.objects.filter(email=EVIL_EMAIL).exists()


def test_every_preset_has_wrapping_cases():
    assert {kind for kind, _, _ in CASES} == set(STYLES)
    assert all(style.default_signing != BOTH or style.can_sign_both for style in STYLES.values())
