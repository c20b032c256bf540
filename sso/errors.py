"""Every refusal a service raises: a stable code and its sentence, built by `refusal()`.

Login refusals are not here: they are `sso.reasons.Reason`s. Single-field format errors
live with their checks (`sso.validators`, `sso.saml.metadata`).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

MESSAGES: dict[str, str] = {
    # SSO profiles and their certificates
    "issuer_taken": (
        "Another organization already uses this IdP Issuer. One IdP application can sign "
        "users into one organization only: create a separate application in your IdP."
    ),
    "certificate_limit": (
        "A profile holds at most two certificates (the current one and its replacement). "
        "Remove the older one first."
    ),
    "certificate_last": "A configured profile needs a signing certificate; add the new one first.",
    "certificate_in_use": (
        "This certificate verified a sign-in on %(last_used)s: your IdP may still sign with it, "
        "and once it is removed those sign-ins are refused. Check which certificate your IdP "
        "signs with first."
    ),
    "not_tested": "Test the connection successfully before turning the profile on.",
    "not_configured": "Enter the Issuer, single sign-on URL and signing certificate first.",
    "profile_admins_only": "Only an owner or admin of the profile's organization can change it.",
    # IdP metadata by URL (the fetch, then the refresh)
    "metadata_url_not_https": (
        "Give the metadata URL with https://, without a user name or password in it."
    ),
    "metadata_url_private": (
        "This URL's host has no public address: the metadata must be reachable from the "
        "internet."
    ),
    "metadata_url_unreachable": (
        "The metadata URL could not be read: no connection, a TLS certificate that is not "
        "trusted, or no complete answer in time."
    ),
    "metadata_url_redirect": (
        "The metadata URL redirects to another host, which is not followed: give the final URL."
    ),
    "metadata_url_status": "The metadata URL answered HTTP %(status)s instead of the metadata.",
    "metadata_expired": "The metadata's validUntil has passed: your IdP publishes stale metadata.",
    "metadata_certificates_invalid": (
        "None of the metadata's signing certificates is valid now (expired or unreadable)."
    ),
    "metadata_no_room": (
        "The metadata lists a new signing certificate, but the profile already trusts two that "
        "are still in use; remove one on this page to let the new one in."
    ),
    "metadata_nothing_pending": "There is no change from the IdP's metadata waiting.",
    "sp_key_rollover_under_way": (
        "A rollover of our SP key is already under way: finish it before starting another."
    ),
    "sp_key_no_rollover": "No rollover of our SP key is under way.",
    "sp_key_overlap_range": "The overlap lasts from 1 to 365 days.",
    # Trusted domains
    "domain_taken": "Domain %(domain)s is already used by another organization.",
    "domain_on_other_profile": (
        "Domain %(domain)s is already trusted by another SSO profile of this organization; "
        "remove it from that profile first."
    ),
    "domain_verified_elsewhere": (
        "Another organization has already verified this domain; it cannot be verified twice."
    ),
    # Organizations, people and invitations
    "enforce_without_active": (
        "Turn on an SSO profile first: enforcing SSO without an active profile would lock "
        "everybody out."
    ),
    "enforce_untested": (
        "No active SSO profile has passed a connection test: if its IdP connection is broken, "
        "nobody of your trusted domains can sign in once SSO is enforced."
    ),
    "enforce_without_break_glass": (
        "No owner keeps password sign-in: if your IdP fails, nobody, owners included, can sign "
        "in to fix it."
    ),
    "last_owner": "An organization needs an owner: make someone else owner first.",
    "already_member": "This person is already a member of your organization.",
    "other_organizations": (
        "This person also belongs to other organizations, so their account cannot be "
        "deactivated from here. Remove them from your organization instead."
    ),
    "invitation_email_mismatch": "This invitation was sent to another email address.",
    "invitation_closed": "This invitation was already accepted or revoked.",
    "invitation_used": "This invitation was already used or has expired.",
    "invitation_sign_in_first": "Sign in with the invited email address to accept this invitation.",
    "owner_role_owners_only": "Only an owner can make someone owner or change an owner's role.",
}


def refusal(code: str, /, *, field: str | None = None, **params: object) -> ValidationError:
    """The refusal `code` with its sentence, on `field` when the form has one; `params` fill
    the sentence's %(name)s placeholders and must never carry secrets."""
    error = ValidationError(MESSAGES[code], code=code, params=params or None)
    return ValidationError({field: error}) if field else error


def refusals(*errors: ValidationError, field: str) -> ValidationError:
    """Several refusals at once on one form field, each keeping its code."""
    return ValidationError({field: list(errors)})
