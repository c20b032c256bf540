"""States that cannot hide: the setup checklist, domain states, lock-out guards."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.urls import reverse

from sso.models import IdPKind, ProfileStatus, Role, SignInMethod, SSOProfile, VerificationState
from tests.factories import (
    ActiveProfileFactory,
    LoginEventFactory,
    MembershipFactory,
    TrustedDomainFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def organization(admin):
    return admin.organization


def _okta(organization, **overrides):
    values = {"organization": organization, "name": "Okta production", "idp_kind": IdPKind.OKTA}
    return ActiveProfileFactory(**(values | overrides))


def test_sso_page_shows_each_domain_state_and_routes_nobody(admin_client, organization):
    profile = _okta(organization)
    profile.domains.update(verification_state=VerificationState.UNVERIFIED)
    TrustedDomainFactory(
        profile=profile, domain="acme.example", verification_state=VerificationState.UNVERIFIED
    )

    content = admin_client.get(reverse("sso:admin_sso")).content.decode()

    assert 'acme.test <span class="small">· Unverified</span>' in content
    assert "0 of 2 verified" in content
    assert "Routes nobody" in content
    assert "Active, but 0 of 2 domains verified: nobody is sent to Okta yet." in content


def test_sso_page_checklist_items_have_states_and_links(admin_client, organization):
    profile = _okta(organization, last_test_outcome="success", last_tested_at="2026-01-01T00:00Z")

    content = admin_client.get(reverse("sso:admin_sso")).content.decode()

    checklist = content[content.index(f'data-checklist="{profile.sid}"') :]
    assert checklist.count(">Done</span>") == 5
    for name in ("wizard_sp_metadata", "wizard_idp_metadata", "wizard_test"):
        assert reverse(f"sso:{name}", args=[profile.sid]) in checklist
    assert reverse("sso:admin_domains") in checklist
    assert "1 of 1 domains verified" in checklist


def test_sso_page_failed_test_on_active_profile_says_users_are_refused(admin_client, organization):
    _okta(organization, last_test_outcome="failure", last_tested_at="2026-01-01T00:00Z")

    content = admin_client.get(reverse("sso:admin_sso")).content.decode()

    assert "people signing in through Okta are being refused now" in content
    assert "Refusing sign-ins" in content


def test_test_step_warns_before_activate_when_no_domain_is_verified(admin_client, organization):
    profile = _okta(organization, status=ProfileStatus.TESTED, last_test_outcome="success")
    TrustedDomainFactory(profile=profile, verification_state=VerificationState.UNVERIFIED)
    profile.domains.update(verification_state=VerificationState.UNVERIFIED)

    content = admin_client.get(reverse("sso:wizard_test", args=[profile.sid])).content.decode()

    assert "0 of 2 domains verified: nobody will be sent to Okta yet." in content


def test_activate_with_no_verified_domain_warns_after(admin_client, organization):
    profile = _okta(organization, status=ProfileStatus.TESTED, last_test_outcome="success")
    profile.domains.update(verification_state=VerificationState.UNVERIFIED)

    response = admin_client.post(reverse("sso:profile_activate", args=[profile.sid]), follow=True)

    assert "0 of 1 domains verified: nobody will be sent to Okta yet." in (
        response.content.decode()
    )


def test_step_4_lists_saved_domains_with_their_state(admin_client, organization):
    profile = _okta(organization)

    url = reverse("sso:wizard_idp_metadata", args=[profile.sid])
    content = admin_client.get(url).content.decode()

    assert 'acme.test <span class="small">· Verified</span>' in content
    assert "1 of 1 verified" in content


def _sso_only_member(profile, *, usable_password: bool = False):
    user = UserFactory(password="x" if usable_password else None)
    if not usable_password:
        user.set_unusable_password()
        user.save()
    return MembershipFactory(
        user=user,
        organization=profile.organization,
        last_sign_in_method=SignInMethod.SSO,
        last_sign_in_profile=profile,
    )


def test_disable_counts_people_who_sign_in_only_through_the_profile(admin_client, organization):
    profile = _okta(organization)
    for _ in range(3):
        _sso_only_member(profile)
    _sso_only_member(profile, usable_password=True)  # keeps a password: not counted

    url = reverse("sso:profile_disable", args=[profile.sid])
    content = admin_client.get(url).content.decode()

    assert "3 people sign in only through Okta; they will not be able to sign in" in content


@pytest.mark.parametrize("view", ["sso:profile_disable", "sso:profile_delete"])
def test_destructive_action_on_active_profile_needs_its_name_typed(
    admin_client, organization, view
):
    profile = _okta(organization)
    url = reverse(view, args=[profile.sid])

    refused = admin_client.post(url, {"confirm_name": "okta production"})

    assert refused.status_code == HTTPStatus.BAD_REQUEST
    assert "Type the profile&#x27;s name exactly to confirm." in refused.content.decode()
    profile.refresh_from_db()
    assert profile.status == ProfileStatus.ACTIVE

    done = admin_client.post(url, {"confirm_name": "Okta production"})

    assert done["Location"] == reverse("sso:admin_sso")
    assert not SSOProfile.objects.filter(pk=profile.pk, status=ProfileStatus.ACTIVE).exists()


def test_delete_of_inactive_profile_needs_no_name(admin_client, organization):
    profile = _okta(organization, status=ProfileStatus.DISABLED)

    response = admin_client.post(reverse("sso:profile_delete", args=[profile.sid]))

    assert response["Location"] == reverse("sso:admin_sso")
    assert not SSOProfile.objects.filter(pk=profile.pk).exists()


def test_enforcement_page_asks_to_confirm_the_consequences_in_words(owner_client, owner):
    _okta(owner.organization)  # activated without a passing test
    url = reverse("sso:admin_sso_enforcement")

    refused = owner_client.post(url, {"enforce_sso": "on"})

    content = refused.content.decode()
    assert refused.status_code == HTTPStatus.BAD_REQUEST
    assert "No active SSO profile has passed a connection test" in content
    assert "No owner keeps password sign-in" in content
    assert 'name="confirm"' in content and "Save policy anyway" in content
    owner.organization.refresh_from_db()
    assert owner.organization.enforce_sso is False

    confirmed = owner_client.post(url, {"enforce_sso": "on", "confirm": "on"})

    assert confirmed["Location"] == reverse("sso:admin_sso")
    owner.organization.refresh_from_db()
    assert owner.organization.enforce_sso is True


def test_enforcement_form_hides_the_confirmation_until_it_is_needed(owner_client, owner):
    content = owner_client.get(reverse("sso:admin_sso")).content.decode()
    assert 'name="confirm"' not in content
    assert owner.role == Role.OWNER


def test_failed_test_result_of_active_profile_says_real_users_are_refused(
    admin_client, organization
):
    profile = _okta(organization, last_test_outcome="failure", last_tested_at="2026-01-01T00:00Z")
    event = LoginEventFactory(profile=profile, is_test=True, outcome="failure", reason="bad_sig")

    url = reverse("sso:profile_login_event", args=[profile.sid, event.pk])
    content = admin_client.get(url).content.decode()

    assert "real people signing in through it are being refused now" in content
