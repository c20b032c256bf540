"""Admin Center people: list, search, invite, change role, remove, sessions ending at once."""

from __future__ import annotations

import datetime as dt
import re
from http import HTTPStatus
from urllib.parse import urlencode

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from sso.models import AuditAction, AuditEvent, Invitation, Membership, Role, SignInMethod, User
from sso.organizations.services import (
    invitation_accept,
    invitation_create,
    membership_record_sign_in,
)
from tests.factories import ActiveProfileFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


def signed_in_client(user: User) -> Client:
    other = Client()
    assert other.login(username=user.email, password=PASSWORD)
    return other


def test_people_lists_members_with_sign_in_method(owner_client, owner):
    profile = ActiveProfileFactory(organization=owner.organization, name="Okta")
    grace = MembershipFactory(
        organization=owner.organization, user__email="grace@acme.test", created_just_in_time=True
    )
    membership_record_sign_in(user=grace.user, method=SignInMethod.SSO, profile=profile)
    MembershipFactory(user__email="stranger@other.test")

    content = owner_client.get(reverse("sso:admin_people")).content.decode()

    assert "grace@acme.test" in content and "owner@acme.test" in content
    assert "SSO (Okta)" in content and ">JIT</span>" in content
    assert "stranger@other.test" not in content


def test_people_search_filter_and_pagination(owner_client, owner):
    for number in range(120):
        MembershipFactory(
            organization=owner.organization,
            user__email=f"p{number:03}@acme.test",
            user__first_name="Zed" if number == 7 else "Amy",
        )
    MembershipFactory(
        organization=owner.organization, role=Role.ADMIN, user__email="boss@acme.test"
    )

    page_one = owner_client.get(reverse("sso:admin_people")).content.decode()
    assert "122 people" in page_one and "Page 1 of 3" in page_one
    page_three = owner_client.get(reverse("sso:admin_people"), {"page": 3}).content.decode()
    assert "p119@acme.test" in page_three

    by_name = owner_client.get(reverse("sso:admin_people"), {"q": "zed"}).content.decode()
    assert "p007@acme.test" in by_name and "p008@acme.test" not in by_name
    admins = owner_client.get(reverse("sso:admin_people"), {"role": "admin"}).content.decode()
    assert "boss@acme.test" in admins and "p001@acme.test" not in admins
    never = owner_client.get(reverse("sso:admin_people"), {"method": "never"}).content.decode()
    assert "p001@acme.test" in never


def test_invite_sends_single_use_link_and_person_sets_password(owner_client, owner):
    response = owner_client.post(
        reverse("sso:admin_invite"), {"email": "New@Example.test", "role": "admin"}
    )
    link = re.search(r'value="(https://sso\.test/invitations/[^"]+)"', response.content.decode())
    assert link, "the link is shown once"
    assert link.group(1) in mail.outbox[0].body
    assert Invitation.objects.get().token_digest not in link.group(1)
    path = link.group(1).removeprefix("https://sso.test")

    invitee = Client()
    accepted = invitee.post(
        path,
        {
            "new_password1": "a long unusual passphrase 42",
            "new_password2": "a long unusual passphrase 42",
        },
    )

    assert accepted["Location"] == reverse("sso:console")
    membership = Membership.objects.get(user__email="new@example.test")
    assert (membership.organization, membership.role) == (owner.organization, Role.ADMIN)
    again = Client().get(path)
    assert again.status_code == HTTPStatus.NOT_FOUND
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {AuditAction.MEMBER_INVITED, AuditAction.INVITATION_ACCEPTED} <= actions


@pytest.mark.parametrize(
    ("first", "second", "error"),
    [
        ("a long unusual passphrase 42", "another long passphrase 43", "didn’t match"),
        ("new@example.test", "new@example.test", "too similar"),
    ],
)
def test_invitation_password_must_match_and_be_strong(owner, first, second, error):
    invitation, link = invitation_create(
        organization=owner.organization, actor=owner.user, email="new@example.test", role="member"
    )
    path = link.removeprefix("https://sso.test")

    response = Client().post(path, {"new_password1": first, "new_password2": second})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert error in response.content.decode()
    assert not User.objects.filter(email="new@example.test").exists()
    invitation.refresh_from_db()
    assert invitation.is_usable


def test_invitation_to_sso_domain_sends_the_invitee_to_sso_and_back_before_accepting(
    owner_client, owner
):
    profile = ActiveProfileFactory(organization=owner.organization)
    response = owner_client.post(
        reverse("sso:admin_invite"), {"email": "eve@acme.test", "role": "member"}
    )
    path = re.search(
        r'value="https://sso\.test(/invitations/[^"]+)"', response.content.decode()
    ).group(1)
    sign_in = f"{reverse('sso:saml2_login', args=[profile.sid])}?{urlencode({'next': path})}"

    page = Client().get(path)
    assert "Sign in with SSO to accept" in page.content.decode()
    assert sign_in.replace("&", "&amp;") in page.content.decode()
    assert Client().post(path)["Location"] == sign_in
    assert not User.objects.filter(email="eve@acme.test").exists()


def test_invitation_of_another_organizations_sso_member_is_not_accepted_anonymously():
    """Issue 20, item 2: org B invites Alpha's member as owner and opens the link itself."""
    alpha = ActiveProfileFactory()  # acme.test
    member = MembershipFactory(organization=alpha.organization, user__email="member@acme.test")
    b_owner = MembershipFactory(role=Role.OWNER, user__email="boss@b.test")
    _, link = invitation_create(
        organization=b_owner.organization,
        actor=b_owner.user,
        email="member@acme.test",
        role="owner",
    )
    path = link.removeprefix("https://sso.test")
    attacker = Client()
    attacker.force_login(b_owner.user)
    attacker.logout()

    response = attacker.post(
        path,
        {
            "new_password1": "a long unusual passphrase 42",
            "new_password2": "a long unusual passphrase 42",
        },
    )

    assert response["Location"].startswith(reverse("sso:saml2_login", args=[alpha.sid]))
    assert not Membership.objects.filter(organization=b_owner.organization, user=member.user)
    assert not AuditEvent.objects.filter(action=AuditAction.INVITATION_ACCEPTED).exists()
    member.user.refresh_from_db()
    assert member.user.check_password(PASSWORD)

    member_browser = Client()
    member_browser.force_login(member.user)  # as the ACS would, after Alpha's IdP
    assert member_browser.post(path)["Location"] == reverse("sso:console")
    assert Membership.objects.get(organization=b_owner.organization, user=member.user).role == (
        Role.OWNER
    )


@pytest.mark.parametrize("existing", [True, False])
def test_invitation_accept_without_sign_in_refused_for_existing_or_sso_accounts(owner, existing):
    if existing:
        UserFactory(email="ann@example.test")
        email = "ann@example.test"
    else:
        ActiveProfileFactory(domain__domain="sso.example.test")
        email = "ann@sso.example.test"
    invitation, _ = invitation_create(
        organization=owner.organization, actor=owner.user, email=email, role="admin"
    )

    with pytest.raises(ValidationError) as refused:
        invitation_accept(invitation=invitation, password="a long unusual passphrase 42")

    assert refused.value.code == "invitation_sign_in_first"
    assert not Membership.objects.filter(organization=owner.organization, role=Role.ADMIN)


def test_invitation_accepted_with_a_new_password_counts_as_verified(owner):
    invitation, _ = invitation_create(
        organization=owner.organization, actor=owner.user, email="new@example.test", role="member"
    )
    user = invitation_accept(invitation=invitation, password="a long unusual passphrase 42")
    assert user.email_verified_at is not None


def test_invitation_accept_as_unverified_account_refused(owner):
    squatter = UserFactory(email="ann@example.test", email_verified_at=None)
    invitation, _ = invitation_create(
        organization=owner.organization, actor=owner.user, email="ann@example.test", role="admin"
    )
    with pytest.raises(ValidationError):
        invitation_accept(invitation=invitation, user=squatter)


def test_invite_existing_member_refused(owner_client, owner):
    response = owner_client.post(
        reverse("sso:admin_invite"), {"email": "owner@acme.test", "role": "member"}
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "already a member" in response.content.decode()


def test_promote_then_remove_ends_the_removed_persons_session(owner_client, owner):
    colleague = MembershipFactory(organization=owner.organization, user__email="col@acme.test")
    colleague_browser = signed_in_client(colleague.user)
    assert colleague_browser.get(reverse("sso:console")).status_code == HTTPStatus.OK

    owner_client.post(reverse("sso:admin_person_role", args=[colleague.pk]), {"role": "admin"})
    colleague.refresh_from_db()
    assert colleague.role == Role.ADMIN
    assert colleague_browser.get(reverse("sso:admin_people")).status_code == HTTPStatus.OK

    owner_client.post(reverse("sso:admin_person_remove", args=[colleague.pk]), {"action": "remove"})

    refused = colleague_browser.get(reverse("sso:console"))
    assert refused.status_code == HTTPStatus.FOUND
    assert refused["Location"].startswith(reverse("sso:login"))
    assert not Membership.objects.filter(pk=colleague.pk).exists()
    assert AuditEvent.objects.filter(action=AuditAction.MEMBER_REMOVED, actor=owner.user).exists()


def test_deactivate_ends_sessions_and_blocks_password(owner_client, owner):
    colleague = MembershipFactory(organization=owner.organization, user__email="col@acme.test")
    browser = signed_in_client(colleague.user)
    owner_client.post(
        reverse("sso:admin_person_remove", args=[colleague.pk]), {"action": "deactivate"}
    )
    assert browser.get(reverse("sso:console")).status_code == HTTPStatus.FOUND
    assert not Client().login(username="col@acme.test", password=PASSWORD)


def test_last_owner_cannot_be_demoted_or_removed(owner_client, owner):
    owner_client.post(reverse("sso:admin_person_role", args=[owner.pk]), {"role": "member"})
    owner.refresh_from_db()
    assert owner.role == Role.OWNER
    response = owner_client.post(
        reverse("sso:admin_person_remove", args=[owner.pk]), {"action": "remove"}, follow=True
    )
    assert "An organization needs an owner" in response.content.decode()
    assert Membership.objects.filter(pk=owner.pk).exists()

    second = MembershipFactory(organization=owner.organization, role=Role.OWNER)
    owner_client.post(reverse("sso:admin_person_role", args=[owner.pk]), {"role": "admin"})
    owner.refresh_from_db()
    assert owner.role == Role.ADMIN and second.role == Role.OWNER


@pytest.fixture
def admin_client(owner) -> tuple[Client, Membership]:
    admin = MembershipFactory(
        organization=owner.organization, role=Role.ADMIN, user__email="adm@acme.test"
    )
    browser = Client()
    browser.force_login(admin.user)
    return browser, admin


def test_admin_cannot_make_themselves_owner_or_demote_or_remove_the_owner(admin_client, owner):
    """Issue 20, item 3. A second owner, so that the last-owner rule is not what refuses."""
    browser, admin = admin_client
    MembershipFactory(organization=owner.organization, role=Role.OWNER)

    promoted = browser.post(
        reverse("sso:admin_person_role", args=[admin.pk]), {"role": "owner"}, follow=True
    )
    browser.post(reverse("sso:admin_person_role", args=[owner.pk]), {"role": "member"})
    browser.post(reverse("sso:admin_person_remove", args=[owner.pk]), {"action": "remove"})
    browser.post(reverse("sso:admin_person_remove", args=[owner.pk]), {"action": "deactivate"})

    assert "Only an owner can make someone owner" in promoted.content.decode()
    admin.refresh_from_db()
    owner.refresh_from_db()
    owner.user.refresh_from_db()
    assert (admin.role, owner.role, owner.user.is_active) == (Role.ADMIN, Role.OWNER, True)
    assert not AuditEvent.objects.exists()


def test_admin_still_manages_members_and_admins(admin_client, owner):
    browser, _ = admin_client
    member = MembershipFactory(organization=owner.organization, user__email="m@acme.test")
    browser.post(reverse("sso:admin_person_role", args=[member.pk]), {"role": "admin"})
    member.refresh_from_db()
    assert member.role == Role.ADMIN


def test_owner_makes_an_admin_owner(owner_client, owner):
    admin = MembershipFactory(organization=owner.organization, role=Role.ADMIN)
    owner_client.post(reverse("sso:admin_person_role", args=[admin.pk]), {"role": "owner"})
    admin.refresh_from_db()
    assert admin.role == Role.OWNER


def test_people_page_offers_the_owner_role_to_owners_only(admin_client, owner, owner_client):
    browser, admin = admin_client
    as_admin = browser.get(reverse("sso:admin_people")).content.decode()
    as_owner = owner_client.get(reverse("sso:admin_people")).content.decode()

    def role_choices(html: str) -> list[str]:
        return re.findall(r'<select id="role-\d+" name="role">(.*?)</select>', html)

    assert role_choices(as_admin) and not any('"owner"' in c for c in role_choices(as_admin))
    assert reverse("sso:admin_person_role", args=[owner.pk]) not in as_admin
    assert reverse("sso:admin_person_remove", args=[owner.pk]) not in as_admin
    assert reverse("sso:admin_person_role", args=[admin.pk]) in as_admin
    assert all('"owner"' in choices for choices in role_choices(as_owner))
    assert reverse("sso:admin_person_remove", args=[owner.pk]) in as_owner


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("sso:admin_person_role", "post"),
        ("sso:admin_person_remove", "get"),
        ("sso:admin_person_remove", "post"),
    ],
)
def test_other_organizations_people_are_404(owner_client, name, method):
    stranger = MembershipFactory(role=Role.MEMBER)
    response = getattr(owner_client, method)(
        reverse(name, args=[stranger.pk]), {"role": "owner", "action": "remove"}
    )
    assert response.status_code == HTTPStatus.NOT_FOUND
    stranger.refresh_from_db()
    assert stranger.role == Role.MEMBER


def _invite(owner_client: Client, email: str = "new@example.test") -> str:
    """Invite someone through the page; the path of the link shown once."""
    response = owner_client.post(reverse("sso:admin_invite"), {"email": email, "role": "member"})
    return _link_path(response)


def _link_path(response) -> str:
    link = re.search(r'value="https://sso\.test(/invitations/[^"]+)"', response.content.decode())
    assert link, "the link is shown once"
    return link.group(1)


def test_invitation_sent_again_gets_a_new_link_and_the_old_one_dies(owner_client, owner):
    old_path = _invite(owner_client)
    invitation = Invitation.objects.get()
    invitation.expires_at = timezone.now() - dt.timedelta(days=1)
    invitation.save()
    listed = owner_client.get(reverse("sso:admin_people")).content.decode()
    assert "Expired" in listed

    resent = owner_client.post(reverse("sso:admin_invitation_resend", args=[invitation.pk]))

    new_path = _link_path(resent)
    assert "The earlier link no longer works." in resent.content.decode()
    assert new_path != old_path
    assert new_path in mail.outbox[-1].body
    assert Client().get(old_path).status_code == HTTPStatus.NOT_FOUND
    assert Client().get(new_path).status_code == HTTPStatus.OK
    invitation.refresh_from_db()
    assert invitation.is_usable
    assert AuditEvent.objects.filter(action=AuditAction.INVITATION_RESENT).exists()


def test_invitation_revoked_stops_its_link(owner_client, owner):
    path = _invite(owner_client)
    invitation = Invitation.objects.get()

    response = owner_client.post(reverse("sso:admin_invitation_revoke", args=[invitation.pk]))

    assert response["Location"] == reverse("sso:admin_people")
    assert not Invitation.objects.exists()
    assert Client().get(path).status_code == HTTPStatus.NOT_FOUND
    revoked = AuditEvent.objects.get(action=AuditAction.INVITATION_REVOKED)
    assert revoked.changes == {"person": "new@example.test", "role": "member"}


def test_accepted_invitation_cannot_be_sent_again_or_revoked(owner_client, owner):
    invitation, _ = invitation_create(
        organization=owner.organization, actor=owner.user, email="ann@example.test", role="member"
    )
    invitation_accept(invitation=invitation, password="a long unusual passphrase 42")
    digest = Invitation.objects.get().token_digest

    for name in ("sso:admin_invitation_resend", "sso:admin_invitation_revoke"):
        response = owner_client.post(reverse(name, args=[invitation.pk]), follow=True)
        assert "already accepted or revoked" in response.content.decode()
    assert Invitation.objects.get().token_digest == digest


@pytest.mark.parametrize("name", ["sso:admin_invitation_resend", "sso:admin_invitation_revoke"])
def test_other_organizations_invitations_are_404(owner_client, name):
    stranger = MembershipFactory(role=Role.OWNER)
    invitation, _ = invitation_create(
        organization=stranger.organization,
        actor=stranger.user,
        email="x@example.test",
        role="member",
    )
    sent = len(mail.outbox)

    response = owner_client.post(reverse(name, args=[invitation.pk]))

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert Invitation.objects.get().token_digest == invitation.token_digest
    assert len(mail.outbox) == sent


def test_organization_page_shows_owners_domains_and_enforcement(owner_client, owner):
    ActiveProfileFactory(organization=owner.organization)
    content = owner_client.get(reverse("sso:admin_organization")).content.decode()
    assert owner.organization.name in content and "owner@acme.test" in content
    assert "acme.test" in content and "Verified" in content
    assert "Enforce SSO" in content


def test_password_sign_in_is_recorded_on_membership(client, owner):
    session = client.session
    session["login_email"] = "owner@acme.test"
    session.save()
    client.post(reverse("sso:login_password"), {"password": PASSWORD})
    owner.refresh_from_db()
    assert owner.last_sign_in_method == SignInMethod.PASSWORD and owner.last_sign_in_at


def test_existing_user_invited_logs_in_then_accepts(owner, client):
    other_org_user = UserFactory(email="ann@example.test")
    _, link = invitation_create(
        organization=owner.organization, actor=owner.user, email="ann@example.test", role="member"
    )
    path = link.removeprefix("https://sso.test")
    assert client.post(path)["Location"].startswith(reverse("sso:login"))
    client.force_login(other_org_user)
    assert client.post(path)["Location"] == reverse("sso:console")
    assert Membership.objects.filter(user=other_org_user, organization=owner.organization).exists()
