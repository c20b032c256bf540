"""Forms: one per wizard step or page. They check single fields; services check across rows."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from sso.models import AuditAction, IdPKind, LoginOutcome, Role, SignaturePolicy, SignInMethod, User
from sso.organizations.selectors import user_get_by_email
from sso.profiles.presets import GENERIC, Preset, preset_for
from sso.reasons import Reason
from sso.saml.metadata import parse_idp_metadata
from sso.validators import (
    CERTIFICATE_MAX_LENGTH,
    MAX_UPLOAD_BYTES,
    MESSAGES,
    SESSION_MINUTES_MAX,
    SESSION_MINUTES_MIN,
    CertificateInfo,
    certificate_text_from_upload,
    error,
    normalize_domain_pattern,
    parse_certificate,
    validate_attribute_name,
    validate_https_url,
    validate_issuer,
    validate_session_minutes,
    validate_upload_size,
)


class DomainListWidget(forms.Widget):
    """Several `domains` inputs of one name; also accepts one comma/newline separated text."""

    template_name = "sso/widgets/domain_list.html"

    def value_from_datadict(self, data: Any, files: Any, name: str) -> list[str]:
        values = data.getlist(name) if hasattr(data, "getlist") else data.get(name, [])
        if isinstance(values, str):
            values = [values]
        parts: list[str] = []
        for value in values:
            parts.extend(value.replace(",", "\n").splitlines())
        return [part.strip() for part in parts if part.strip()]

    def get_context(self, name: str, value: Any, attrs: dict | None) -> dict:
        context = super().get_context(name, value, attrs)
        context["widget"]["values"] = list(value or [])
        context["widget"]["invalid"] = context["widget"]["attrs"].get("aria-invalid") == "true"
        context["widget"]["describedby"] = context["widget"]["attrs"].get("aria-describedby", "")
        return context


class DomainListField(forms.Field):
    widget = DomainListWidget
    default_error_messages = {
        "required": "Add at least one trusted domain, such as example.com.",
        "duplicate": "Each domain may be listed once.",
        "position": "Domain %(position)s: %(message)s",
    }

    def to_python(self, value: Any) -> list[str]:
        return list(value or [])

    def validate(self, value: list[str]) -> None:
        if self.required and not value:
            raise ValidationError(self.error_messages["required"], code="required")

    def clean(self, value: Any) -> list[str]:
        raw = self.to_python(value)
        self.validate(raw)
        domains: list[str] = []
        errors: list[ValidationError] = []
        for position, text in enumerate(raw, start=1):
            try:
                domains.append(normalize_domain_pattern(text))
            except ValidationError as exc:
                errors.append(
                    ValidationError(
                        self.error_messages["position"],
                        code=exc.code,
                        params={"position": position, "message": exc.messages[0]},
                    )
                )
        if errors:
            raise ValidationError(errors)
        if len(set(domains)) != len(domains):
            raise ValidationError(self.error_messages["duplicate"], code="duplicate")
        return domains


def _read_upload(upload: Any, *, limit: int = MAX_UPLOAD_BYTES) -> bytes:
    validate_upload_size(upload.size)
    return upload.read(limit + 1)


class DomainCheckForm(forms.Form):
    """Which trusted domain to check; Django's CharField refuses NUL bytes and overlong text."""

    domain = forms.CharField(max_length=255)


class IdPSettingsForm(forms.Form):
    """The IdP side of a profile, typed by hand or filled from pasted IdP metadata.

    `cleaned_data["certificates"]` holds the parsed certificates to add (none, one or two).
    """

    name = forms.CharField(label="Friendly name", max_length=100)
    idp_kind = forms.ChoiceField(
        label="Identity provider",
        choices=IdPKind.choices,
        initial=IdPKind.OTHER,
        help_text="Not in the list? Choose Other/Generic SAML 2.0.",
    )
    idp_issuer = forms.CharField(
        label="Issuer ID/URL",
        required=False,
        max_length=2048,
        help_text="Also called Identity Provider Issuer, Issuer or Identifier.",
    )
    idp_sso_url = forms.CharField(
        label="Single sign-on URL",
        required=False,
        max_length=1024,
        help_text="Also called SAML Endpoint, Login URL or IdP SSO URL.",
    )
    idp_slo_url = forms.CharField(
        label="Single logout URL",
        required=False,
        max_length=1024,
        help_text="Also called SLO URL, Logout URL or SingleLogoutService (HTTP-Redirect). "
        "With it, signing out here signs the person out at the IdP too, and the IdP can sign "
        "them out here. Leave it empty if your IdP has none.",
    )
    certificate = forms.CharField(
        label="Paste the certificate",
        help_text="The PEM text (-----BEGIN CERTIFICATE----- …), or the base64 text your IdP "
        "shows on screen without those lines.",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
    )
    certificate_file = forms.FileField(
        label="or upload the certificate (.pem, .cer, .crt)",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".pem,.cer,.crt"}),
    )
    additional_certificate = forms.CharField(
        label="Second signing certificate (for a rotation)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
    )
    # Not sent: the profile keeps its policy.
    signature_policy = forms.TypedChoiceField(
        label="Signature policy",
        choices=SignaturePolicy.choices,
        required=False,
        empty_value=None,
    )
    default_redirect_url = forms.CharField(
        label="Default redirect URL",
        required=False,
        max_length=1024,
        help_text="Where users go after signing in when no page was asked for, and after "
        "signing out (for example your IdP's log-off URL).",
    )
    domains = DomainListField(label="Trusted domains", required=False)
    metadata_url = forms.CharField(
        label="IdP metadata URL",
        required=False,
        max_length=1024,
        help_text="Refreshed daily: a new signing certificate is trusted at once, a new Issuer "
        "or SSO URL waits for your approval here. Blank: no refresh.",
    )
    allow_idp_initiated = forms.BooleanField(label="Allow IdP-initiated login", required=False)
    jit_provisioning = forms.BooleanField(
        label="Create users on first login", required=False, initial=True
    )
    jit_role = forms.ChoiceField(
        label="Role of new users", choices=Role.choices, initial=Role.MEMBER
    )

    # Attribute mapping, in its own fieldset (step 4's template); blank = the preset's names.
    email_source = forms.ChoiceField(
        label="Email address (the account) comes from",
        choices=[
            (
                "nameid",
                "The NameID, when its format is emailAddress (otherwise the usual email "
                "attributes)",
            ),
            ("attribute", "An attribute"),
        ],
        initial="nameid",
        required=False,
        widget=forms.RadioSelect,
    )
    email_attribute = forms.CharField(
        label="Email attribute name",
        required=False,
        help_text="When the email comes from an attribute, only this one is read, and a "
        "persistent or unspecified NameID identifies the person for good: an email change at "
        "the IdP keeps the account.",
    )
    first_name_attribute = forms.CharField(label="First name attribute", required=False)
    last_name_attribute = forms.CharField(label="Last name attribute", required=False)
    groups_attribute = forms.CharField(label="Groups attribute", required=False)

    MAPPING_FIELDS = (
        "email_source",
        "email_attribute",
        "first_name_attribute",
        "last_name_attribute",
        "groups_attribute",
    )

    def __init__(
        self,
        *args: Any,
        has_certificate: bool = False,
        preset: Preset | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.has_certificate = has_certificate
        preset = preset or preset_for(self.initial.get("idp_kind") or IdPKind.OTHER)
        # The IdP's own names for the values it shows; what we call them stays in the help.
        if preset is not GENERIC:
            self.fields["idp_issuer"].label = preset.issuer_label
            self.fields["idp_sso_url"].label = preset.sso_url_label
        self.fields["signature_policy"].help_text = preset.policy_reason
        usual = {
            "email_attribute": preset.email_claims,
            "first_name_attribute": preset.first_name_claims,
            "last_name_attribute": preset.last_name_claims,
            "groups_attribute": preset.groups_claims,
        }
        for name, claims in usual.items():
            self.fields[name].widget.attrs.update(placeholder=claims[0], spellcheck="false")
            if name != "email_attribute":
                self.fields[name].help_text = "Blank: the first of " + ", ".join(claims) + "."

    def _clean_attribute(self, name: str) -> str:
        return validate_attribute_name(self.cleaned_data.get(name, ""))

    def clean_email_attribute(self) -> str:
        return self._clean_attribute("email_attribute")

    def clean_first_name_attribute(self) -> str:
        return self._clean_attribute("first_name_attribute")

    def clean_last_name_attribute(self) -> str:
        return self._clean_attribute("last_name_attribute")

    def clean_groups_attribute(self) -> str:
        return self._clean_attribute("groups_attribute")

    def clean_idp_issuer(self) -> str:
        return validate_issuer(self.cleaned_data["idp_issuer"])

    def clean_idp_sso_url(self) -> str:
        return validate_https_url(self.cleaned_data["idp_sso_url"])

    def clean_idp_slo_url(self) -> str:
        url = self.cleaned_data["idp_slo_url"].strip()
        return validate_https_url(url) if url else ""

    def clean_certificate_file(self) -> str:
        upload = self.cleaned_data.get("certificate_file")
        if not upload:
            return ""
        if upload.size > CERTIFICATE_MAX_LENGTH:
            raise error("certificate_too_large")
        return certificate_text_from_upload(_read_upload(upload, limit=CERTIFICATE_MAX_LENGTH))

    def clean_additional_certificate(self) -> CertificateInfo | None:
        text = self.cleaned_data["additional_certificate"]
        return parse_certificate(text) if text.strip() else None

    def clean_default_redirect_url(self) -> str:
        url = self.cleaned_data["default_redirect_url"].strip()
        return validate_https_url(url) if url else ""

    def _forget_private_keys(self) -> None:
        """A pasted private key is refused and never sent back into the re-rendered field."""
        errors = self.errors.as_data()
        pasted = [
            name
            for name in ("certificate", "additional_certificate")
            if any(e.code == "certificate_private_key" for e in errors.get(name, []))
        ]
        if pasted:
            self.data = self.data.copy()
            for name in pasted:
                self.data[name] = ""

    def clean_metadata_url(self) -> str:
        url = self.cleaned_data["metadata_url"].strip()
        return validate_https_url(url) if url else ""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        text = cleaned.get("certificate_file") or cleaned.get("certificate") or ""
        certificates: list[CertificateInfo] = []
        # A refused upload already says what is wrong beside its field; "required" would be noise.
        upload_refused = "certificate_file" in self.errors
        if not upload_refused and (text.strip() or not self.has_certificate):
            try:
                certificates.append(parse_certificate(text))
            except ValidationError as exc:
                self.add_error("certificate", exc)
        if cleaned.get("additional_certificate"):
            certificates.append(cleaned["additional_certificate"])
        for key in ("certificate", "certificate_file", "additional_certificate"):
            cleaned.pop(key, None)
        self._forget_private_keys()
        cleaned["certificates"] = certificates
        source = cleaned.get("email_source") or (
            "attribute" if cleaned.get("email_attribute") else "nameid"
        )
        if source == "nameid":
            cleaned["email_attribute"] = ""
        elif not cleaned.get("email_attribute") and "email_attribute" not in self.errors:
            self.add_error("email_attribute", error("attribute_name_required"))
        return cleaned


class IdPMetadataImportForm(forms.Form):
    """Pasted or uploaded metadata is parsed here; a `metadata_url` is fetched by the view."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Step 4 shows this form beside the settings form, which has a metadata URL too.
        kwargs.setdefault("auto_id", "id_import_%s")
        super().__init__(*args, **kwargs)

    metadata_url = forms.CharField(
        label="IdP metadata URL",
        required=False,
        max_length=1024,
        help_text="Fetched now and refreshed daily once you save.",
    )
    metadata_xml = forms.CharField(
        label="IdP metadata XML",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
    )
    metadata_file = forms.FileField(
        label="or upload the metadata file",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".xml,application/xml,text/xml"}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if url := (cleaned.get("metadata_url") or "").strip():
            try:
                cleaned["metadata_url"] = validate_https_url(url)
            except ValidationError as exc:
                self.add_error("metadata_url", exc)
            return cleaned
        upload = cleaned.get("metadata_file")
        data = _read_upload(upload) if upload else (cleaned.get("metadata_xml") or "").encode()
        try:
            cleaned["metadata"] = parse_idp_metadata(data)
        except ValidationError as exc:
            self.add_error("metadata_xml", exc)
        return cleaned


class ActivateForm(forms.Form):
    error_messages = {
        "confirm_required": "Confirm that you want to turn SSO on without a successful test."
    }

    override = forms.BooleanField(required=False, widget=forms.HiddenInput)
    confirm = forms.BooleanField(
        label="I understand that users of this profile's domains will be sent to this IdP "
        "although no connection test has succeeded.",
        required=False,
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("override") and not cleaned.get("confirm"):
            raise ValidationError(self.error_messages["confirm_required"], code="confirm_required")
        return cleaned


class ProfileConfirmForm(forms.Form):
    """Disable or Delete: an active profile's name, typed, confirms the admin means it."""

    error_messages = {"name_mismatch": "Type the profile's name exactly to confirm."}

    confirm_name = forms.CharField(label="Type the profile's name to confirm", required=False)

    def __init__(self, *args: Any, profile: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.profile = profile

    @property
    def needs_name(self) -> bool:
        return self.profile.is_active

    def clean_confirm_name(self) -> str:
        typed = self.cleaned_data["confirm_name"].strip()
        if self.needs_name and typed != self.profile.name:
            raise ValidationError(self.error_messages["name_mismatch"], code="name_mismatch")
        return typed


class EmailForm(forms.Form):
    error_messages = {"invalid": "Enter a valid email address, like name@example.com."}

    email = forms.EmailField(
        label="Email",
        max_length=254,
        error_messages={
            "required": "Enter your email address.",
            "invalid": error_messages["invalid"],
        },
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}),
    )


class PasswordForm(forms.Form):
    password = forms.CharField(
        label="Password",
        strip=False,
        error_messages={"required": "Enter your password."},
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )


class SignUpForm(forms.Form):
    email = forms.EmailField(
        label="Work email",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    organization_name = forms.CharField(label="Organization name", max_length=200)

    error_messages = {"email_taken": "An account with this email already exists. Log in instead."}

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if user_get_by_email(email=email) is not None:
            raise ValidationError(self.error_messages["email_taken"], code="email_taken")
        return email

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("password"):
            try:
                validate_password(cleaned["password"], User(email=cleaned.get("email", "")))
            except ValidationError as exc:
                self.add_error("password", exc)
        return cleaned


class EnforcementForm(forms.Form):
    # Never the posted value: it is not one of ours.
    error_messages = {"not_an_owner": "Choose break-glass owners among this organization's owners."}

    enforce_sso = forms.BooleanField(
        label="Enforce SSO: people of your trusted domains can only sign in through your IdP",
        required=False,
    )
    break_glass = forms.ModelMultipleChoiceField(
        label="Break-glass owners (keep password sign-in; every use is audited)",
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    confirm = forms.BooleanField(
        label="I understand: if our IdP fails, people of our trusted domains cannot sign in, "
        "and without a break-glass owner nobody can sign in to turn enforcement off.",
        required=False,
    )

    def __init__(self, *args: Any, owners: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["break_glass"].queryset = owners
        for code in ("invalid_choice", "invalid_pk_value", "invalid_list"):
            self.fields["break_glass"].error_messages[code] = self.error_messages["not_an_owner"]


class SessionMinutesField(forms.IntegerField):
    """Minutes of a session limit, empty for none: `validate_session_minutes`, the services'
    own check, with its one message for anything else typed."""

    default_validators = [validate_session_minutes]
    default_error_messages = {"invalid": MESSAGES["session_minutes_range"]}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "widget",
            forms.NumberInput(
                attrs={"min": SESSION_MINUTES_MIN, "max": SESSION_MINUTES_MAX, "step": 1}
            ),
        )
        super().__init__(**kwargs)


class SessionLimitForm(forms.Form):
    max_session_minutes = SessionMinutesField(
        label="Maximum session age (minutes): an SSO session ends this long after sign-in, or "
        "earlier if the IdP says so (empty: the IdP and the site default decide)",
    )


class ProfileSessionLimitsForm(forms.Form):
    max_session_minutes = SessionMinutesField(
        label="Maximum session age (minutes)",
        help_text="A session signed in through this profile ends this long after sign-in at "
        "the latest; the organization's maximum or the end your IdP sets (SessionNotOnOrAfter) "
        f"may end it sooner. From {SESSION_MINUTES_MIN} to {SESSION_MINUTES_MAX} minutes "
        "(90 days); empty: no limit of this profile.",
    )
    max_authn_age_minutes = SessionMinutesField(
        label="Maximum authentication age (minutes)",
        help_text="When the person last signed in at your IdP longer ago than this, we ask the "
        "IdP to authenticate them again (ForceAuthn), and refuse a sign-in whose "
        "authentication time (AuthnInstant) is older. "
        f"From {SESSION_MINUTES_MIN} to {SESSION_MINUTES_MAX} minutes (90 days); empty: no "
        "limit, the IdP's own session decides.",
    )


class PeopleFilterForm(forms.Form):
    q = forms.CharField(label="Search by email or name", required=False, max_length=254)
    role = forms.ChoiceField(
        label="Role", choices=[("", "All roles"), *Role.choices], required=False
    )
    method = forms.ChoiceField(
        label="Signs in with",
        choices=[("", "Any"), *SignInMethod.choices, ("never", "Never signed in")],
        required=False,
    )


class LoginEventFilterForm(forms.Form):
    q = forms.CharField(label="Support reference or email", required=False, max_length=254)
    outcome = forms.ChoiceField(
        label="Outcome", choices=[("", "Any"), *LoginOutcome.choices], required=False
    )
    reason = forms.ChoiceField(
        label="Reason", choices=[("", "Any"), *Reason.choices], required=False
    )
    email = forms.CharField(label="Email", required=False, max_length=254)
    since = forms.DateField(
        label="From (UTC)", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label="To (UTC)", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(
        label="Action", choices=[("", "Any"), *AuditAction.choices], required=False
    )
    actor = forms.CharField(label="Who (email)", required=False, max_length=254)
    since = forms.DateField(
        label="From (UTC)", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label="To (UTC)", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class InviteForm(forms.Form):
    email = forms.EmailField(label="Email", max_length=254)
    role = forms.ChoiceField(label="Role", choices=Role.choices, initial=Role.MEMBER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=Role.choices)


class AcceptInvitationForm(SetPasswordForm):
    """Django's set-password form (twice, validated) for the invitation's new account."""

    def __init__(self, *args: Any, email: str, **kwargs: Any) -> None:
        super().__init__(User(email=email), *args, **kwargs)
        self.fields["new_password1"].label = "Choose a password"
        self.fields["new_password2"].label = "Password again"
