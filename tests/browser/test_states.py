"""States that cannot hide and the enforcement guard, in a real Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from sso.models import IdPKind, Organization, ProfileStatus, Role, VerificationState
from tests.factories import ActiveProfileFactory, MembershipFactory, TrustedDomainFactory
from tests.fixtures.browser import LogIn, Shot

pytestmark = pytest.mark.django_db(transaction=True)


def test_sso_page_checklist_shows_what_is_left(page: Page, shot: Shot, log_in: LogIn) -> None:
    owner = MembershipFactory(role=Role.OWNER)
    profile = ActiveProfileFactory(
        organization=owner.organization,
        name="Okta production",
        idp_kind=IdPKind.OKTA,
        status=ProfileStatus.TESTED,
        last_test_outcome="success",
        last_tested_at="2026-01-01T00:00Z",
    )
    profile.domains.update(verification_state=VerificationState.UNVERIFIED)
    TrustedDomainFactory(
        profile=profile, domain="acme.example", verification_state=VerificationState.UNVERIFIED
    )
    log_in(page, owner.user.email)
    page.goto("/admin-center/sso/")

    row = page.locator(f'tr[data-sid="{profile.sid}"]')
    expect(row).to_contain_text("acme.test · Unverified")
    expect(row).to_contain_text("0 of 2 verified")
    checklist = page.locator(f'[data-checklist="{profile.sid}"]')
    items = checklist.locator("li")
    expect(items).to_have_count(5)
    expect(items.nth(2)).to_contain_text("Done")
    expect(items.nth(3)).to_contain_text("To do")
    expect(items.nth(3)).to_contain_text("0 of 2 domains verified")
    shot(page, "states-1-sso-checklist")

    checklist.get_by_role("link", name="Turn the profile on").click()
    expect(page.locator("[data-activate-warning]")).to_contain_text(
        "0 of 2 domains verified: nobody will be sent to Okta yet."
    )
    shot(page, "states-2-activate-warning")


def test_enforcement_asks_to_confirm_the_lock_out_in_words(
    page: Page, shot: Shot, log_in: LogIn
) -> None:
    owner = MembershipFactory(role=Role.OWNER)
    ActiveProfileFactory(organization=owner.organization, name="Okta production")
    log_in(page, owner.user.email)
    page.goto("/admin-center/sso/")

    page.get_by_label("Enforce SSO").check()
    page.get_by_role("button", name="Save policy").click()
    risks = page.locator("#enforcement-risks")
    expect(risks).to_contain_text("No active SSO profile has passed a connection test")
    expect(risks).to_contain_text("No owner keeps password sign-in")
    shot(page, "states-3-enforcement-confirm")
    assert not Organization.objects.get(pk=owner.organization_id).enforce_sso

    page.get_by_label("Enforce SSO").check()
    page.get_by_label("I understand").check()
    page.get_by_role("button", name="Save policy anyway").click()
    expect(page.locator("[data-messages]").get_by_text("Sign-in policy saved.")).to_be_visible()
    shot(page, "states-4-enforcement-saved")
    assert Organization.objects.get(pk=owner.organization_id).enforce_sso
