"""Email-first login, home realm discovery, enforced SSO, throttling, sign-up, sign-out."""

from __future__ import annotations

import re
from http import HTTPStatus

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from sso.models import (
    AuditAction,
    AuditEvent,
    Membership,
    Organization,
    ProfileStatus,
    Role,
    User,
)
from tests.factories import ActiveProfileFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


def email_step(client, email: str, next_path: str = ""):
    data = {"email": email}
    if next_path:
        data["next"] = next_path
    return client.post(reverse("sso:login"), data)


def password_step(client, password: str = PASSWORD, next_path: str = ""):
    data = {"password": password}
    if next_path:
        data["next"] = next_path
    return client.post(reverse("sso:login_password"), data)


def without_csrf(html: str) -> str:
    return "\n".join(line for line in html.splitlines() if "csrfmiddlewaretoken" not in line)


def test_login_page_has_email_and_next(client):
    content = client.get(reverse("sso:login")).content.decode()
    assert "Log In" in content and 'type="email"' in content
    assert ">Next</button>" in content and "Sign Up for free" in content
    assert "Forgot Password?" in content


def test_email_of_active_profile_domain_goes_to_its_idp_keeping_next(client):
    profile = ActiveProfileFactory()
    response = email_step(client, "Grace@ACME.test", next_path="/console/?tab=2")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == (
        reverse("sso:saml2_login", args=[profile.sid]) + "?next=%2Fconsole%2F%3Ftab%3D2"
    )


def test_email_step_passes_the_email_as_login_hint_only_where_the_idp_takes_one(client):
    entra = ActiveProfileFactory(idp_kind="entra_id")
    response = email_step(client, "grace@acme.test")
    assert response["Location"] == (
        reverse("sso:saml2_login", args=[entra.sid]) + "?login_hint=grace%40acme.test"
    )
    entra.idp_kind = "okta"
    entra.save()
    response = email_step(client, "grace@acme.test")
    assert response["Location"] == reverse("sso:saml2_login", args=[entra.sid])


@pytest.mark.parametrize(
    ("email", "winner"),
    [
        ("a@paris.eu.acme.test", "exact"),
        ("a@rome.eu.acme.test", "long-wildcard"),
        ("a@x.acme.test", "short-wildcard"),
    ],
)
def test_email_routing_prefers_exact_then_longest_wildcard(client, email, winner):
    profiles = {
        "short-wildcard": ActiveProfileFactory(domain__domain="*.acme.test"),
        "long-wildcard": ActiveProfileFactory(domain__domain="*.eu.acme.test"),
        "exact": ActiveProfileFactory(domain__domain="paris.eu.acme.test"),
    }
    response = email_step(client, email)
    assert response["Location"] == reverse("sso:saml2_login", args=[profiles[winner].sid])


@pytest.mark.parametrize(
    "status", [ProfileStatus.CONFIGURED, ProfileStatus.TESTED, ProfileStatus.DISABLED]
)
def test_inactive_profile_does_not_route(client, status):
    ActiveProfileFactory(status=status)
    response = email_step(client, "grace@acme.test")
    assert response["Location"] == reverse("sso:login_password")


def test_email_step_does_not_reveal_whether_account_exists(client):
    UserFactory(email="known@example.test")
    known = email_step(client, "known@example.test")
    other = email_step(client.__class__(), "unknown@example.test")
    assert (known.status_code, known["Location"]) == (other.status_code, other["Location"])
    page_known = client.get(known["Location"]).content.decode().replace("known@", "X@")
    client2 = client.__class__()
    email_step(client2, "unknown@example.test")
    page_unknown = client2.get(other["Location"]).content.decode().replace("unknown@", "X@")
    assert without_csrf(page_known) == without_csrf(page_unknown)


def test_invalid_email_gets_clear_error(client):
    response = email_step(client, "not-an-email")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Enter a valid email address" in response.content.decode()


def test_password_step_shows_email_change_and_signs_in(client):
    user = UserFactory(email="ann@example.test")
    email_step(client, "ann@example.test")
    page = client.get(reverse("sso:login_password")).content.decode()
    assert "ann@example.test" in page and ">Change</a>" in page and "Forgot Password?" in page

    response = password_step(client, next_path="/admin-center/sso/")

    assert response["Location"] == "/admin-center/sso/"
    assert client.get(reverse("sso:console")).wsgi_request.user == user


def test_password_step_without_email_goes_back_to_email_step(client):
    response = client.get(reverse("sso:login_password"))
    assert response["Location"] == reverse("sso:login")


def test_wrong_password_and_unknown_email_answer_the_same(client):
    UserFactory(email="ann@example.test")
    email_step(client, "ann@example.test")
    wrong = password_step(client, "nope")
    other = client.__class__()
    email_step(other, "ghost@example.test")
    unknown = password_step(other, "nope")
    assert wrong.status_code == unknown.status_code == HTTPStatus.BAD_REQUEST
    assert "Your email or password is incorrect." in wrong.content.decode()
    assert "Your email or password is incorrect." in unknown.content.decode()


@pytest.mark.parametrize("target", ["https://evil.test/", "//evil.test/x", "/\\evil.test"])
def test_next_leaving_the_site_is_ignored(client, target):
    UserFactory(email="ann@example.test")
    email_step(client, "ann@example.test", next_path=target)
    response = password_step(client, next_path=target)
    assert response["Location"] == reverse("sso:console")


def test_throttling_after_repeated_failures_keeps_sso_open(client, settings):
    settings.SSO_LOGIN_FAILURES_PER_EMAIL = 3
    UserFactory(email="ann@acme.test")
    email_step(client, "ann@acme.test")
    for _ in range(3):
        assert password_step(client, "wrong").status_code == HTTPStatus.BAD_REQUEST

    throttled = password_step(client)  # even the right password waits now

    assert throttled.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert "Too many failed attempts" in throttled.content.decode()
    assert "_auth_user_id" not in client.session
    profile = ActiveProfileFactory()
    sso = client.get(reverse("sso:saml2_login", args=[profile.sid]))
    assert sso.status_code == HTTPStatus.FOUND and sso["Location"].startswith(profile.idp_sso_url)


def test_throttling_per_client_address(client, settings):
    settings.SSO_LOGIN_FAILURES_PER_CLIENT = 2
    for email in ("a@example.test", "b@example.test"):
        email_step(client, email)
        password_step(client, "wrong")
    UserFactory(email="c@example.test")
    email_step(client, "c@example.test")
    assert password_step(client).status_code == HTTPStatus.TOO_MANY_REQUESTS


@pytest.fixture
def enforced_org():
    profile = ActiveProfileFactory()
    organization = profile.organization
    organization.enforce_sso = True
    organization.save()
    return organization


def test_enforced_sso_refuses_password_and_points_to_sso(client, enforced_org):
    user = UserFactory(email="grace@acme.test")
    MembershipFactory(user=user, organization=enforced_org)
    session = client.session
    session["login_email"] = "grace@acme.test"
    session.save()

    response = password_step(client)

    assert response.status_code == HTTPStatus.FORBIDDEN
    content = response.content.decode()
    assert "Your organization requires single sign-on" in content
    assert "Continue with SSO" in content
    assert "_auth_user_id" not in client.session


def test_enforced_sso_lets_break_glass_owner_in_and_audits(client, enforced_org):
    owner = MembershipFactory(
        organization=enforced_org, role=Role.OWNER, break_glass=True, user__email="owner@acme.test"
    ).user
    session = client.session
    session["login_email"] = "owner@acme.test"
    session.save()

    response = password_step(client)

    assert response["Location"] == reverse("sso:console")
    event = AuditEvent.objects.get(action=AuditAction.BREAK_GLASS_LOGIN)
    assert (event.actor, event.organization) == (owner, enforced_org)


def test_without_enforcement_sso_domain_user_may_use_password(client):
    profile = ActiveProfileFactory()
    UserFactory(email="grace@acme.test")
    session = client.session
    session["login_email"] = "grace@acme.test"
    session.save()
    assert password_step(client)["Location"] == reverse("sso:console")
    assert not profile.organization.enforce_sso


def test_enforcement_refused_without_active_profile(owner_client, owner):
    response = owner_client.post(reverse("sso:admin_sso_enforcement"), {"enforce_sso": "on"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Turn on an SSO profile first" in response.content.decode()
    owner.organization.refresh_from_db()
    assert owner.organization.enforce_sso is False


def test_enforcement_on_with_break_glass_owner_is_audited(owner_client, owner):
    ActiveProfileFactory(organization=owner.organization, last_test_outcome="success")
    response = owner_client.post(
        reverse("sso:admin_sso_enforcement"),
        {"enforce_sso": "on", "break_glass": [owner.user.pk]},
    )
    assert response.status_code == HTTPStatus.FOUND
    owner.refresh_from_db()
    assert owner.organization.enforce_sso and owner.break_glass
    event = AuditEvent.objects.get(action=AuditAction.SSO_ENFORCEMENT_CHANGED)
    assert event.changes["enforce_sso"] == [False, True]


SIGN_UP = {
    "email": "Founder@NewCo.test",
    "password": "a long unusual passphrase 42",
    "organization_name": "NewCo",
}


def verification_path(message) -> str:
    return re.search(r"https://sso\.test(/signup/verify/[^/\s]+/)", message.body).group(1)


def test_sign_up_creates_organization_and_owner_who_must_confirm_the_email(client):
    response = client.post(reverse("sso:signup"), SIGN_UP)

    assert response.status_code == HTTPStatus.OK
    assert "We sent a link to <strong>founder@newco.test</strong>" in response.content.decode()
    assert not response.wsgi_request.user.is_authenticated
    membership = Membership.objects.get(user__email="founder@newco.test")
    assert (membership.organization.name, membership.role) == ("NewCo", Role.OWNER)
    assert mail.outbox[0].to == ["founder@newco.test"]


def test_unverified_account_password_is_refused_with_a_way_to_resend_the_link(client):
    client.post(reverse("sso:signup"), SIGN_UP)
    email_step(client, "founder@newco.test")

    refused = password_step(client, SIGN_UP["password"])

    assert refused.status_code == HTTPStatus.BAD_REQUEST
    content = refused.content.decode()
    assert "Confirm your email address first" in content
    assert reverse("sso:email_verification_resend") in content
    assert "_auth_user_id" not in client.session
    resent = client.post(reverse("sso:email_verification_resend"))
    assert resent.status_code == HTTPStatus.OK
    assert len(mail.outbox) == 2
    again = client.post(reverse("sso:email_verification_resend"))
    assert again["Location"] == reverse("sso:login") and len(mail.outbox) == 2


def test_wrong_password_of_unverified_account_offers_no_resend(client):
    client.post(reverse("sso:signup"), SIGN_UP)
    email_step(client, "founder@newco.test")

    refused = password_step(client, "not the password at all")

    assert "Your email or password is incorrect." in refused.content.decode()
    assert reverse("sso:email_verification_resend") not in refused.content.decode()
    assert client.post(reverse("sso:email_verification_resend"))["Location"] == reverse(
        "sso:login"
    )
    assert len(mail.outbox) == 1


def test_verification_link_confirms_on_a_button_then_the_password_signs_in(client):
    client.post(reverse("sso:signup"), SIGN_UP)
    path = verification_path(mail.outbox[0])

    page = Client().get(path)
    assert page.status_code == HTTPStatus.OK
    assert User.objects.get(email="founder@newco.test").email_verified_at is None, (
        "a mail scanner fetching the link confirms nothing"
    )
    confirmed = client.post(path)
    assert confirmed["Location"] == reverse("sso:login")
    assert Client().get(path).status_code == HTTPStatus.NOT_FOUND

    assert password_step(client, SIGN_UP["password"])["Location"] == reverse("sso:console")


def test_unknown_verification_link_is_404(client):
    assert client.get("/signup/verify/nope/").status_code == HTTPStatus.NOT_FOUND
    assert client.post("/signup/verify/nope/").status_code == HTTPStatus.NOT_FOUND


def test_sign_up_in_claimed_domain_offers_sso_instead(client):
    profile = ActiveProfileFactory()
    response = client.post(
        reverse("sso:signup"),
        {
            "email": "new@acme.test",
            "password": "a long unusual passphrase 42",
            "organization_name": "Shadow Acme",
        },
    )
    assert reverse("sso:saml2_login", args=[profile.sid]) in response.content.decode()
    assert not User.objects.filter(email="new@acme.test").exists()
    assert not Organization.objects.filter(name="Shadow Acme").exists()


def test_sign_up_errors(client):
    UserFactory(email="taken@example.test")
    response = client.post(
        reverse("sso:signup"),
        {"email": "taken@example.test", "password": "123", "organization_name": ""},
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    form = response.context["form"]
    assert set(form.errors) == {"email", "password", "organization_name"}


def test_forgot_password_sends_reset_link(client):
    UserFactory(email="ann@example.test")
    response = client.post(reverse("sso:password_reset"), {"email": "ann@example.test"})
    assert response["Location"] == reverse("sso:password_reset_done")
    assert len(mail.outbox) == 1
    assert "/password-reset/" in mail.outbox[0].body


def test_sign_out_after_sso_goes_to_default_redirect_url(client):
    profile = ActiveProfileFactory(default_redirect_url="https://idp.acme.test/logout")
    client.force_login(UserFactory())
    session = client.session
    session["sso_profile_sid"] = profile.sid
    session.save()

    response = client.post(reverse("sso:logout"))

    assert response["Location"] == "https://idp.acme.test/logout"
    assert "_auth_user_id" not in client.session


def test_sign_out_after_password_goes_to_login(client):
    client.force_login(UserFactory())
    response = client.post(reverse("sso:logout"))
    assert response["Location"] == reverse("sso:login")
    assert client.get(reverse("sso:console"))["Location"].startswith(reverse("sso:login"))


def test_sso_domain_user_can_choose_password_step_and_policy_applies(client):
    profile = ActiveProfileFactory()
    profile.organization.enforce_sso = True
    profile.organization.save()
    MembershipFactory(
        organization=profile.organization,
        role=Role.OWNER,
        break_glass=True,
        user__email="owner@acme.test",
    )
    UserFactory(email="grace@acme.test")

    routed = client.post(reverse("sso:login"), {"email": "owner@acme.test", "use_password": "1"})
    assert routed["Location"] == reverse("sso:login_password")
    assert password_step(client)["Location"] == reverse("sso:console")

    other = client.__class__()
    other.post(reverse("sso:login"), {"email": "grace@acme.test", "use_password": "1"})
    refused = password_step(other)
    assert refused.status_code == HTTPStatus.FORBIDDEN
    assert "requires single sign-on" in refused.content.decode()


def guess(client, email: str, forwarded_for: str, password: str = "wrong"):
    """A password attempt that reached the app through the load balancer (REMOTE_ADDR)."""
    extra = {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": forwarded_for}
    client.post(reverse("sso:login"), {"email": email}, **extra)
    return client.post(reverse("sso:login_password"), {"password": password}, **extra)


def test_throttling_behind_the_proxy_counts_each_client_not_the_proxy(client, settings):
    """30 failures from 30 people behind the documented proxy lock nobody else out."""
    settings.SSO_TRUSTED_PROXY_HOPS = 1
    for n in range(settings.SSO_LOGIN_FAILURES_PER_CLIENT):
        guess(client, f"user{n}@example.test", f"203.0.113.{n + 1}")
    UserFactory(email="ann@example.test")
    assert guess(client, "ann@example.test", "198.51.100.7", PASSWORD).status_code == (
        HTTPStatus.FOUND
    )


def test_throttling_behind_the_proxy_ignores_what_the_client_wrote_itself(client, settings):
    """Only the entry the trusted proxy appended counts: a forged one does not reset the count."""
    settings.SSO_TRUSTED_PROXY_HOPS = 1
    settings.SSO_LOGIN_FAILURES_PER_CLIENT = 3
    for n in range(3):
        guess(client, f"user{n}@example.test", f"192.0.2.{n}, 203.0.113.9")
    UserFactory(email="ann@example.test")
    throttled = guess(client, "ann@example.test", "192.0.2.99, 203.0.113.9", PASSWORD)
    assert throttled.status_code == HTTPStatus.TOO_MANY_REQUESTS


def test_throttling_per_client_and_email_leaves_the_owner_signing_in(client, settings):
    """A guesser locks only itself out of an account: its owner, elsewhere, still signs in."""
    settings.SSO_TRUSTED_PROXY_HOPS = 1
    UserFactory(email="ann@example.test")
    for _ in range(settings.SSO_LOGIN_FAILURES_PER_CLIENT_EMAIL):
        guess(client, "ann@example.test", "203.0.113.66")
    assert guess(client, "ann@example.test", "203.0.113.66", PASSWORD).status_code == (
        HTTPStatus.TOO_MANY_REQUESTS
    )
    assert guess(client, "ann@example.test", "198.51.100.7", PASSWORD).status_code == (
        HTTPStatus.FOUND
    )
