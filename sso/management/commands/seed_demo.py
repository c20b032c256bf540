"""Demo data for `make run`: the organization "Acme", its owner, and (in development) an active
SSO profile "Demo IdP" pointed at the built-in demo IdP (sso/devidp/). Idempotent."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from sso.devidp.saml import DEMO_DOMAIN, PEOPLE
from sso.devidp.seed import demo_profile_ensure
from sso.models import Organization, Role
from sso.organizations.selectors import membership_get, user_get_by_email
from sso.organizations.services import membership_create, organization_create, user_create

# Not of the demo IdP's domain: the owner keeps signing in with the printed password.
DEMO_EMAIL = "owner@acme.test"


class Command(BaseCommand):
    help = "Create the demo organization Acme with an owner account, and print its login."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--url",
            default="",
            help="where the app is served, for the printed login link (SSO_PUBLIC_BASE_URL "
            "when not given)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        password_file = settings.BASE_DIR / "var" / "demo-owner-password"
        password_file.parent.mkdir(exist_ok=True)
        if not password_file.exists():
            password_file.write_text(secrets.token_urlsafe(12))
            password_file.chmod(0o600)
        password = password_file.read_text().strip()

        owner = user_get_by_email(email=DEMO_EMAIL)
        if owner is None:
            owner = user_create(
                email=DEMO_EMAIL,
                password=password,
                first_name="Ada",
                last_name="Owner",
                email_verified=True,
            )
        elif not owner.check_password(password):
            owner.set_password(password)
            owner.save(update_fields=["password"])
        organization = Organization.objects.filter(slug="acme").first()
        if organization is None:
            organization = organization_create(name="Acme", slug="acme", owner=owner)
        elif membership_get(user=owner, organization=organization) is None:
            membership_create(user=owner, organization=organization, role=Role.OWNER)

        url = (options["url"] or settings.SSO_PUBLIC_BASE_URL).rstrip("/")
        self.stdout.write(
            self.style.SUCCESS("Demo organization: Acme (slug acme)\n")
            + f"  Log in at {url}/login/\n"
            f"  email:    {DEMO_EMAIL}\n"
            f"  password: {password}\n"
        )
        if not (settings.DEBUG and settings.SSO_DEMO_IDP):
            self.stdout.write("  (No demo IdP: it runs only with DJANGO_DEBUG=true.)\n")
            return
        profile = demo_profile_ensure(organization=organization, owner=owner)
        people = ", ".join(person.email for person in PEOPLE)
        self.stdout.write(
            self.style.SUCCESS(f"SSO profile: {profile.name} ({profile.sid}), active\n")
            + f"  Try SSO: go to {url}/login/, type {PEOPLE[0].email}\n"
            f"  The demo IdP signs in anyone of {DEMO_DOMAIN} without a password "
            f"({people}, ...).\n"
        )
