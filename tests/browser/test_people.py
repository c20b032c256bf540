"""People: an owner sends an invitation again and revokes one, in a real Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from sso.models import Invitation, Role
from tests.factories import MembershipFactory
from tests.fixtures.browser import LogIn, Shot

pytestmark = pytest.mark.django_db(transaction=True)


def test_owner_sends_an_invitation_again_then_revokes_it(
    page: Page, shot: Shot, log_in: LogIn
) -> None:
    owner = MembershipFactory(role=Role.OWNER)
    log_in(page, owner.user.email)
    page.goto("/admin-center/people/invite/")
    page.get_by_label("Email").fill("ann@example.test")
    page.get_by_role("button", name="Send invitation").click()
    first_link = page.get_by_label("Invitation link").input_value()
    page.get_by_role("link", name="Back to People").click()

    invitations = page.get_by_test_id("invitations")
    expect(invitations).to_contain_text("ann@example.test as Member, until")
    shot(page, "people-1-pending-invitation")
    invitations.get_by_role("button", name="Send the invitation of ann@example.test again").click()
    expect(page.get_by_role("heading", name="Invitation sent to ann@example.test")).to_be_visible()
    expect(page.locator("main")).to_contain_text("The earlier link no longer works.")
    second_link = page.get_by_label("Invitation link").input_value()
    assert second_link != first_link
    shot(page, "people-2-sent-again")

    page.get_by_role("link", name="Back to People").click()
    page.get_by_role("button", name="Revoke the invitation of ann@example.test").click()
    expect(
        page.locator("[data-messages]").get_by_text(
            "The invitation of ann@example.test was revoked."
        )
    ).to_be_visible()
    expect(page.get_by_test_id("invitations")).to_have_count(0)
    shot(page, "people-3-revoked")
    assert not Invitation.objects.exists()


def test_admin_is_not_offered_the_owner_role(page: Page, shot: Shot, log_in: LogIn) -> None:
    owner = MembershipFactory(role=Role.OWNER, user__email="owner@acme.test")
    admin = MembershipFactory(
        organization=owner.organization, role=Role.ADMIN, user__email="adm@acme.test"
    )
    log_in(page, admin.user.email)
    page.goto("/admin-center/people/")

    people = page.get_by_test_id("people")
    owner_row = people.locator('tr[data-email="owner@acme.test"]')
    expect(owner_row).to_contain_text("Owner")
    expect(owner_row.get_by_role("button", name="Change role")).to_have_count(0)
    expect(owner_row.get_by_role("link", name="Remove")).to_have_count(0)
    own_role = people.get_by_label("Role of adm@acme.test")
    expect(own_role.locator("option")).to_have_text(["Admin", "Member"])
    shot(page, "people-4-admin-sees-no-owner-role")
