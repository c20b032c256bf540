"""Automation: `sso_profile create|update|list|show|delete`, validated like the web forms."""

from __future__ import annotations

import json
from argparse import ArgumentParser, BooleanOptionalAction
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from sso.domains.services import domains_mark_verified
from sso.forms import IdPSettingsForm
from sso.models import (
    IdPKind,
    Organization,
    ProfileStatus,
    Role,
    SignaturePolicy,
    SSOProfile,
)
from sso.organizations.selectors import organization_get_by_slug
from sso.profiles.metadata_refresh import profile_metadata_fetch
from sso.profiles.selectors import profile_get_by_sid
from sso.profiles.services import (
    profile_activate,
    profile_configure,
    profile_create,
    profile_delete,
    profile_set_session_limits,
)
from sso.saml.config import sp_acs_url, sp_entity_id
from sso.saml.metadata import MAX_METADATA_BYTES, IdPMetadata, parse_idp_metadata
from sso.saml.metadata import MESSAGES as METADATA_MESSAGES
from sso.validators import (
    CERTIFICATE_MAX_LENGTH,
    MESSAGES,
    SESSION_MINUTES_MAX,
    SESSION_MINUTES_MIN,
    validate_https_url,
)

FLAGS = {
    "idp_issuer": "--issuer",
    "idp_sso_url": "--sso-url",
    "idp_slo_url": "--slo-url",
    "certificate": "--cert-file",
    "domains": "--domain",
    "name": "--name",
    "idp_kind": "--idp-kind",
    "default_redirect_url": "--default-redirect-url",
    "signature_policy": "--signature-policy",
    "email_attribute": "--email-attribute",
    "max_session_minutes": "--max-session-minutes",
    "max_authn_age_minutes": "--max-authn-age-minutes",
}
# What a metadata file sets, so that its errors name the file rather than a flag not given.
FROM_METADATA = (
    "idp_issuer",
    "idp_sso_url",
    "idp_slo_url",
    "certificate",
    "additional_certificate",
)


def _describe(profile: SSOProfile) -> dict[str, Any]:
    domains = list(profile.domains.all())
    return {
        "sid": profile.sid,
        "organization": profile.organization.slug,
        "name": profile.name,
        "idp_kind": profile.idp_kind,
        "status": profile.status,
        "idp_issuer": profile.idp_issuer,
        "idp_sso_url": profile.idp_sso_url,
        "idp_slo_url": profile.idp_slo_url,
        "signature_policy": profile.signature_policy,
        "email_attribute": profile.email_attribute,
        "metadata_url": profile.metadata_url,
        "max_session_minutes": profile.max_session_minutes,
        "max_authn_age_minutes": profile.max_authn_age_minutes,
        "sp_entity_id": sp_entity_id(profile),
        "acs_url": sp_acs_url(profile),
        "domains": [d.domain for d in domains],
        "verified_domains": [d.domain for d in domains if d.is_verified],
        "certificates": [
            {"fingerprint_sha256": c.fingerprint_sha256, "not_after": c.not_after.isoformat()}
            for c in profile.certificates.all()
        ],
    }


def _form_errors(
    form_or_error: IdPSettingsForm | ValidationError, *, metadata: bool = False
) -> str:
    if isinstance(form_or_error, ValidationError):
        errors = (
            form_or_error.message_dict
            if hasattr(form_or_error, "error_dict")
            else {"__all__": form_or_error.messages}
        )
    else:
        errors = form_or_error.errors
    flags = {**FLAGS, **dict.fromkeys(FROM_METADATA if metadata else (), "--metadata-file")}
    return "\n".join(
        f"{flags.get(field, field)}: {message}"
        for field, messages in errors.items()
        for message in messages
    )


def _read(path: Path, *, flag: str, limit: int, too_large: str) -> str:
    try:
        with path.open("rb") as file:
            # One byte more than the file may hold: enough to refuse, never a whole device or
            # log file.
            data = file.read(limit + 1)
        if len(data) > limit:
            raise CommandError(f"{flag}: {too_large}")
        return data.decode()
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"{flag}: cannot read the file ({exc.__class__.__name__}).") from None


def _add_profile_arguments(parser: ArgumentParser, *, create: bool) -> None:
    """The IdP side, for create and update alike; update keeps what is not given."""
    parser.add_argument("--name", required=create, help="Friendly name")
    parser.add_argument(
        "--idp-kind", default=IdPKind.OTHER if create else None, choices=IdPKind.values
    )
    parser.add_argument(
        "--metadata-file",
        type=Path,
        help="IdP metadata XML: its Issuer, SSO URL and signing certificates "
        "(instead of --issuer, --sso-url and --cert-file)",
    )
    parser.add_argument(
        "--metadata-url",
        help="HTTPS URL of the IdP metadata: fetched now for its Issuer, SSO URL and signing "
        "certificates, then refreshed daily" + ("" if create else "; '' stops the refresh"),
    )
    parser.add_argument("--issuer", help="IdP Issuer (entity ID)")
    parser.add_argument("--sso-url", help="IdP single sign-on URL")
    parser.add_argument("--slo-url", help="IdP single logout URL (HTTP-Redirect); '' for none")
    parser.add_argument(
        "--cert-file",
        type=Path,
        help="IdP signing certificate (PEM)" + ("" if create else "; added to the trusted ones"),
    )
    parser.add_argument(
        "--domain",
        action="append",
        required=create,
        help="Trusted domain (repeatable)" + ("" if create else "; replaces the list"),
    )
    parser.add_argument("--default-redirect-url")
    parser.add_argument(
        "--allow-idp-initiated",
        action="store_true" if create else BooleanOptionalAction,
        default=False if create else None,
    )
    parser.add_argument(
        "--signature-policy",
        choices=SignaturePolicy.values,
        help="Which signature the ACS requires: both (default), assertion or response",
    )
    parser.add_argument(
        "--email-attribute",
        help="The attribute carrying the email; empty: the NameID (format emailAddress)",
    )
    for flag, what in (
        ("--max-session-minutes", "A session ends this long after sign-in at the latest"),
        ("--max-authn-age-minutes", "Refuse (and ForceAuthn) an IdP login older than this"),
    ):
        parser.add_argument(
            flag,
            type=int,
            help=f"{what}: {SESSION_MINUTES_MIN} to {SESSION_MINUTES_MAX} minutes; 0: no limit",
        )
    parser.add_argument(
        "--verified",
        action="store_true",
        help="Mark the profile's domains verified (operators only; audited)",
    )
    parser.add_argument(
        "--activate",
        action="store_true",
        help="Turn the profile on without a connection test (audited)",
    )
    parser.add_argument("--json", action="store_true")


class Command(BaseCommand):
    help = "Create, update, list, show and delete SSO profiles."

    def add_arguments(self, parser: ArgumentParser) -> None:
        commands = parser.add_subparsers(dest="action", required=True)

        create = commands.add_parser("create", help="Create a configured SSO profile.")
        create.add_argument("--org", required=True, help="Organization slug")
        _add_profile_arguments(create, create=True)

        update = commands.add_parser("update", help="Change an SSO profile.")
        update.add_argument("sid")
        _add_profile_arguments(update, create=False)

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
        if not (options["metadata_file"] or options["metadata_url"]):
            missing = [
                flag
                for flag, key in (
                    ("--issuer", "issuer"),
                    ("--sso-url", "sso_url"),
                    ("--cert-file", "cert_file"),
                )
                if not options[key]
            ]
            if missing:
                raise CommandError(
                    f"{', '.join(missing)}: required without --metadata-file or --metadata-url."
                )
        form = self._settings_form(
            options, current={"jit_provisioning": True, "jit_role": Role.MEMBER}
        )
        try:
            with transaction.atomic():
                profile = profile_create(
                    organization=organization, actor=None, name=form.cleaned_data["name"]
                )
                self._save(profile, form, options, domains_verified=options["verified"])
        except ValidationError as exc:
            raise CommandError(_form_errors(exc, metadata=bool(options["metadata_file"]))) from None
        profile.refresh_from_db()
        self._print(profile, as_json=options["json"])

    def _update(self, options: dict[str, Any]) -> None:
        profile = self._profile(options["sid"])
        current = {
            "name": profile.name,
            "idp_kind": profile.idp_kind,
            "issuer": profile.idp_issuer,
            "sso_url": profile.idp_sso_url,
            "slo_url": profile.idp_slo_url,
            "default_redirect_url": profile.default_redirect_url,
            "domain": [d.domain for d in profile.domains.all()],
            "allow_idp_initiated": profile.allow_idp_initiated,
            "jit_provisioning": profile.jit_provisioning,
            "jit_role": profile.jit_role,
        }
        form = self._settings_form(options, current=current, has_certificate=True)
        try:
            with transaction.atomic():
                self._save(profile, form, options, domains_verified=options["verified"])
                if options["verified"]:
                    domains_mark_verified(profile=profile, actor=None, how="operator")
        except ValidationError as exc:
            raise CommandError(_form_errors(exc, metadata=bool(options["metadata_file"]))) from None
        profile.refresh_from_db()
        self._print(profile, as_json=options["json"])

    def _settings_form(
        self, options: dict[str, Any], *, current: dict[str, Any], has_certificate: bool = False
    ) -> IdPSettingsForm:
        """The IdP settings form bound to the options given, falling back to `current`."""
        given = {key: value for key, value in options.items() if value is not None}
        values = {**current, **given}
        certificates: list[str] = []
        if options["metadata_file"] and options.get("metadata_url"):
            raise CommandError("--metadata-url: give either the metadata URL or the file.")
        if options["metadata_file"] or options.get("metadata_url"):
            flag = "--metadata-file" if options["metadata_file"] else "--metadata-url"
            if any(options[key] for key in ("issuer", "sso_url", "cert_file")):
                raise CommandError(
                    f"{flag}: give either the metadata or --issuer, --sso-url and --cert-file."
                )
            metadata = (
                self._metadata(options["metadata_file"])
                if options["metadata_file"]
                else self._fetched(options["metadata_url"])
            )
            values.update(
                issuer=metadata.issuer, sso_url=metadata.sso_url, slo_url=metadata.slo_url
            )
            certificates = metadata.certificates
        elif options["cert_file"]:
            certificates = [
                _read(
                    options["cert_file"],
                    flag="--cert-file",
                    limit=CERTIFICATE_MAX_LENGTH,
                    too_large=MESSAGES["certificate_too_large"],
                )
            ]
        form = IdPSettingsForm(
            data={
                "name": values.get("name", ""),
                "idp_kind": values.get("idp_kind", IdPKind.OTHER),
                "idp_issuer": values.get("issuer", ""),
                "idp_sso_url": values.get("sso_url", ""),
                "idp_slo_url": values.get("slo_url", ""),
                # The wizard keeps the first two of an IdP's certificates the same way.
                "certificate": "".join(certificates[:1]),
                "additional_certificate": "".join(certificates[1:2]),
                "default_redirect_url": values.get("default_redirect_url", ""),
                "domains": values.get("domain", []),
                "allow_idp_initiated": values.get("allow_idp_initiated", False),
                "jit_provisioning": values["jit_provisioning"],
                "jit_role": values["jit_role"],
            },
            has_certificate=has_certificate,
        )
        if not form.is_valid():
            raise CommandError(_form_errors(form, metadata=bool(options["metadata_file"])))
        return form

    def _metadata(self, path: Path) -> IdPMetadata:
        text = _read(
            path,
            flag="--metadata-file",
            limit=MAX_METADATA_BYTES,
            too_large=METADATA_MESSAGES["metadata_too_large"],
        )
        try:
            return parse_idp_metadata(text)
        except ValidationError as exc:
            raise CommandError(f"--metadata-file: {' '.join(exc.messages)}") from None

    def _fetched(self, url: str) -> IdPMetadata:
        try:
            return profile_metadata_fetch(url=validate_https_url(url)).metadata
        except ValidationError as exc:
            raise CommandError(f"--metadata-url: {' '.join(exc.messages)}") from None

    def _save(
        self,
        profile: SSOProfile,
        form: IdPSettingsForm,
        options: dict[str, Any],
        *,
        domains_verified: bool,
    ) -> None:
        data = form.cleaned_data
        email_attribute = options["email_attribute"]
        profile_configure(
            profile=profile,
            actor=None,
            name=data["name"],
            idp_kind=data["idp_kind"],
            idp_issuer=data["idp_issuer"],
            idp_sso_url=data["idp_sso_url"],
            idp_slo_url=data["idp_slo_url"],
            certificates=data["certificates"],
            default_redirect_url=data["default_redirect_url"],
            domains=data["domains"] if options["domain"] is not None else None,
            domains_verified=domains_verified,
            allow_idp_initiated=data["allow_idp_initiated"],
            jit_provisioning=data["jit_provisioning"],
            jit_role=data["jit_role"],
            signature_policy=options["signature_policy"],
            email_attribute=email_attribute.strip() if email_attribute is not None else None,
            metadata_url=options["metadata_url"],
        )
        limits = ("max_session_minutes", "max_authn_age_minutes")
        if any(options.get(name) is not None for name in limits):
            given = {
                name: getattr(profile, name) if options.get(name) is None else options[name] or None
                for name in limits
            }
            profile_set_session_limits(profile=profile, actor=None, **given)
        if options["activate"] and profile.status != ProfileStatus.ACTIVE:
            profile_activate(profile=profile, actor=None, override=True)

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
