"""Each preset's IdP at its usual settings and at its guide's, through the real ACS: the
documents tests/fixtures/idps writes as that IdP does, signed with real keys."""

from __future__ import annotations

from http import HTTPStatus

import pytest

from sso.models import SignaturePolicy, SubjectLink, User
from sso.profiles.presets import preset_for
from tests.fixtures.idp import EMAIL_FORMAT
from tests.fixtures.idps import (
    ASSERTION_ONLY,
    BOTH,
    GRACE,
    RESPONSE_ONLY,
    STYLES,
    Style,
    accepted_under,
)
from tests.fixtures.idps.builder import StyledIdP
from tests.saml.test_acs import assert_refused, last_event, post_response, start_login

pytestmark = pytest.mark.django_db

KINDS = list(STYLES)
BOTH_KINDS = [kind for kind, style in STYLES.items() if style.can_sign_both]
NAMES = {(True, True): ["response", "assertion"], (False, True): ["assertion"]}
NAMES[(True, False)] = ["response"]
SINGLE = {ASSERTION_ONLY: SignaturePolicy.ASSERTION, RESPONSE_ONLY: SignaturePolicy.RESPONSE}


def kinds(values: list[str]):
    return pytest.mark.parametrize("style", values, indirect=True)


def login(client, profile, idp: StyledIdP, style: Style, signing: tuple[bool, bool], **changes):
    request_id = start_login(client, profile)
    spec = style.spec(profile, in_response_to=request_id, **changes)
    return post_response(client, profile, idp.signed_as(spec, signing))


def set_policy(profile, policy: str) -> None:
    profile.signature_policy = policy
    profile.save()


def assert_signed_in(response, email: str = GRACE) -> User:
    assert response.status_code == HTTPStatus.FOUND, last_event().detail
    assert response.wsgi_request.user.email == email
    return response.wsgi_request.user


def missing_signature(policy: str, signing: tuple[bool, bool]) -> str:
    sign_response, _ = signing
    needs_response = policy in (SignaturePolicy.BOTH, SignaturePolicy.RESPONSE)
    return "response_unsigned" if needs_response and not sign_response else "assertion_unsigned"


@kinds(KINDS)
def test_preset_default_signing_accepted_or_refused_naming_the_missing_signature(
    client, profile, idp, style
):
    policy = preset_for(style.kind).default_policy
    signing = style.default_signing
    if not accepted_under(policy, signing):
        assert_refused(
            login(client, profile, idp, style, signing), missing_signature(policy, signing)
        )
        assert not User.objects.exists()
        assert last_event().detail["signature_policy"] == policy
        policy = SINGLE[signing]
        set_policy(profile, policy)
    response = login(client, profile, idp, style, signing)
    if style.default_refusal:
        # The next switch its guide names (ADFS: the Name ID claim rule).
        assert_refused(response, style.default_refusal)
        return
    assert_signed_in(response)
    event = last_event()
    assert (event.detail["signed"], event.detail["signature_policy"]) == (NAMES[signing], policy)


@kinds(KINDS)
def test_preset_guide_signing_accepted_under_its_default_policy(client, profile, idp, style):
    assert_signed_in(login(client, profile, idp, style, style.guide_signing, guide=True))
    assert last_event().detail["signed"] == NAMES[style.guide_signing]


@kinds(BOTH_KINDS)
def test_preset_both_signed_accepted_under_both(client, profile, idp, style):
    set_policy(profile, SignaturePolicy.BOTH)
    assert_signed_in(login(client, profile, idp, style, BOTH, guide=True))


@kinds(KINDS)
def test_preset_claims_fill_the_account_and_link_only_a_stable_subject(client, profile, idp, style):
    user = assert_signed_in(login(client, profile, idp, style, style.guide_signing, guide=True))

    assert (user.first_name, user.last_name) == ("Grace", "Hopper")
    event = last_event()
    name_id_format = style.guide_changes.get("name_id_format", style.name_id_format)
    if style.email_attribute:
        assert event.detail["email_from"] == style.email_attribute
    else:
        assert name_id_format == EMAIL_FORMAT
        assert "email_from" not in event.detail  # the NameID
    groups = next(
        (
            style.attributes[name]
            for name in preset_for(style.kind).groups_claims
            if name in style.attributes
        ),
        [],
    )
    assert event.detail.get("groups", []) == groups, event.detail
    links = list(SubjectLink.objects.filter(profile=profile).values_list("name_id", "user"))
    assert links == ([(style.name_id, user.pk)] if style.links_subject else [])
