"""Guards against locking people out, as the person signing in meets them."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.core import mail
from django.urls import reverse

from sso.models import Membership, Organization, ProfileStatus, User
from tests.factories import ActiveProfileFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


def _at_password_step(client, email: str) -> None:
    session = client.session
    session["login_email"] = email
    session.save()


@pytest.fixture
def sso_off():
    return ActiveProfileFactory(status=ProfileStatus.DISABLED)


def _sso_only(email: str) -> User:
    user = UserFactory(email=email)
    user.set_unusable_password()
    user.save()
    return user


@pytest.mark.parametrize("account", ["sso_only", "with_password", "none"])
def test_password_step_of_a_domain_whose_sso_is_off_says_so_whatever_the_account(
    client, sso_off, account
):
    if account == "sso_only":
        _sso_only("grace@acme.test")
    elif account == "with_password":
        UserFactory(email="grace@acme.test")
    _at_password_step(client, "grace@acme.test")

    response = client.get(reverse("sso:login_password"))

    content = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert (
        "Your organization's single sign-on for acme.test is turned off; contact your admin."
        in content
    )
    # One page for all three: it tells nothing about the account.
    assert 'name="password"' in content


def test_password_step_of_an_ordinary_domain_has_no_sso_notice(client, sso_off):
    _at_password_step(client, "grace@example.test")
    content = client.get(reverse("sso:login_password")).content.decode()
    assert "single sign-on" not in content


def test_enforced_sso_refusal_hides_the_password_form(client):
    profile = ActiveProfileFactory()
    Organization.objects.filter(pk=profile.organization_id).update(enforce_sso=True)
    user = UserFactory(email="grace@acme.test")
    MembershipFactory(user=user, organization=profile.organization)
    _at_password_step(client, "grace@acme.test")

    response = client.post(reverse("sso:login_password"), {"password": PASSWORD})

    content = response.content.decode()
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "Your organization requires single sign-on" in content
    assert "Continue with SSO" in content
    assert 'name="password"' not in content


def test_wrong_password_under_enforcement_keeps_the_form(client):
    profile = ActiveProfileFactory()
    Organization.objects.filter(pk=profile.organization_id).update(enforce_sso=True)
    UserFactory(email="grace@acme.test")
    _at_password_step(client, "grace@acme.test")
    response = client.post(reverse("sso:login_password"), {"password": "wrong"})
    assert 'name="password"' in response.content.decode()


def test_sign_up_with_an_sso_domain_says_so_with_continue_and_creates_nothing(client):
    profile = ActiveProfileFactory()
    data = {"email": "new@acme.test", "password": PASSWORD, "organization_name": "Acme 2"}

    response = client.post(reverse("sso:signup"), data)

    content = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert "acme.test signs in with single sign-on." in content
    assert f'href="{reverse("sso:saml2_login", args=[profile.sid])}"' in content
    assert ">Continue</a>" in content
    assert 'value="Acme 2"' in content  # the form is kept, not discarded
    assert PASSWORD not in content
    assert not User.objects.filter(email="new@acme.test").exists()
    assert not Membership.objects.exists()


@pytest.mark.parametrize("account", ["sso_only", "none"])
def test_forgot_password_of_an_sso_domain_says_it_signs_in_through_sso(client, account):
    profile = ActiveProfileFactory()
    if account == "sso_only":
        _sso_only("grace@acme.test")

    response = client.post(reverse("sso:password_reset"), {"email": "grace@acme.test"})

    content = response.content.decode()
    assert "acme.test signs in with single sign-on" in content
    assert reverse("sso:saml2_login", args=[profile.sid]) in content
    assert "If an account uses that address" in content
    assert mail.outbox == []


def test_forgot_password_under_sso_still_sends_to_an_account_with_a_password(client):
    ActiveProfileFactory()
    UserFactory(email="owner@acme.test")  # a break-glass owner must be able to reset
    client.post(reverse("sso:password_reset"), {"email": "owner@acme.test"})
    assert len(mail.outbox) == 1


def test_forgot_password_of_a_domain_whose_sso_is_off_says_so(client, sso_off):
    _sso_only("grace@acme.test")
    response = client.post(reverse("sso:password_reset"), {"email": "grace@acme.test"})
    content = response.content.decode()
    assert "single sign-on for acme.test is turned off; contact your admin." in content
    assert mail.outbox == []
