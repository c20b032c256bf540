"""The SSO backend: djangosaml2's Saml2Backend.authenticate runs, and the product's hooks decide."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate

from sso.backends import NAME_ID, NAME_ID_FORMAT, ProfileSaml2Backend, profile_attribute_mapping
from sso.login.services import sso_user_for_login
from sso.models import Membership, SubjectLink, User
from sso.reasons import LoginRefused, Reason
from tests.factories import ActiveProfileFactory, MembershipFactory, UserFactory, verified_login

pytestmark = pytest.mark.django_db


EMAIL_FORMAT = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"


def sign_in(
    profile, email: str, name_id_format: str = EMAIL_FORMAT, **attributes: list[str]
) -> User | None:
    ava = {**attributes, NAME_ID: [email], NAME_ID_FORMAT: [name_id_format]}
    return ProfileSaml2Backend().authenticate(
        None,
        session_info={"ava": ava, "issuer": profile.idp_issuer},
        attribute_mapping=profile_attribute_mapping(profile),
        create_unknown_user=profile.jit_provisioning,
        profile=profile,
    )


def test_backend_without_a_profile_answers_nobody():
    """django.contrib.auth.authenticate (the password step) never reaches an SSO account."""
    user = UserFactory(email="ann@acme.test")
    user.set_password("a long password 123")
    user.save()
    backend = ProfileSaml2Backend()
    assert backend.authenticate(None, username="ann@acme.test", password="x") is None
    assert authenticate(None, session_info={"ava": {NAME_ID: ["ann@acme.test"]}}) is None


def test_backend_runs_djangosaml2s_authenticate():
    """djangosaml2's own flow answers a session without attributes with nobody."""
    profile = ActiveProfileFactory()
    backend = ProfileSaml2Backend()
    assert (
        backend.authenticate(
            None, session_info={"issuer": "x"}, attribute_mapping={}, profile=profile
        )
        is None
    )


def test_is_authorized_refuses_an_email_outside_the_profiles_trusted_domains():
    profile = ActiveProfileFactory()
    with pytest.raises(LoginRefused) as caught:
        sign_in(profile, "mallory@other.test")
    assert caught.value.reason == Reason.DOMAIN_NOT_TRUSTED
    assert not User.objects.filter(email="mallory@other.test").exists()


def test_clean_user_main_attribute_finds_the_account_by_its_normalised_email():
    profile = ActiveProfileFactory()
    member = MembershipFactory(organization=profile.organization, user__email="ann@acme.test")
    assert sign_in(profile, "  Ann@ACME.test ") == member.user


def test_get_or_create_user_creates_just_in_time_with_the_profiles_role():
    profile = ActiveProfileFactory(jit_provisioning=True, jit_role="admin")
    user = sign_in(profile, "new@acme.test", givenName=["Grace"], sn=["Hopper"])
    assert (user.first_name, user.last_name) == ("Grace", "Hopper")
    membership = Membership.objects.get(user=user, organization=profile.organization)
    assert (membership.role, membership.created_just_in_time) == ("admin", True)


def test_get_or_create_user_without_jit_refuses_an_unknown_person():
    profile = ActiveProfileFactory(jit_provisioning=False)
    with pytest.raises(LoginRefused) as caught:
        sign_in(profile, "new@acme.test")
    assert caught.value.reason == Reason.USER_NOT_PROVISIONED
    assert not User.objects.filter(email="new@acme.test").exists()


def test_update_user_takes_new_names_and_never_blanks_one_not_sent():
    profile = ActiveProfileFactory()
    member = MembershipFactory(
        organization=profile.organization,
        user__email="ann@acme.test",
        user__first_name="Ann",
        user__last_name="Lee",
    )
    sign_in(profile, "ann@acme.test", given_name=["Anne"])
    member.user.refresh_from_db()
    assert (member.user.first_name, member.user.last_name) == ("Anne", "Lee")


def test_deactivated_account_is_refused():
    profile = ActiveProfileFactory()
    MembershipFactory(
        organization=profile.organization, user__email="ann@acme.test", user__is_active=False
    )
    with pytest.raises(LoginRefused) as caught:
        sign_in(profile, "ann@acme.test")
    assert caught.value.reason == Reason.USER_INACTIVE


def test_clean_user_main_attribute_creates_the_account_under_its_normalised_email():
    profile = ActiveProfileFactory(jit_provisioning=True)
    user = sign_in(profile, " New.Person@ACME.test ")
    assert user.email == "new.person@acme.test"


PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"


def backend_for(profile) -> ProfileSaml2Backend:
    backend = ProfileSaml2Backend()
    backend.authenticate(None, session_info=None, profile=profile)  # keeps the profile only
    return backend


def test_clean_attributes_takes_the_email_from_the_named_attribute_and_says_from_where():
    profile = ActiveProfileFactory(email_attribute="mail", first_name_attribute="fn")
    backend = backend_for(profile)
    cleaned = backend.clean_attributes(
        {
            NAME_ID: ["ghopper"],
            NAME_ID_FORMAT: [PERSISTENT],
            "mail": [" Grace@ACME.test "],
            "fn": ["Grace"],
            "givenName": ["Not used"],
            "sn": ["Hopper"],
        },
        profile.idp_issuer,
    )
    assert cleaned == {
        "email": ["grace@acme.test"],
        "first_name": ["Grace"],
        "last_name": ["Hopper"],
    }
    mapped = backend.mapped
    assert (mapped.email_from, mapped.first_name_from, mapped.last_name_from) == (
        "mail",
        "fn",
        "sn",
    )
    assert mapped.subject == (PERSISTENT, "ghopper")


def test_clean_attributes_prefers_an_emailaddress_nameid_and_links_nothing():
    profile = ActiveProfileFactory()
    backend = backend_for(profile)
    cleaned = backend.clean_attributes(
        {NAME_ID: ["grace@acme.test"], NAME_ID_FORMAT: [EMAIL_FORMAT], "email": ["x@acme.test"]},
        profile.idp_issuer,
    )
    assert cleaned["email"] == ["grace@acme.test"]
    assert backend.mapped.subject is None


def test_clean_attributes_named_attribute_never_falls_back_to_the_nameid():
    profile = ActiveProfileFactory(email_attribute="mail")
    with pytest.raises(LoginRefused) as caught:
        backend_for(profile).clean_attributes(
            {
                NAME_ID: ["grace@acme.test"],
                NAME_ID_FORMAT: [EMAIL_FORMAT],
                "email": ["g@acme.test"],
            },
            profile.idp_issuer,
        )
    assert caught.value.reason == Reason.EMAIL_ATTRIBUTE_MISSING
    assert caught.value.detail == {"attribute": "mail", "received_attributes": ["email"]}


def test_clean_attributes_refuses_an_email_that_fails_normalisation():
    profile = ActiveProfileFactory()
    with pytest.raises(LoginRefused) as caught:
        sign_in(profile, '"alice@evil.test"@acme.test')
    assert caught.value.reason == Reason.EMAIL_INVALID
    assert not User.objects.exists()


def test_get_or_create_user_finds_the_linked_account_before_the_email():
    profile = ActiveProfileFactory(email_attribute="mail")
    first = sign_in(profile, "p-1", PERSISTENT, mail=["grace@acme.test"])
    MembershipFactory(organization=profile.organization, user__email="ada@acme.test")

    assert sign_in(profile, "p-1", PERSISTENT, mail=["ada@acme.test"]) == first
    first.refresh_from_db()
    assert first.email == "grace@acme.test"  # another account holds ada@: nothing moves
    assert SubjectLink.objects.get().user == first


def test_get_or_create_user_refuses_an_account_linked_to_another_subject():
    profile = ActiveProfileFactory(email_attribute="mail")
    sign_in(profile, "p-1", PERSISTENT, mail=["grace@acme.test"])
    with pytest.raises(LoginRefused) as caught:
        sign_in(profile, "p-2", PERSISTENT, mail=["grace@acme.test"])
    assert caught.value.reason == Reason.SUBJECT_MISMATCH
    assert SubjectLink.objects.count() == 1


def test_idp_attribute_named_like_the_nameid_never_replaces_it():
    """The login service writes the verified NameID after the IdP's attributes."""
    profile = ActiveProfileFactory()
    login = verified_login(profile, "grace@acme.test", **{NAME_ID: ["mallory@acme.test"]})
    assert sso_user_for_login(request=None, login=login).email == "grace@acme.test"
