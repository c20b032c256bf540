"""Tenancy and SSO data model: organizations, people, SSO profiles and what they record."""

from __future__ import annotations

import base64
import datetime as dt
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.fields.json import KeyTransform
from django.db.models.functions import Lower, Upper
from django.db.models.lookups import Exact
from django.utils import timezone
from django.utils.crypto import salted_hmac


def new_profile_sid() -> str:
    return "JI" + secrets.token_hex(16)


def new_verification_token() -> str:
    return secrets.token_urlsafe(24)


def new_trust_revision() -> str:
    return secrets.token_hex(16)


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: object) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, email: str) -> User:
        return self.with_email(email).get()

    def with_email(self, email: str) -> models.QuerySet[User]:
        """The account with this email, compared in lower case as the unique index compares,
        so that the lookup is an index search rather than a scan of every account."""
        return self.filter(Exact(Lower("email"), email.strip().lower()))


class User(AbstractBaseUser, PermissionsMixin):
    """A person; the email address is the identity, unique case-insensitively."""

    email = models.EmailField("email address", max_length=254, unique=True)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    # Part of every session's auth hash: raising it ends all the user's sessions on every worker.
    session_epoch = models.PositiveIntegerField(default=0, editable=False)
    # None until the person proves the address: by the sign-up link, an invitation link or an
    # SSO login. An unverified account signs in with no password and joins no organization.
    email_verified_at = models.DateTimeField(null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_unique_ci"),
        ]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    def get_session_auth_hash(self) -> str:
        return salted_hmac(
            "sso.User.get_session_auth_hash",
            f"{self.password}:{self.session_epoch}",
            algorithm="sha256",
        ).hexdigest()

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name


class Organization(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    enforce_sso = models.BooleanField(default=False)
    # An SSO session ends this long after sign-in at the latest (None: no limit of ours).
    max_session_minutes = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"


class SignInMethod(models.TextChoices):
    SSO = "sso", "SSO"
    PASSWORD = "password", "Password"


class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_just_in_time = models.BooleanField(default=False)
    break_glass = models.BooleanField(
        default=False, help_text="An owner who keeps password sign-in while SSO is enforced."
    )
    last_sign_in_at = models.DateTimeField(null=True, blank=True)
    last_sign_in_method = models.CharField(max_length=10, choices=SignInMethod.choices, blank=True)
    last_sign_in_profile = models.ForeignKey(
        "SSOProfile", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} ({self.role})"

    @property
    def can_administer(self) -> bool:
        return self.role in (Role.OWNER, Role.ADMIN)


class IdPKind(models.TextChoices):
    OKTA = "okta", "Okta"
    ENTRA_ID = "entra_id", "Microsoft Entra ID"
    GOOGLE = "google", "Google Workspace"
    ONELOGIN = "onelogin", "OneLogin"
    PINGFEDERATE = "pingfederate", "PingFederate"
    ADFS = "adfs", "ADFS"
    CITRIX = "citrix", "Citrix NetScaler"
    JUMPCLOUD = "jumpcloud", "JumpCloud"
    AUTH0 = "auth0", "Auth0"
    KEYCLOAK = "keycloak", "Keycloak"
    SHIBBOLETH = "shibboleth", "Shibboleth"
    SIMPLESAMLPHP = "simplesamlphp", "SimpleSAMLphp"
    OTHER = "other", "Other/Generic SAML 2.0"


class SignaturePolicy(models.TextChoices):
    """Which of the Response and the Assertion must carry a valid signature; never neither."""

    BOTH = "both", "Response and Assertion signed"
    ASSERTION = "assertion", "Assertion signed (the Response may be)"
    RESPONSE = "response", "Response signed, holding its one Assertion (the Assertion may be)"


class ProfileStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    CONFIGURED = "configured", "Configured"
    TESTED = "tested", "Tested"
    ACTIVE = "active", "Active"
    DISABLED = "disabled", "Disabled"


class TestOutcome(models.TextChoices):
    SUCCESS = "success", "Success"
    FAILURE = "failure", "Failure"


class SSOProfile(models.Model):
    """One IdP connection of an organization, addressed publicly by its sid."""

    sid = models.CharField(max_length=34, unique=True, default=new_profile_sid, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="sso_profiles"
    )
    name = models.CharField("friendly name", max_length=100)
    idp_kind = models.CharField(
        "identity provider", max_length=20, choices=IdPKind.choices, default=IdPKind.OTHER
    )
    idp_issuer = models.CharField("issuer ID/URL", max_length=1024, blank=True)
    idp_sso_url = models.URLField("single sign-on URL", max_length=1024, blank=True)
    # The IdP's SingleLogoutService (HTTP-Redirect); '' when it publishes none: signing out
    # then ends our session only.
    idp_slo_url = models.URLField("single logout URL", max_length=1024, blank=True)
    default_redirect_url = models.URLField(max_length=1024, blank=True)
    allow_idp_initiated = models.BooleanField("allow IdP-initiated login", default=False)
    jit_provisioning = models.BooleanField("create users on first login", default=True)
    jit_role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    signature_policy = models.CharField(
        max_length=10, choices=SignaturePolicy.choices, default=SignaturePolicy.BOTH
    )
    # Where a login's claims come from: "" is the NameID (for the email, when it is of format
    # emailAddress) or the preset's usual claim names (for the others).
    email_attribute = models.CharField(max_length=256, blank=True)
    first_name_attribute = models.CharField(max_length=256, blank=True)
    last_name_attribute = models.CharField(max_length=256, blank=True)
    groups_attribute = models.CharField(max_length=256, blank=True)
    status = models.CharField(
        max_length=12, choices=ProfileStatus.choices, default=ProfileStatus.DRAFT
    )
    # Session limits: a session ends this long after sign-in at the latest; a sign-in whose
    # AuthnInstant is older than the authentication age is refused (and ForceAuthn asked).
    max_session_minutes = models.PositiveIntegerField(null=True, blank=True)
    max_authn_age_minutes = models.PositiveIntegerField(null=True, blank=True)
    sp_certificate_pem = models.TextField(editable=False)
    sp_private_key_encrypted = models.TextField(editable=False)
    # An SP key rollover under way: the next key pair, published beside the current one until
    # sp_rollover_ends_at, when it becomes the current one (sso/profiles/sp_keys.py).
    sp_next_certificate_pem = models.TextField(blank=True, editable=False)
    sp_next_private_key_encrypted = models.TextField(blank=True, editable=False)
    sp_rollover_ends_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_test_outcome = models.CharField(max_length=10, choices=TestOutcome.choices, blank=True)
    last_test_code = models.CharField(max_length=40, blank=True)
    last_tested_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # IdP metadata by URL (sso/profiles/metadata_refresh.py): the last good document's values
    # are the profile's own fields; an Issuer or SSO URL it changes waits in metadata_pending.
    metadata_url = models.URLField("IdP metadata URL", max_length=1024, blank=True)
    metadata_fetched_at = models.DateTimeField(null=True, blank=True)
    metadata_digest = models.CharField(max_length=64, blank=True)
    metadata_error = models.CharField(max_length=500, blank=True)
    metadata_error_at = models.DateTimeField(null=True, blank=True)
    metadata_refresh_at = models.DateTimeField(null=True, blank=True, db_index=True)
    metadata_pending = models.JSONField(default=dict, blank=True)
    trust_revision = models.CharField(
        max_length=32,
        default=new_trust_revision,
        editable=False,
        help_text="Drawn anew by the database whenever a certificate or trusted domain of the "
        "profile is added, changed or removed (migration 0005): the ACS caches them by it.",
    )

    class Meta:
        ordering = ["organization", "name"]
        verbose_name = "SSO profile"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(sid__regex=r"^JI[0-9a-f]{32}$"), name="profile_sid_format"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.sid})"

    @property
    def is_active(self) -> bool:
        return self.status == ProfileStatus.ACTIVE

    @property
    def is_configured(self) -> bool:
        return bool(self.idp_issuer and self.idp_sso_url)

    @property
    def newest_certificate(self) -> IdPCertificate | None:
        """The certificate valid longest: while it is valid, the IdP connection keeps working."""
        return max(self.certificates.all(), key=lambda c: c.not_after, default=None)


class IdPCertificate(models.Model):
    """An IdP signing certificate; a profile trusts up to two so a rotation has no downtime."""

    MAX_PER_PROFILE = 2

    profile = models.ForeignKey(SSOProfile, on_delete=models.CASCADE, related_name="certificates")
    pem = models.TextField()
    fingerprint_sha256 = models.CharField(max_length=95)
    subject = models.CharField(max_length=1024)
    issuer = models.CharField(max_length=1024)
    not_before = models.DateTimeField()
    not_after = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-not_after"]
        verbose_name = "IdP certificate"
        constraints = [
            models.UniqueConstraint(
                fields=["profile", "fingerprint_sha256"], name="certificate_unique_per_profile"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} ({self.fingerprint_sha256[:23]}…)"

    EXPIRY_WARNING = dt.timedelta(days=30)

    @property
    def is_expired(self) -> bool:
        return self.not_after <= timezone.now()

    @property
    def expiry_state(self) -> str:
        """'expired', 'expiring' (within 30 days) or 'valid', for the expiry badges."""
        if self.is_expired:
            return "expired"
        if self.not_after <= timezone.now() + self.EXPIRY_WARNING:
            return "expiring"
        return "valid"


class VerificationState(models.TextChoices):
    UNVERIFIED = "unverified", "Unverified"
    VERIFIED = "verified", "Verified"
    FAILED = "failed", "Failed"


class TrustedDomain(models.Model):
    """An email domain (exact, or `*.` wildcard) whose users a profile may sign in."""

    profile = models.ForeignKey(SSOProfile, on_delete=models.CASCADE, related_name="domains")
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="trusted_domains"
    )
    domain = models.CharField(
        max_length=255, help_text="Lower-case IDNA, e.g. acme.com or *.acme.com"
    )
    verification_state = models.CharField(
        max_length=12, choices=VerificationState.choices, default=VerificationState.UNVERIFIED
    )
    verification_token = models.CharField(max_length=64, default=new_verification_token)
    verified_at = models.DateTimeField(null=True, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    check_detail = models.CharField(max_length=500, blank=True)
    proof_missing_since = models.DateTimeField(
        null=True, blank=True, help_text="When a verified domain's proof was first found gone."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["domain"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "domain"], name="domain_unique_per_organization"
            ),
        ]

    def __str__(self) -> str:
        return self.domain

    @property
    def is_wildcard(self) -> bool:
        return self.domain.startswith("*.")

    @property
    def base_domain(self) -> str:
        return self.domain.removeprefix("*.")

    @property
    def is_verified(self) -> bool:
        return self.verification_state == VerificationState.VERIFIED

    @property
    def grace_deadline(self) -> dt.datetime | None:
        """When a verified domain whose proof has gone stops working, if its proof has gone."""
        if self.proof_missing_since is None:
            return None
        return self.proof_missing_since + dt.timedelta(days=settings.SSO_DOMAIN_GRACE_DAYS)

    def matches(self, email_domain: str) -> bool:
        if self.is_wildcard:
            return email_domain.endswith("." + self.base_domain)
        return email_domain == self.domain


class LoginOutcome(models.TextChoices):
    SUCCESS = "success", "Success"
    FAILURE = "failure", "Failure"


class SubjectLink(models.Model):
    """The IdP's stable subject (a persistent or unspecified NameID) of a profile, bound to the
    account it signed in first: the account stays the same when the person's email changes at
    the IdP, and a new person given an old email does not inherit it. Transient NameIDs are
    never linked."""

    profile = models.ForeignKey(SSOProfile, on_delete=models.CASCADE, related_name="subjects")
    name_id_format = models.CharField(max_length=256)
    name_id = models.CharField(max_length=512)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sso_subjects"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["profile", "name_id_format", "name_id"], name="subject_link_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name_id} ({self.profile_id}) -> {self.user_id}"


class UsedAssertion(models.Model):
    """An assertion that signed someone in, refused until it expires: the database keeps it, so
    a cache that loses data (a restart, an eviction) never lets it sign anyone in again."""

    digest = models.CharField(max_length=64, unique=True)  # sha256 of issuer and assertion id
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.digest[:12]} until {self.expires_at:%Y-%m-%d %H:%M}"


def new_support_reference() -> str:
    """An opaque, unguessable reference a person can read out to support: 80 random bits."""
    letters = base64.b32encode(secrets.token_bytes(10)).decode()
    return "-".join(letters[i : i + 4] for i in range(0, 16, 4))


class LoginEvent(models.Model):
    """One SSO attempt, success or failure, with its reason code."""

    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="login_events"
    )
    profile = models.ForeignKey(
        SSOProfile, null=True, blank=True, on_delete=models.SET_NULL, related_name="login_events"
    )
    profile_sid = models.CharField(max_length=34, blank=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    outcome = models.CharField(max_length=10, choices=LoginOutcome.choices)
    reason = models.CharField(max_length=40)
    is_test = models.BooleanField(default=False)
    email = models.CharField(max_length=254, blank=True)
    idp_issuer = models.CharField(max_length=1024, blank=True)
    assertion_id = models.CharField(max_length=256, blank=True)
    in_response_to = models.CharField(max_length=256, blank=True)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    # What the person who was refused sees and quotes to support; never the sequential id.
    reference = models.CharField(max_length=19, default=new_support_reference, db_index=True)
    # Further refusals from the same client and profile folded into this one (a flood).
    repeats = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        # One for each query a page makes (bench/data_growth.py times them at a million rows).
        indexes = [
            # A profile's login events page, newest first.
            models.Index(fields=["profile", "-created_at"], name="loginevent_profile_recent"),
            # The wizard's last connection test.
            models.Index(
                fields=["profile", "-created_at"],
                condition=models.Q(is_test=True),
                name="loginevent_profile_tests",
            ),
            # When a certificate last verified a sign-in (certificate_last_used).
            models.Index(
                "profile",
                KeyTransform("verified_with", "detail"),
                models.F("created_at").desc(),
                condition=models.Q(outcome="success", is_test=False),
                name="loginevent_certificate_use",
            ),
            # The Django admin's reason filter, newest first, even for a reason seldom seen.
            models.Index(fields=["reason", "-created_at"], name="loginevent_reason_recent"),
            # The Django admin's exact (case-insensitive) search.
            models.Index(Upper("email"), name="loginevent_email_iexact"),
            models.Index(Upper("profile_sid"), name="loginevent_sid_iexact"),
            models.Index(Upper("assertion_id"), name="loginevent_assertion_iexact"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.outcome} {self.reason}"


class AuditAction(models.TextChoices):
    CREATED = "created", "Created"
    CHANGED = "changed", "Changed"
    TESTED = "tested", "Tested"
    ACTIVATED = "activated", "Activated"
    ACTIVATED_WITHOUT_TEST = "activated_without_test", "Activated without a test"
    DISABLED = "disabled", "Disabled"
    DELETED = "deleted", "Deleted"
    DOMAIN_VERIFIED = "domain_verified", "Domain verified"
    SSO_ENFORCEMENT_CHANGED = "sso_enforcement_changed", "SSO enforcement changed"
    MEMBER_INVITED = "member_invited", "Person invited"
    INVITATION_RESENT = "invitation_resent", "Invitation sent again"
    INVITATION_REVOKED = "invitation_revoked", "Invitation revoked"
    INVITATION_ACCEPTED = "invitation_accepted", "Invitation accepted"
    MEMBER_ROLE_CHANGED = "member_role_changed", "Role changed"
    MEMBER_REMOVED = "member_removed", "Person removed"
    MEMBER_DEACTIVATED = "member_deactivated", "Person deactivated"
    BREAK_GLASS_LOGIN = "break_glass_login", "Break-glass password sign-in"
    PASSWORD_DISABLED_BY_SSO = "password_disabled_by_sso", "Password turned off by SSO sign-in"
    STAFF_CHANGE = "staff_change", "Changed by support staff in the Django admin"
    METADATA_REFRESHED = "metadata_refreshed", "IdP metadata refreshed"
    METADATA_REFRESH_FAILED = "metadata_refresh_failed", "IdP metadata refresh failed"
    METADATA_CHANGE_HELD = "metadata_change_held", "IdP metadata change held for approval"
    METADATA_CHANGE_APPROVED = "metadata_change_approved", "IdP metadata change approved"
    METADATA_CHANGE_DISMISSED = "metadata_change_dismissed", "IdP metadata change dismissed"
    SESSION_LIMITS_CHANGED = "session_limits_changed", "Session limits changed"
    SP_KEY_ROLLOVER_STARTED = "sp_key_rollover_started", "SP key rollover started"
    SP_KEY_ROLLOVER_FINISHED = "sp_key_rollover_finished", "SP key rollover finished"
    IDP_LOGOUT = "idp_logout", "Signed out by the IdP"
    IDP_LOGOUT_REFUSED = "idp_logout_refused", "IdP logout request refused"


class AuditEvent(models.Model):
    """Who changed what on a profile, and when. Never holds secret values.

    Only a staff change to something of no organization (a user without memberships, a deleted
    organization) has no organization.
    """

    organization = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="audit_events",
    )
    profile = models.ForeignKey(
        SSOProfile, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    profile_sid = models.CharField(max_length=34, blank=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=30, choices=AuditAction.choices)
    changes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="auditevent_org_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.action} {self.profile_sid}"


class EmailVerification(models.Model):
    """A single-use, expiring link that proves a new account's email address.

    Only a digest of the token is stored; the link itself is emailed.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_verifications"
    )
    # The address the link proves: a link sent before an email change proves nothing.
    email = models.EmailField(max_length=254)
    token_digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.email} until {self.expires_at:%Y-%m-%d %H:%M}"


class Invitation(models.Model):
    """A single-use, expiring link that lets a person join an organization with a role.

    Only a digest of the token is stored; the link itself is shown once and emailed.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField(max_length=254)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    token_digest = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} to {self.organization} ({self.role})"

    @property
    def is_usable(self) -> bool:
        return self.accepted_at is None and self.expires_at > timezone.now()


class JobRun(models.Model):
    """One row per periodic job: its lease (so one worker runs it at a time, and a dead worker's
    lease expires) and what support needs to see (last start, success and error)."""

    name = models.CharField(max_length=64, unique=True)
    lease_owner = models.CharField(max_length=128, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_succeeded_at = models.DateTimeField(null=True, blank=True)
    last_failed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_result = models.JSONField(default=dict, blank=True)
    runs = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(
        default=0, help_text="Times a worker found the lease held by another and did not run."
    )

    class Meta:
        ordering = ["name"]
        verbose_name = "job"

    def __str__(self) -> str:
        return self.name


class ExpiryItem(models.TextChoices):
    IDP_CERTIFICATE = "idp", "IdP signing certificate"
    SP_CERTIFICATE = "sp", "SP certificate"


class ExpiryNotice(models.Model):
    """An expiry email sent (or being sent): the unique row is what makes each notice go once,
    whichever worker or run gets there first."""

    profile = models.ForeignKey(SSOProfile, on_delete=models.CASCADE, related_name="+")
    item = models.CharField(max_length=3, choices=ExpiryItem.choices)
    fingerprint_sha256 = models.CharField(max_length=95)
    threshold_days = models.PositiveSmallIntegerField()
    not_after = models.DateTimeField()
    recipients = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["profile", "item", "fingerprint_sha256", "threshold_days"],
                name="expiry_notice_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_item_display()} of {self.profile_id}: {self.threshold_days} days"
