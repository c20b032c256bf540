"""What single IdPs do that the others do not, on their own documents through the real ACS."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from lxml import etree

from sso.models import IdPKind, SubjectLink, User
from sso.profiles.diagnostics import fix_for
from sso.profiles.presets import WS_EMAIL
from tests.fixtures.idps import ASSERTION_ONLY, PERSISTENT_FORMAT, STYLES
from tests.fixtures.wrapping import SAML
from tests.saml.test_acs import assert_refused, last_event, post_response, start_login

pytestmark = pytest.mark.django_db


def kinds(*values: str):
    return pytest.mark.parametrize("style", list(values), indirect=True)


def login(client, profile, idp, style, **changes):
    request_id = start_login(client, profile)
    spec = style.spec(profile, guide=True, in_response_to=request_id, **changes)
    return post_response(client, profile, idp.signed_as(spec, style.guide_signing))


def signed_in(response, email: str = "grace@acme.test") -> User:
    assert response.status_code == HTTPStatus.FOUND, last_event().detail
    assert response.wsgi_request.user.email == email
    return response.wsgi_request.user


@kinds(IdPKind.ENTRA_ID)
def test_entra_emailaddress_claim_mapped_with_a_pairwise_nameid_links_the_subject(
    client, profile, idp, style
):
    """The Unique User Identifier set to persistent: Entra sends a pairwise opaque id, and the
    admin maps the email from the emailaddress claim under the name Entra shows for it."""
    profile.email_attribute = WS_EMAIL
    profile.save()
    pairwise = "Yx3kQm0VbR2nT8wLpZc5sJ1uHf4gDe6aKq9iNo7rMt0"

    user = signed_in(
        login(client, profile, idp, style, name_id_format=PERSISTENT_FORMAT, email=pairwise)
    )

    link = SubjectLink.objects.get(profile=profile)
    assert (link.name_id_format, link.name_id, link.user) == (PERSISTENT_FORMAT, pairwise, user)
    assert last_event().detail["email_from"] == WS_EMAIL


@kinds(IdPKind.ENTRA_ID)
def test_entra_user_without_a_mailbox_refused_naming_the_claims_that_arrived(
    client, profile, idp, style
):
    profile.email_attribute = WS_EMAIL
    profile.save()
    attributes = {name: value for name, value in style.attributes.items() if name != WS_EMAIL}

    assert_refused(
        login(client, profile, idp, style, attributes=attributes), "email_attribute_missing"
    )

    event = last_event()
    assert event.detail["attribute"] == WS_EMAIL
    assert (
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"
        in (event.detail["received_attributes"])
    )
    assert WS_EMAIL in fix_for(event, profile)


@kinds(IdPKind.ENTRA_ID, IdPKind.ADFS, IdPKind.KEYCLOAK)
def test_not_before_equal_to_issue_instant_accepted(client, profile, idp, style):
    request_id = start_login(client, profile)
    spec = style.spec(profile, guide=True, in_response_to=request_id)
    xml = idp.signed_as(spec, style.guide_signing)
    assertion = etree.fromstring(xml.encode()).find(f"{{{SAML}}}Assertion")
    conditions = assertion.find(f"{{{SAML}}}Conditions")
    assert conditions.get("NotBefore") == assertion.get("IssueInstant")

    signed_in(post_response(client, profile, xml))


@kinds(IdPKind.ONELOGIN, IdPKind.JUMPCLOUD, IdPKind.KEYCLOAK, IdPKind.SIMPLESAMLPHP)
def test_session_not_on_or_after_on_the_authn_statement_accepted(client, profile, idp, style):
    request_id = start_login(client, profile)
    xml = idp.signed_as(
        style.spec(profile, guide=True, in_response_to=request_id), style.guide_signing
    )
    assert "SessionNotOnOrAfter=" in xml
    signed_in(post_response(client, profile, xml))


@kinds(IdPKind.ONELOGIN, IdPKind.AUTH0)
def test_sha1_default_refused_as_weak_naming_the_algorithm_setting(client, profile, idp, style):
    signature, digest = style.default_algorithms
    request_id = start_login(client, profile)
    spec = style.spec(profile, guide=True, in_response_to=request_id)
    xml = idp.signed_as(spec, style.guide_signing, algorithm=signature, digest=digest)
    assert "xmldsig#rsa-sha1" in xml

    assert_refused(post_response(client, profile, xml), "weak_signature_algorithm")
    assert "SHA-256" in fix_for(last_event(), profile)


@kinds(IdPKind.ADFS)
def test_adfs_without_a_name_id_claim_rule_refused_with_the_claim_rule_to_add(
    client, profile, idp, style
):
    profile.signature_policy = "assertion"
    profile.save()
    request_id = start_login(client, profile)
    xml = idp.signed_as(style.spec(profile, in_response_to=request_id), ASSERTION_ONLY)
    assert "NameID" not in xml

    assert_refused(post_response(client, profile, xml), "missing_nameid")
    assert "E-Mail-Addresses → Name ID" in fix_for(last_event(), profile)


@kinds(IdPKind.SHIBBOLETH)
def test_shibboleth_persistent_nameid_keeps_the_account_when_mail_changes(
    client, profile, idp, style
):
    """saml-nameid.xml's persistent generator (a stored or computed ID): the subject is linked,
    and the person whose mail changes at the IdP signs in to the same account."""
    persistent = "5k2Vb9Qm1XzR7tLp3NcYhJ8uWfA="
    first = signed_in(
        login(client, profile, idp, style, name_id_format=PERSISTENT_FORMAT, email=persistent)
    )
    client.logout()
    attributes = {**style.attributes, style.email_attribute: "grace.hopper@acme.test"}

    again = signed_in(
        login(
            client,
            profile,
            idp,
            style,
            name_id_format=PERSISTENT_FORMAT,
            email=persistent,
            attributes=attributes,
        ),
        "grace.hopper@acme.test",
    )

    assert again.pk == first.pk
    assert SubjectLink.objects.get(profile=profile).name_id == persistent


@kinds(IdPKind.SHIBBOLETH, IdPKind.SIMPLESAMLPHP)
def test_transient_nameid_never_linked_each_login_finds_the_account_by_email(
    client, profile, idp, style
):
    first = signed_in(login(client, profile, idp, style))
    client.logout()
    again = signed_in(login(client, profile, idp, style, email="_" + "0" * 40))
    assert again.pk == first.pk
    assert not SubjectLink.objects.exists()


def test_styles_cover_every_idp_kind():
    assert set(STYLES) == set(IdPKind.values)
