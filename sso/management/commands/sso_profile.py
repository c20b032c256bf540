"""Automation: `sso_profile create|list|show|delete`, validated like the web forms."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from sso.forms import IdPSettingsForm
from sso.models import IdPKind, Organization, SSOProfile
from sso.organizations.selectors import organization_get_by_slug
from sso.profiles.selectors import profile_get_by_sid
from sso.profiles.services import (
    profile_activate,
    profile_configure,
    profile_create,
    profile_delete,
)
from sso.saml.config import sp_acs_url, sp_entity_id
from sso.validators import CERTIFICATE_MAX_LENGTH, MESSAGES


def _describe(profile: SSOProfile) -> dict[str, Any]:
    return {
        "sid": profile.sid,
        "organization": profile.organization.slug,
        "name": profile.name,
        "idp_kind": profile.idp_kind,
        "status": profile.status,
        "idp_issuer": profile.idp_issuer,
        "idp_sso_url": profile.idp_sso_url,
        "sp_entity_id": sp_entity_id(profile),
        "acs_url": sp_acs_url(profile),
        "domains": [d.domain for d in profile.domains.all()],
        "certificates": [
            {"fingerprint_sha256": c.fingerprint_sha256, "not_after": c.not_after.isoformat()}
            for c in profile.certificates.all()
        ],
    }


def _form_errors(form_or_error: IdPSettingsForm | ValidationError) -> str:
    if isinstance(form_or_error, ValidationError):
        errors = (
            form_or_error.message_dict
            if hasattr(form_or_error, "error_dict")
            else {"__all__": form_or_error.messages}
        )
    else:
        errors = form_or_error.errors
    flag = {
        "idp_issuer": "--issuer",
        "idp_sso_url": "--sso-url",
        "certificate": "--cert-file",
        "domains": "--domain",
        "name": "--name",
        "idp_kind": "--idp-kind",
        "default_redirect_url": "--default-redirect-url",
    }
    return "\n".join(
        f"{flag.get(field, field)}: {message}"
        for field, messages in errors.items()
        for message in messages
    )


class Command(BaseCommand):
    help = "Create, list, show and delete SSO profiles."

    def add_arguments(self, parser: ArgumentParser) -> None:
        commands = parser.add_subparsers(dest="action", required=True)

        create = commands.add_parser("create", help="Create a configured SSO profile.")
        create.add_argument("--org", required=True, help="Organization slug")
        create.add_argument("--name", required=True, help="Friendly name")
        create.add_argument("--idp-kind", default=IdPKind.OTHER, choices=IdPKind.values)
        create.add_argument("--issuer", required=True, help="IdP Issuer (entity ID)")
        create.add_argument("--sso-url", required=True, help="IdP single sign-on URL")
        create.add_argument(
            "--cert-file", required=True, type=Path, help="IdP signing certificate (PEM)"
        )
        create.add_argument(
            "--domain", action="append", required=True, help="Trusted domain (repeatable)"
        )
        create.add_argument("--default-redirect-url", default="")
        create.add_argument("--allow-idp-initiated", action="store_true")
        create.add_argument(
            "--verified",
            action="store_true",
            help="Mark the domains verified (operators only; audited)",
        )
        create.add_argument(
            "--activate",
            action="store_true",
            help="Turn the profile on without a connection test (audited)",
        )
        create.add_argument("--json", action="store_true")

        listing = commands.add_parser("list", help="List profiles.")
        listing.add_argument("--org", help="Only this organization")
        listing.add_argument("--json", action="store_true")

        show = commands.add_parser("show", help="Show one profile.")
        show.add_argument("sid")

        delete = commands.add_parser("delete", help="Delete one profile.")
        delete.add_argument("sid")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"_{options['action']}")(options)

    def _profile(self, sid: str) -> SSOProfile:
        try:
            return profile_get_by_sid(sid=sid)
        except SSOProfile.DoesNotExist:
            raise CommandError(f"No SSO profile with sid {sid}.") from None

    def _create(self, options: dict[str, Any]) -> None:
        try:
            organization = organization_get_by_slug(slug=options["org"])
        except Organization.DoesNotExist:
            raise CommandError(f"No organization with slug {options['org']!r}.") from None
        try:
            with options["cert_file"].open("rb") as file:
                # One byte more than a certificate may hold: enough to refuse, never a whole
                # device or log file.
                data = file.read(CERTIFICATE_MAX_LENGTH + 1)
            if len(data) > CERTIFICATE_MAX_LENGTH:
                raise CommandError(f"--cert-file: {MESSAGES['certificate_too_large']}")
            certificate_text = data.decode()
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(
                f"--cert-file: cannot read the file ({exc.__class__.__name__})."
            ) from None
        form = IdPSettingsForm(
            data={
                "name": options["name"],
                "idp_kind": options["idp_kind"],
                "idp_issuer": options["issuer"],
                "idp_sso_url": options["sso_url"],
                "certificate": certificate_text,
                "default_redirect_url": options["default_redirect_url"],
                "domains": options["domain"],
                "allow_idp_initiated": options["allow_idp_initiated"],
                "jit_provisioning": True,
                "jit_role": "member",
            }
        )
        if not form.is_valid():
            raise CommandError(_form_errors(form))
        try:
            with transaction.atomic():
                profile = profile_create(
                    organization=organization, actor=None, name=form.cleaned_data["name"]
                )
                profile_configure(
                    profile=profile,
                    actor=None,
                    name=form.cleaned_data["name"],
                    idp_kind=form.cleaned_data["idp_kind"],
                    idp_issuer=form.cleaned_data["idp_issuer"],
                    idp_sso_url=form.cleaned_data["idp_sso_url"],
                    certificates=form.cleaned_data["certificates"],
                    default_redirect_url=form.cleaned_data["default_redirect_url"],
                    domains=form.cleaned_data["domains"],
                    domains_verified=options["verified"],
                    allow_idp_initiated=form.cleaned_data["allow_idp_initiated"],
                    jit_provisioning=form.cleaned_data["jit_provisioning"],
                    jit_role=form.cleaned_data["jit_role"],
                )
                if options["activate"]:
                    profile_activate(profile=profile, actor=None, override=True)
        except ValidationError as exc:
            raise CommandError(_form_errors(exc)) from None
        profile.refresh_from_db()
        self._print(profile, as_json=options["json"])

    def _list(self, options: dict[str, Any]) -> None:
        profiles = SSOProfile.objects.select_related("organization").prefetch_related(
            "domains", "certificates"
        )
        if options.get("org"):
            profiles = profiles.filter(organization__slug=options["org"])
        if options["json"]:
            self.stdout.write(json.dumps([_describe(p) for p in profiles], indent=2))
            return
        for profile in profiles:
            domains = ", ".join(d.domain for d in profile.domains.all())
            self.stdout.write(
                f"{profile.sid}  {profile.organization.slug:<16} {profile.status:<10} "
                f"{profile.name}  [{domains}]"
            )

    def _show(self, options: dict[str, Any]) -> None:
        self._print(self._profile(options["sid"]), as_json=True)

    def _delete(self, options: dict[str, Any]) -> None:
        profile = self._profile(options["sid"])
        profile_delete(profile=profile, actor=None)
        self.stdout.write(f"Deleted {options['sid']}.")

    def _print(self, profile: SSOProfile, *, as_json: bool) -> None:
        description = _describe(profile)
        if as_json:
            self.stdout.write(json.dumps(description, indent=2))
            return
        self.stdout.write(
            f"sid:          {description['sid']}\n"
            f"status:       {description['status']}\n"
            f"SP Entity ID: {description['sp_entity_id']}\n"
            f"ACS URL:      {description['acs_url']}"
        )
