"""An owner sets an SSO profile's session limits from the SSO page, in a real Chromium, with axe."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from sso.models import AuditAction, AuditEvent, Role
from tests.factories import ActiveProfileFactory, MembershipFactory
from tests.fixtures.browser import Check, LogIn, Shot

pytestmark = pytest.mark.django_db(transaction=True)


def test_owner_sets_the_session_limits_of_a_profile(
    page: Page, check: Check, shot: Shot, log_in: LogIn
) -> None:
    owner = MembershipFactory(role=Role.OWNER)
    profile = ActiveProfileFactory(organization=owner.organization, name="Okta production")
    log_in(page, owner.user.email)
    page.goto("/admin-center/sso/")
    setup = page.locator(f'[data-checklist="{profile.sid}"]')
    limits = setup.get_by_test_id("session-limits")
    expect(limits.get_by_role("term")).to_have_text(
        ["Maximum session age", "Maximum authentication age"]
    )
    expect(limits.get_by_role("definition")).to_have_text(["No limit", "No limit"])

    setup.get_by_role("link", name="Change the session limits of “Okta production”").click()
    card = page.locator("#session-limits")
    expect(card.get_by_role("heading", name="Session limits")).to_be_visible()
    session = card.get_by_label("Maximum session age (minutes)")
    authn_age = card.get_by_label("Maximum authentication age (minutes)")
    expect(authn_age).to_have_accessible_description(
        "When the person last signed in at your IdP longer ago than this, we ask the IdP to "
        "authenticate them again (ForceAuthn), and refuse a sign-in whose authentication time "
        "(AuthnInstant) is older. From 5 to 129600 minutes (90 days); empty: no limit, the "
        "IdP's own session decides."
    )
    check(page, "session-limits")

    session.fill("480")
    authn_age.fill("2")
    with page.expect_navigation():
        card.get_by_role("button", name="Save session limits").click()
    authn_age = page.locator("#session-limits").get_by_label("Maximum authentication age")
    expect(authn_age).to_be_focused()
    expect(authn_age).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_max_authn_age_minutes_error")).to_have_text(
        "Enter a whole number of minutes from 5 to 129600 (90 days), or no value for no limit."
    )
    expect(page.locator("#session-limits")).to_contain_text("Nothing was saved.")
    check(page, "session-limits-error")
    shot(page, "session-limits-1-refused")
    profile.refresh_from_db()
    assert (profile.max_session_minutes, profile.max_authn_age_minutes) == (None, None)

    authn_age.fill("60")
    with page.expect_navigation():
        page.get_by_role("button", name="Save session limits").click()
    # The message, not its copy in the live region (page.js puts it there 250 ms later).
    expect(page.locator("[data-messages]")).to_have_text(
        "Session limits saved. They apply to sign-ins from now on."
    )
    card = page.locator("#session-limits")
    expect(card.get_by_label("Maximum session age (minutes)")).to_have_value("480")
    expect(card.get_by_label("Maximum authentication age (minutes)")).to_have_value("60")
    shot(page, "session-limits-2-saved")

    page.goto("/admin-center/sso/")
    limits = page.get_by_test_id("session-limits").get_by_role("definition")
    expect(limits).to_have_text(["480 minutes", "60 minutes"])
    check(page, "sso-with-session-limits")
    shot(page, "session-limits-3-sso-page")
    audit = AuditEvent.objects.get(action=AuditAction.SESSION_LIMITS_CHANGED)
    assert (audit.actor, audit.profile_id) == (owner.user, profile.pk)
