"""Why a login (SSO or password) was refused: stable codes, admin sentences, safe user messages."""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from django.db import models

if TYPE_CHECKING:
    from sso.models import LoginEvent, SSOProfile


class Reason(models.TextChoices):
    OK = "ok", "Signed in."
    RESPONSE_UNSIGNED = "response_unsigned", "The SAML Response is not signed."
    ASSERTION_UNSIGNED = "assertion_unsigned", "The SAML Assertion is not signed."
    SIGNATURE_INVALID = (
        "signature_invalid",
        "A signature does not verify with the configured IdP certificates.",
    )
    ENCRYPTED_ASSERTION_UNSUPPORTED = (
        "encrypted_assertion_unsupported",
        "The assertion is encrypted; encrypted assertions are not supported.",
    )
    WEAK_SIGNATURE_ALGORITHM = (
        "weak_signature_algorithm",
        "The response is signed with SHA-1, which is refused.",
    )
    UNSUPPORTED_SIGNATURE_ALGORITHM = (
        "unsupported_signature_algorithm",
        "The response is signed with an algorithm this product does not verify (such as RSA-PSS).",
    )
    ISSUER_MISMATCH = "issuer_mismatch", "The Issuer is not the profile's IdP Issuer."
    AUDIENCE_MISMATCH = "audience_mismatch", "The Audience is not this profile's SP Entity ID."
    DESTINATION_MISMATCH = "destination_mismatch", "The Destination is not this profile's ACS URL."
    RECIPIENT_MISMATCH = "recipient_mismatch", "The Recipient is not this profile's ACS URL."
    NOT_YET_VALID = "not_yet_valid", "The assertion is not valid yet."
    EXPIRED = "expired", "The assertion has expired."
    UNKNOWN_IN_RESPONSE_TO = (
        "unknown_in_response_to",
        "The response answers a request this browser did not make, or one already used.",
    )
    UNSOLICITED_NOT_ALLOWED = (
        "unsolicited_not_allowed",
        "IdP-initiated login is not allowed for this profile.",
    )
    REPLAYED_ASSERTION = "replayed_assertion", "This assertion was already used."
    MISSING_NAMEID = "missing_nameid", "The assertion has no NameID."
    NAMEID_FORMAT = "nameid_format", "The NameID is not an email address of format emailAddress."
    EMAIL_ATTRIBUTE_MISSING = (
        "email_attribute_missing",
        "The attribute this profile takes the email from is not in the assertion.",
    )
    EMAIL_INVALID = (
        "email_invalid",
        "The email the IdP sent is not an address an account can be kept under.",
    )
    SUBJECT_MISMATCH = (
        "subject_mismatch",
        "The email belongs to an account linked to another person (another NameID) of this IdP.",
    )
    DOMAIN_NOT_TRUSTED = (
        "domain_not_trusted",
        "The email's domain is not a trusted domain of this profile.",
    )
    DOMAIN_UNVERIFIED = (
        "domain_unverified",
        "The email's domain is not verified, so no account is created or linked for it.",
    )
    IDP_STATUS_ERROR = "idp_status_error", "The IdP answered with an error status."
    MISSING_ISSUER = "missing_issuer", "The response or its assertion does not name its Issuer."
    MISSING_AUTHN_STATEMENT = (
        "missing_authn_statement",
        "The assertion has no AuthnStatement: it does not say that the user signed in.",
    )
    AUTHN_TOO_OLD = (
        "authn_too_old",
        "The person authenticated at the IdP longer ago than the profile's maximum "
        "authentication age allows.",
    )
    BINDING_NOT_SUPPORTED = (
        "binding_not_supported",
        "The response came through a binding the ACS does not accept (only HTTP-POST).",
    )
    MALFORMED_RESPONSE = "malformed_response", "The response is not a well-formed SAML Response."
    PROFILE_INACTIVE = "profile_inactive", "The SSO profile is not active."
    USER_NOT_PROVISIONED = (
        "user_not_provisioned",
        "No account exists for this email and the profile does not create users.",
    )
    USER_INACTIVE = "user_inactive", "The account is deactivated."
    INTERNAL_ERROR = "internal_error", "An unexpected error occurred while checking the response."
    PASSWORD_INVALID = "password_invalid", "The email or password is incorrect."
    PASSWORD_THROTTLED = "password_throttled", "Too many failed password attempts."
    EMAIL_UNVERIFIED = (
        "email_unverified",
        "The account's email address is not confirmed yet, so its password does not sign in.",
    )
    SSO_REQUIRED = (
        "sso_required",
        "The organization enforces single sign-on and the account is not a break-glass owner.",
    )
    LOGOUT_SIGNATURE_MISSING = (
        "logout_signature_missing",
        "The IdP's logout message (LogoutRequest or LogoutResponse) is not signed.",
    )
    LOGOUT_SIGNATURE_INVALID = (
        "logout_signature_invalid",
        "The IdP's logout message's signature does not verify with the configured IdP "
        "certificates, or uses an algorithm other than RSA-SHA256.",
    )
    LOGOUT_MALFORMED = (
        "logout_malformed",
        "The IdP's logout message is not a valid SAML LogoutRequest or LogoutResponse for this "
        "profile.",
    )
    LOGOUT_UNKNOWN_RESPONSE = (
        "logout_unknown_response",
        "The LogoutResponse answers no logout request this browser sent, or one already answered.",
    )
    SERVICE_UNAVAILABLE = (
        "infrastructure_unavailable",
        "The shared cache or the database did not answer while checking the response.",
    )


# What the person at the browser is told: enough to act on, nothing an attacker can use.
USER_MESSAGES = {
    Reason.PROFILE_INACTIVE: "Single sign-on is not turned on for your organization.",
    Reason.USER_NOT_PROVISIONED: (
        "Your organization has not given you an account yet. Ask your administrator for access."
    ),
    Reason.USER_INACTIVE: "Your account is deactivated. Ask your administrator for access.",
    Reason.DOMAIN_NOT_TRUSTED: (
        "Your email address is not in a domain your organization allows to sign in here."
    ),
    Reason.DOMAIN_UNVERIFIED: (
        "Your organization has not finished setting up single sign-on for your email domain. "
        "Ask your administrator for access."
    ),
    Reason.SUBJECT_MISMATCH: (
        "Your email address is already used by another person's account. Ask your "
        "administrator for access."
    ),
    Reason.EXPIRED: "The sign-in took too long. Please start again.",
    Reason.NOT_YET_VALID: "The sign-in could not be completed. Please start again.",
    Reason.UNKNOWN_IN_RESPONSE_TO: (
        "This sign-in was already used or has expired. Please start again."
    ),
    Reason.REPLAYED_ASSERTION: "This sign-in was already used. Please start again.",
    Reason.AUTHN_TOO_OLD: (
        "Your organization asks you to sign in at your identity provider again. Please start "
        "again."
    ),
    Reason.IDP_STATUS_ERROR: "Your identity provider did not sign you in.",
    Reason.PASSWORD_INVALID: "Your email or password is incorrect.",
    Reason.PASSWORD_THROTTLED: (
        "Too many failed attempts. Wait 15 minutes and try again, or sign in with single "
        "sign-on if your organization uses it."
    ),
    Reason.SSO_REQUIRED: "Your organization requires single sign-on. Continue with SSO to sign in.",
    Reason.EMAIL_UNVERIFIED: (
        "Confirm your email address first: open the link we emailed you when you signed up."
    ),
    Reason.SERVICE_UNAVAILABLE: (
        "Sign-in is temporarily unavailable on our side. Please try again in a minute."
    ),
}
# A refused logout message: what the person is told, by which side sent it.
LOGOUT_REQUEST_REFUSED_MESSAGE = (
    "Your identity provider asked to sign you out, but its request could not be verified, so "
    "nothing was changed here. To sign out, use Sign out on this site."
)
LOGOUT_RESPONSE_REFUSED_MESSAGE = (
    "You are signed out here. Your identity provider did not confirm that it signed you out "
    "too: close your browser to end your session there."
)
DEFAULT_USER_MESSAGE = (
    "We could not sign you in with single sign-on. Your administrator can look up what went "
    "wrong with the support reference below."
)

_STATUS = {
    Reason.MALFORMED_RESPONSE: HTTPStatus.BAD_REQUEST,
    Reason.BINDING_NOT_SUPPORTED: HTTPStatus.BAD_REQUEST,
    Reason.PASSWORD_INVALID: HTTPStatus.BAD_REQUEST,
    Reason.PASSWORD_THROTTLED: HTTPStatus.TOO_MANY_REQUESTS,
    Reason.EMAIL_UNVERIFIED: HTTPStatus.BAD_REQUEST,
    Reason.SERVICE_UNAVAILABLE: HTTPStatus.SERVICE_UNAVAILABLE,
}


class LoginRefused(Exception):
    """A login that must not go through; `detail` is for the login event, never the user.

    `claims`: what the response claimed (email, issuer, assertion id, InResponseTo), filled in
    once, by the SAML layer. `event`: the login event that records the refusal, once recorded.
    `profile`: for a password refusal under enforced SSO, the profile to sign in with instead.
    """

    def __init__(self, reason: Reason, **detail: Any) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.detail = detail
        self.claims: dict[str, str] = {}
        self.event: LoginEvent | None = None
        self.profile: SSOProfile | None = None

    @property
    def status(self) -> HTTPStatus:
        return _STATUS.get(self.reason, HTTPStatus.FORBIDDEN)

    @property
    def user_message(self) -> str:
        return USER_MESSAGES.get(self.reason, DEFAULT_USER_MESSAGE)
