"""Attribute mapping, stable subject links and the email account key, through the ACS with
real signed responses."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.test import Client

from sso.models import AuditAction, AuditEvent, IdPKind, SubjectLink, User
from sso.profiles.diagnostics import fix_for
from tests.factories import ActiveProfileFactory, MembershipFactory, TrustedDomainFactory
from tests.fixtures.idp import EMAIL_FORMAT, UNSPECIFIED_FORMAT, ResponseSpec, TestIdP, new_id
from tests.saml.test_acs import assert_refused, last_event, post_response, start_login

pytestmark = pytest.mark.django_db

PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
TRANSIENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"


@pytest.fixture
def keycloak():
    """Keycloak at its defaults: NameID = the username (unspecified), the email an attribute."""
    return ActiveProfileFactory(idp_kind=IdPKind.KEYCLOAK)


def login(client: Client, profile, idp: TestIdP, *, name_id: str, name_id_format: str, **attrs):
    request_id = start_login(client, profile)
    spec = ResponseSpec.for_profile(
        profile,
        in_response_to=request_id,
        email=name_id,
        name_id_format=name_id_format,
        attributes=attrs or {"givenName": "Grace"},  # an empty AttributeStatement is invalid
        response_id=new_id(),
        assertion_id=new_id(),
    )
    return post_response(client, profile, idp.signxml_response(spec))


def signed_in(response, email: str) -> User:
    assert response.status_code == HTTPStatus.FOUND, last_event().detail
    user = User.objects.get(pk=response.wsgi_request.session["_auth_user_id"])
    assert user.email == email
    return user


@pytest.mark.parametrize("email_attribute", ["", "email"])
def test_acs_keycloak_email_from_attribute_signs_in_and_links_the_username(
    client, keycloak, idp, email_attribute
):
    keycloak.email_attribute = email_attribute
    keycloak.save()
    response = login(
        client,
        keycloak,
        idp,
        name_id="ghopper",
        name_id_format=UNSPECIFIED_FORMAT,
        email="Grace@acme.test",
        firstName="Grace",
        lastName="Hopper",
    )

    user = signed_in(response, "grace@acme.test")
    assert (user.first_name, user.last_name) == ("Grace", "Hopper")
    link = SubjectLink.objects.get(profile=keycloak)
    assert (link.name_id_format, link.name_id, link.user) == (UNSPECIFIED_FORMAT, "ghopper", user)
    event = last_event()
    assert (event.email, event.detail["email_from"], event.detail["subject"]) == (
        "grace@acme.test",
        "email",
        "ghopper",
    )


def test_acs_email_changed_at_the_idp_same_subject_lands_in_the_same_account(client, idp):
    profile = ActiveProfileFactory(email_attribute="mail")
    first = signed_in(
        login(
            Client(), profile, idp, name_id="p-1", name_id_format=PERSISTENT, mail="grace@acme.test"
        ),
        "grace@acme.test",
    )

    again = signed_in(
        login(
            client, profile, idp, name_id="p-1", name_id_format=PERSISTENT, mail="ghopper@acme.test"
        ),
        "ghopper@acme.test",
    )

    assert again == first
    assert User.objects.count() == 1
    audit = AuditEvent.objects.get(action=AuditAction.CHANGED, profile=profile)
    assert audit.changes["email"] == ["grace@acme.test", "ghopper@acme.test"]
    assert last_event().detail["email_changed"] is True


def test_acs_email_changed_to_one_another_account_holds_keeps_the_stored_email(client, idp):
    profile = ActiveProfileFactory(email_attribute="mail")
    first = signed_in(
        login(
            Client(), profile, idp, name_id="p-1", name_id_format=PERSISTENT, mail="grace@acme.test"
        ),
        "grace@acme.test",
    )
    MembershipFactory(organization=profile.organization, user__email="ada@acme.test")

    response = login(
        client, profile, idp, name_id="p-1", name_id_format=PERSISTENT, mail="ada@acme.test"
    )

    assert signed_in(response, "grace@acme.test") == first
    assert not AuditEvent.objects.filter(action=AuditAction.CHANGED, profile=profile).exists()


def test_acs_new_person_reusing_an_old_email_does_not_inherit_the_account(client, idp):
    profile = ActiveProfileFactory(email_attribute="mail")
    old = signed_in(
        login(
            Client(),
            profile,
            idp,
            name_id="p-old",
            name_id_format=PERSISTENT,
            mail="grace@acme.test",
        ),
        "grace@acme.test",
    )

    response = login(
        client, profile, idp, name_id="p-new", name_id_format=PERSISTENT, mail="grace@acme.test"
    )

    assert_refused(response, "subject_mismatch")
    assert list(SubjectLink.objects.values_list("name_id", "user")) == [("p-old", old.pk)]
    assert "p-new" in fix_for(last_event(), profile)


def test_acs_existing_account_gets_linked_at_its_first_attribute_mapped_login(client, idp):
    profile = ActiveProfileFactory(email_attribute="mail")
    member = MembershipFactory(organization=profile.organization, user__email="grace@acme.test")

    response = login(
        client, profile, idp, name_id="p-1", name_id_format=PERSISTENT, mail="grace@acme.test"
    )

    assert signed_in(response, "grace@acme.test") == member.user
    assert SubjectLink.objects.get(profile=profile).user == member.user


def test_acs_transient_nameid_is_never_linked(idp):
    profile = ActiveProfileFactory(email_attribute="mail")
    first = signed_in(
        login(
            Client(),
            profile,
            idp,
            name_id=new_id(),
            name_id_format=TRANSIENT,
            mail="grace@acme.test",
        ),
        "grace@acme.test",
    )
    again = signed_in(
        login(
            Client(),
            profile,
            idp,
            name_id=new_id(),
            name_id_format=TRANSIENT,
            mail="grace@acme.test",
        ),
        "grace@acme.test",
    )

    assert again == first
    assert not SubjectLink.objects.exists()


def test_acs_email_from_the_nameid_is_never_linked(client, idp):
    profile = ActiveProfileFactory()
    signed_in(
        login(client, profile, idp, name_id="grace@acme.test", name_id_format=EMAIL_FORMAT),
        "grace@acme.test",
    )
    assert not SubjectLink.objects.exists()


def test_acs_missing_mapped_email_attribute_refused_with_the_names_that_arrived(client, idp):
    profile = ActiveProfileFactory(email_attribute="mail")

    response = login(
        client,
        profile,
        idp,
        name_id="p-1",
        name_id_format=PERSISTENT,
        email="grace@acme.test",
        givenName="Grace",
    )

    assert_refused(response, "email_attribute_missing")
    event = last_event()
    assert event.detail["attribute"] == "mail"
    assert event.detail["received_attributes"] == ["email", "givenName"]
    fix = fix_for(event, profile)
    assert "mail" in fix
    assert "email, givenName" in fix
    assert not User.objects.exists()


def test_acs_nameid_not_an_email_without_email_attributes_offers_the_mapping(client, idp):
    profile = ActiveProfileFactory()

    response = login(client, profile, idp, name_id="ghopper", name_id_format=UNSPECIFIED_FORMAT)

    assert_refused(response, "nameid_format")
    assert "map the email from an attribute" in fix_for(last_event(), profile)


def test_acs_groups_are_kept_on_the_login_event_bounded(client, idp):
    profile = ActiveProfileFactory(groups_attribute="roles")
    groups = [f"group-{n}" for n in range(150)]

    response = login(
        client,
        profile,
        idp,
        name_id="grace@acme.test",
        name_id_format=EMAIL_FORMAT,
        roles=groups,
        groups=["ignored"],
    )

    signed_in(response, "grace@acme.test")
    assert last_event().detail["groups"] == groups[:100]


@pytest.mark.parametrize(
    "email",
    [
        "carol@ａｃｍｅ.test",  # fullwidth: NFKC would make it carol@acme.test
        '"alice@evil.test"@acme.test',
        "alice(comment)@acme.test",
        "alice\\@acme.test",
        "al ice@acme.test",
        "carol@straße.test",
    ],
)
def test_acs_email_that_fails_normalisation_refused_with_what_arrived(client, idp, email):
    profile = ActiveProfileFactory(email_attribute="mail")
    carol = MembershipFactory(organization=profile.organization, user__email="carol@acme.test")

    response = login(client, profile, idp, name_id="p-1", name_id_format=PERSISTENT, mail=email)

    assert_refused(response, "email_invalid")
    assert last_event().detail["received"] == email
    assert User.objects.get() == carol.user


def test_acs_idn_email_is_one_account_key_for_lookup_and_creation(idp):
    profile = ActiveProfileFactory()
    TrustedDomainFactory(profile=profile, domain="xn--bcher-kva.test")
    created = signed_in(
        login(Client(), profile, idp, name_id="Grace@Bücher.test", name_id_format=EMAIL_FORMAT),
        "grace@xn--bcher-kva.test",
    )

    found = signed_in(
        login(
            Client(), profile, idp, name_id="grace@XN--BCHER-KVA.test", name_id_format=EMAIL_FORMAT
        ),
        "grace@xn--bcher-kva.test",
    )

    assert found == created


@pytest.mark.parametrize(
    ("linked_before", "queries"),
    [(False, 22), (True, 13)],
)
def test_acs_login_with_a_subject_link_query_count(
    client, idp, django_assert_num_queries, linked_before, queries
):
    """Against test_acs_successful_login_has_fixed_query_count on a profile seen before (20 for
    a new person, 13 for a member): a first login adds the link's lookup and its insert; a
    linked login finds the account through the link instead of its email, at no extra cost."""
    profile = ActiveProfileFactory(email_attribute="mail")
    signed_in(
        login(
            Client(), profile, idp, name_id="p-0", name_id_format=PERSISTENT, mail="ada@acme.test"
        ),
        "ada@acme.test",
    )
    if linked_before:
        signed_in(
            login(
                Client(),
                profile,
                idp,
                name_id="p-1",
                name_id_format=PERSISTENT,
                mail="grace@acme.test",
                givenName="Grace",
                sn="Hopper",
            ),
            "grace@acme.test",
        )
    request_id = start_login(client, profile)
    spec = ResponseSpec.for_profile(
        profile,
        in_response_to=request_id,
        email="p-1",
        name_id_format=PERSISTENT,
        attributes={"mail": "grace@acme.test", "givenName": "Grace", "sn": "Hopper"},
    )
    xml = idp.signxml_response(spec)

    with django_assert_num_queries(queries):
        response = post_response(client, profile, xml)

    signed_in(response, "grace@acme.test")
