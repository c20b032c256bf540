"""IdP presets: one per kind, each in its IdP's words, with a policy it can reach."""

from __future__ import annotations

import pytest

from sso.models import IdPKind, LoginEvent, SignaturePolicy
from sso.profiles.diagnostics import fix_for
from sso.profiles.presets import GENERIC, PRESETS, WS_EMAIL, preset_for
from sso.reasons import Reason
from tests.factories import ActiveProfileFactory

KINDS = [kind for kind in IdPKind.values if kind != IdPKind.OTHER]


def test_every_kind_has_its_own_preset_and_other_is_generic():
    assert sorted(PRESETS) == sorted(KINDS)
    assert preset_for(IdPKind.OTHER) is GENERIC
    assert preset_for("unknown") is GENERIC
    assert len({preset.create_app for preset in PRESETS.values()}) == len(KINDS)


@pytest.mark.parametrize("kind", IdPKind.values)
def test_default_policy_is_one_the_idp_reaches_and_says_why_in_one_sentence(kind):
    preset = preset_for(kind)
    assert preset.default_policy in SignaturePolicy.values
    if not preset.signs_both:
        assert preset.default_policy != SignaturePolicy.BOTH
    assert preset.policy_reason.endswith(".") and ". " not in preset.policy_reason.rstrip(".")


def test_google_signs_one_part_never_both_and_its_guide_says_so():
    google = preset_for(IdPKind.GOOGLE)
    assert google.default_policy == SignaturePolicy.RESPONSE
    assert not google.signs_both
    assert "'Signed response'" in google.signing_field
    assert "always signs the assertion" not in google.signing_field
    assert "never both" in google.policy_reason


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        (IdPKind.KEYCLOAK, ["Sign documents", "Sign assertions"]),
        (IdPKind.ENTRA_ID, ["Signing Option", "Sign SAML response and assertion"]),
        (IdPKind.ADFS, ["Set-AdfsRelyingPartyTrust", "-SamlResponseSignature MessageAndAssertion"]),
        (IdPKind.AUTH0, ['"signResponse": true']),
        (IdPKind.ONELOGIN, ["SAML signature element: Both"]),
    ],
)
def test_signing_in_the_idps_own_words(kind, words):
    text = preset_for(kind).signing_field
    assert all(word in text for word in words)


def test_keycloak_names_its_switches():
    keycloak = preset_for(IdPKind.KEYCLOAK)
    assert "Name ID format" in keycloak.name_id_field
    assert "Force name ID format" in keycloak.name_id_field
    assert "Client signature required" in keycloak.sp_certificate_note
    assert "Encrypt assertions" in keycloak.encryption_field
    assert "username" in keycloak.name_id_note
    assert keycloak.email_claims[0] == "email"
    assert keycloak.first_name_claims[0] == "firstName"


def test_claim_names_of_microsoft_and_shibboleth():
    for kind in (IdPKind.ENTRA_ID, IdPKind.ADFS):
        assert preset_for(kind).email_claims[0] == WS_EMAIL
        assert preset_for(kind).first_name_claims[0].endswith("/claims/givenname")
        assert preset_for(kind).last_name_claims[0].endswith("/claims/surname")
    assert preset_for(IdPKind.ENTRA_ID).groups_claims == (
        "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups",
    )
    shibboleth = preset_for(IdPKind.SHIBBOLETH)
    assert shibboleth.email_claims[0] == "urn:oid:0.9.2342.19200300.100.1.3"
    assert "urn:oid:1.3.6.1.4.1.5923.1.1.1.6" in shibboleth.email_claims
    assert shibboleth.first_name_claims[0] == "urn:oid:2.5.4.42"
    assert shibboleth.last_name_claims[0] == "urn:oid:2.5.4.4"


def test_name_id_and_time_quirks():
    assert "UPN" in preset_for(IdPKind.ENTRA_ID).name_id_note or "principal name" in (
        preset_for(IdPKind.ENTRA_ID).name_id_note
    )
    assert "no NameID" in preset_for(IdPKind.ADFS).name_id_note
    assert "NotBefore equal to IssueInstant" in preset_for(IdPKind.ENTRA_ID).time_note
    for kind in (IdPKind.ONELOGIN, IdPKind.JUMPCLOUD):
        assert "SessionNotOnOrAfter" in preset_for(kind).time_note


def test_login_hint_only_where_the_idp_takes_one():
    hinted = {kind for kind in IdPKind.values if preset_for(kind).login_hint_parameter}
    assert hinted == {IdPKind.ENTRA_ID, IdPKind.KEYCLOAK}
    assert preset_for(IdPKind.ENTRA_ID).login_hint_parameter == "login_hint"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "policy", "reason", "expected"),
    [
        (
            IdPKind.ENTRA_ID,
            SignaturePolicy.BOTH,
            Reason.RESPONSE_UNSIGNED,
            "In Microsoft Entra ID, SAML Signing Certificate → Signing Option: Sign SAML "
            "response and assertion; or, if it signs only the Assertion, set this profile's "
            "Signature policy to 'Assertion signed",
        ),
        (
            IdPKind.KEYCLOAK,
            SignaturePolicy.BOTH,
            Reason.ASSERTION_UNSIGNED,
            "In Keycloak, Signature and Encryption → Sign assertions: On; or set this "
            "profile's Signature policy to 'Response signed",
        ),
        (
            IdPKind.GOOGLE,
            SignaturePolicy.BOTH,
            Reason.ASSERTION_UNSIGNED,
            "Google Workspace never signs both the Response and the Assertion: set this "
            "profile's Signature policy to 'Response signed",
        ),
        (
            IdPKind.GOOGLE,
            SignaturePolicy.RESPONSE,
            Reason.RESPONSE_UNSIGNED,
            "In Google Workspace, Service provider details → check 'Signed response'",
        ),
        (
            IdPKind.KEYCLOAK,
            SignaturePolicy.BOTH,
            Reason.NAMEID_FORMAT,
            "Keycloak sends the username (format unspecified) as NameID",
        ),
        (
            IdPKind.ENTRA_ID,
            SignaturePolicy.BOTH,
            Reason.NOT_YET_VALID,
            "Entra ID sets NotBefore equal to IssueInstant",
        ),
    ],
)
def test_fix_texts_use_the_presets_words_and_the_policy(kind, policy, reason, expected):
    profile = ActiveProfileFactory(idp_kind=kind, signature_policy=policy)
    event = LoginEvent(profile=profile, reason=reason, detail={})
    assert expected in fix_for(event, profile)
