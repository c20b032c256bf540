"""Demo data for `make run`: the organization "Acme" and its owner. Idempotent."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from sso.models import Organization, Role
from sso.organizations.selectors import membership_get, user_get_by_email
from sso.organizations.services import membership_create, organization_create, user_create

DEMO_EMAIL = "owner@acme.test"


class Command(BaseCommand):
    help = "Create the demo organization Acme with an owner account, and print its login."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--url",
            default="http://127.0.0.1:8000",
            help="where the app is served, for the printed login link (make run passes its own)",
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

        self.stdout.write(
            self.style.SUCCESS("Demo organization: Acme (slug acme)\n")
            + f"  Log in at {options['url'].rstrip('/')}/login/\n"
            f"  email:    {DEMO_EMAIL}\n"
            f"  password: {password}\n"
        )
