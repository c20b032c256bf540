"""What an admin should change in the IdP when a login or a connection test fails.

One fix per reason code, with the values involved and the field names of the admin's IdP.
"""

from __future__ import annotations

from typing import Any

from sso.events import TEST_RESPONSE_XML
from sso.models import IdPKind, LoginEvent, SignaturePolicy, SSOProfile
from sso.profiles.presets import Preset, preset_for
from sso.reasons import Reason
from sso.saml.config import sp_acs_url, sp_entity_id, sp_slo_url

FIXES: dict[str, str] = {
    Reason.OK: "",
    Reason.RESPONSE_UNSIGNED: (
        "The SAML Response is not signed (at most the assertion is), and this profile's "
        "signature policy ({signature_policy}) requires it. {response_signing_fix}"
    ),
    Reason.ASSERTION_UNSIGNED: (
        "The Response is signed but the Assertion is not, and this profile's signature policy "
        "({signature_policy}) requires it. {assertion_signing_fix}"
    ),
    Reason.SIGNATURE_INVALID: "{signature_fix}",
    Reason.ENCRYPTED_ASSERTION_UNSUPPORTED: (
        "The assertion is encrypted, and encrypted assertions are not supported. Turn "
        "encryption off in your IdP ({encryption_field})."
    ),
    Reason.WEAK_SIGNATURE_ALGORITHM: (
        "Your IdP signs with SHA-1 ({algorithm}), which is refused. Set the signature and "
        "digest algorithms to RSA-SHA256 / SHA-256 in your IdP."
    ),
    Reason.UNSUPPORTED_SIGNATURE_ALGORITHM: "{algorithm_fix}",
    Reason.ISSUER_MISMATCH: (
        "The IdP sent the Issuer {received}, but this profile expects {expected}. If the IdP "
        "is right, paste its Issuer into Issuer ID/URL in step 4; otherwise check that the "
        "response comes from the application you set up for this profile."
    ),
    Reason.AUDIENCE_MISMATCH: (
        "The assertion's audience was {received}. In your IdP, set {audience_field} to {expected}."
    ),
    Reason.DESTINATION_MISMATCH: (
        "The Response's Destination was {received}. In your IdP, set {acs_field} to {expected}."
    ),
    Reason.RECIPIENT_MISMATCH: (
        "The assertion's Recipient was {received}. In your IdP, set {recipient_field} to "
        "{expected}."
    ),
    Reason.NOT_YET_VALID: (
        "The assertion is valid only from {not_before}: the IdP's clock is about "
        "{clock_difference_seconds} seconds ahead of ours. Correct the IdP server's time (NTP). "
        "{time_note}"
    ),
    Reason.EXPIRED: (
        "The assertion expired at {not_on_or_after}, {seconds_late} seconds before it arrived. "
        "Check the IdP server's clock (NTP); if it is right, run the test again without "
        "pausing at the IdP's login page."
    ),
    Reason.UNKNOWN_IN_RESPONSE_TO: (
        "The response does not answer the request this browser sent ({problem}). Start the "
        "sign-in from this site (the Test connection button or the Log In page) in the same "
        "browser, not from a bookmark of the IdP's login page."
    ),
    Reason.UNSOLICITED_NOT_ALLOWED: (
        "The IdP started this login on its own (IdP-initiated, for example from its app "
        "dashboard). Start from this site's Log In page, or allow IdP-initiated login in "
        "step 4 under Advanced."
    ),
    Reason.REPLAYED_ASSERTION: (
        "This assertion was already used once and cannot be used again. Start a new sign-in."
    ),
    Reason.MISSING_NAMEID: (
        "The assertion has no NameID. In your IdP, set {name_id_field}. {name_id_note}"
    ),
    Reason.NAMEID_FORMAT: (
        "The NameID format was {received}, and none of the usual email attributes arrived "
        "(received: {received_attributes}). In your IdP, set {name_id_field}; or map the email "
        "from an attribute (for example Keycloak's email) under Attribute mapping in step 4. "
        "{name_id_note}"
    ),
    Reason.EMAIL_ATTRIBUTE_MISSING: (
        "This profile takes the email from the attribute {attribute}, which did not arrive. "
        "The attributes received were: {received_attributes}. Add {attribute} to the "
        "attributes your IdP sends, or choose one of those under Attribute mapping in step 4."
    ),
    Reason.EMAIL_INVALID: (
        "The email the IdP sent ({received}, from {email_from}) is not a plain email address: "
        "quoted or commented local parts, spaces, and look-alike (fullwidth or compatibility) "
        "characters are refused so that no address can pass for another. Send the person's "
        "plain address from your IdP."
    ),
    Reason.SUBJECT_MISMATCH: (
        "{email} belongs to an account that signed in as another person of your IdP (another "
        "NameID); the new NameID {name_id} does not inherit it. Give the new person another "
        "email address at your IdP; if it is the same person and only their identifier at the "
        "IdP changed, contact support with reference {event_id} to move the link."
    ),
    Reason.DOMAIN_NOT_TRUSTED: (
        "{email_domain} is not a trusted domain of this profile. Add it under Trusted "
        "domains in step 4, or sign in with an account of a trusted domain."
    ),
    Reason.DOMAIN_UNVERIFIED: (
        "{email} has no account here yet, and its domain is not verified, so none is created "
        "or linked. Verify the domain on the Domains page (a DNS TXT record or an HTTPS file), "
        "or invite the person."
    ),
    Reason.IDP_STATUS_ERROR: "{status_fix}",
    Reason.MISSING_ISSUER: (
        "The {element} has no Issuer. In your IdP, set its Issuer / Entity ID (it must be "
        "{idp_issuer}); an IdP that omits it from the Response must not sign the Response."
    ),
    Reason.MISSING_AUTHN_STATEMENT: (
        "The assertion has no AuthnStatement, so it does not say that the user signed in (an "
        "attribute-only assertion). Use the IdP's SAML 2.0 web sign-in (SSO) application, "
        "not an attribute query or a custom assertion without an authentication statement."
    ),
    Reason.AUTHN_TOO_OLD: (
        "The IdP says the person authenticated at {authn_instant}, {age_minutes} minutes "
        "before this sign-in, and this profile accepts at most {max_minutes} minutes. We asked "
        "for a fresh sign-in (ForceAuthn) when one was due; an IdP that answers it from its "
        "existing session ignores ForceAuthn: make the IdP application honour it (re-"
        "authentication), or raise the profile's maximum authentication age."
    ),
    Reason.BINDING_NOT_SUPPORTED: (
        "The IdP sent its answer with the binding {binding} (in the URL, by GET). This ACS "
        "accepts only HTTP-POST: in your IdP, set the Assertion Consumer Service binding to "
        "HTTP-POST for {acs_url}."
    ),
    Reason.MALFORMED_RESPONSE: (
        "What arrived is not a well-formed SAML Response ({problem}). Check that the IdP "
        "posts its SAML Response to {acs_url}, with one signed assertion."
    ),
    Reason.PROFILE_INACTIVE: (
        "This profile is not active. Run Test connection and press Activate."
    ),
    Reason.USER_NOT_PROVISIONED: (
        "No account exists for {email} and 'Create users on first login' is off. Invite the "
        "person, or turn it on in step 4 under Advanced."
    ),
    Reason.USER_INACTIVE: "The account {email} is deactivated; reactivate it to let them in.",
    Reason.INTERNAL_ERROR: (
        "Something unexpected failed on our side. Contact support with reference {event_id}."
    ),
    Reason.PASSWORD_INVALID: (
        "{email} typed a wrong password. If they forgot it, they can reset it from the sign-in "
        "page."
    ),
    Reason.PASSWORD_THROTTLED: (
        "Password sign-in for {email} is paused for 15 minutes after repeated failures."
    ),
    Reason.EMAIL_UNVERIFIED: (
        "{email} has not confirmed the email address of the account yet; the link we emailed "
        "at sign-up (or a new one from the sign-in page) confirms it."
    ),
    Reason.SSO_REQUIRED: (
        "Your organization enforces SSO, so {email} must sign in through your IdP; only "
        "break-glass owners keep password sign-in (Organization page)."
    ),
    Reason.LOGOUT_SIGNATURE_MISSING: (
        "Your IdP sent a {message} without a signature, so it was not trusted. In your IdP, "
        "turn on signing of logout requests and responses ({signing_field}), with RSA-SHA256."
    ),
    Reason.LOGOUT_SIGNATURE_INVALID: (
        "The signature of your IdP's logout message does not verify ({problem}). "
        "Check that step 4 holds the certificate your IdP signs with now, and that it signs "
        "with RSA-SHA256."
    ),
    Reason.LOGOUT_MALFORMED: (
        "Your IdP's logout message could not be read as one for this profile ({problem}). "
        "In your IdP, set the single logout URL of this application to {slo_url}."
    ),
    Reason.LOGOUT_UNKNOWN_RESPONSE: (
        "Your IdP sent a LogoutResponse to a logout this browser did not start, or one already "
        "answered ({in_response_to}). Nothing needs changing if it was a reload of the page."
    ),
    Reason.SERVICE_UNAVAILABLE: (
        "Our shared cache or database did not answer; nothing needs changing in your IdP. "
        "Try again in a minute."
    ),
}


class _Values(dict):
    def __missing__(self, key: str) -> str:
        return "(not given)"


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value) or "(none)"
    return str(value) if value not in (None, "") else "(none)"


def _signature_fix(detail: dict[str, Any]) -> str:
    signed_with = detail.get("signed_with") or []
    configured = detail.get("configured") or []
    if signed_with and not set(signed_with) & set(configured):
        return (
            f"The response was signed with the certificate whose SHA-256 fingerprint is "
            f"{_text(signed_with)}, but this profile trusts {_text(configured)}. Paste the "
            "IdP's current signing certificate into X.509 signing certificate in step 4."
        )
    return (
        f"A signature does not verify with the configured certificate ({_text(configured)}). "
        "Paste the IdP's current signing certificate in step 4; if it is already the same, "
        "the response was changed on its way and must not be trusted."
    )


_POLICY_ASSERTION = f"set this profile's Signature policy to '{SignaturePolicy.ASSERTION.label}'"
_POLICY_RESPONSE = f"set this profile's Signature policy to '{SignaturePolicy.RESPONSE.label}'"


def _signing_fixes(preset: Preset, idp: str, policy: str) -> dict[str, str]:
    """What to flip when one signature is missing: in the IdP, in its words, or our policy."""
    if preset.signs_both or policy != SignaturePolicy.BOTH:
        return {
            "response_signing_fix": f"In {idp}, {preset.sign_response}; or, if it signs only "
            f"the Assertion, {_POLICY_ASSERTION} in step 4.",
            "assertion_signing_fix": f"In {idp}, {preset.sign_assertion}; or "
            f"{_POLICY_RESPONSE} in step 4.",
        }
    cannot = f"{idp} never signs both the Response and the Assertion"
    return {
        "response_signing_fix": f"{cannot}: {_POLICY_RESPONSE} in step 4 and, in {idp}, "
        f"{preset.sign_response}; or {_POLICY_ASSERTION}.",
        "assertion_signing_fix": f"{cannot}: {_POLICY_RESPONSE} in step 4.",
    }


_MGF1 = "-rsa-MGF1"
_STATUS = "urn:oasis:names:tc:SAML:2.0:status:"
_STATUS_FIXES = {
    "InvalidNameIDPolicy": (
        "The IdP could not produce the NameID this profile asks for (an email address), for "
        "example because the user has no email address at the IdP. In your IdP: "
        "{name_id_field}, and give the user an email address."
    ),
    "RequestDenied": (
        "The IdP refused to sign this user in to the application: most often the user (or a "
        "group they belong to) is not assigned to it. Assign them in your IdP."
    ),
    "AuthnFailed": (
        "The user did not sign in at the IdP (a wrong password, a refused second factor or a "
        "cancelled sign-in). Ask them to try again; the IdP's sign-in log says why."
    ),
}


def _algorithm_fix(detail: dict[str, Any]) -> str:
    algorithm = str(detail.get("algorithm") or "(none)")
    if algorithm.endswith(_MGF1):
        return (
            f"Your IdP signs with RSA-PSS ({algorithm}), which is not supported. In Keycloak "
            "this is the client's Signature algorithm RSA_SHA256_MGF1 or RSA_SHA512_MGF1: set "
            "Signature algorithm: RSA_SHA256 (Clients → the client → Signature and Encryption). "
            "In other IdPs, choose RSA-SHA256."
        )
    return (
        f"Your IdP signs with {algorithm}, which is not supported. Set the signature algorithm "
        "to RSA-SHA256 and the digest algorithm to SHA-256 in your IdP."
    )


def _status_fix(detail: dict[str, Any], guide: Any) -> str:
    received = " ".join(
        _text(detail[key])
        for key in ("status", "second_level_status", "status_message")
        if detail.get(key)
    )
    said = f"The IdP answered with the status {received or '(not given)'}. "
    second = str(detail.get("second_level_status") or "").removeprefix(_STATUS)
    advice = _STATUS_FIXES.get(second)
    if advice is None:
        return said + (
            "Look at the IdP's sign-in log: most often the user is not assigned to the "
            "application."
        )
    return said + advice.format(name_id_field=guide.name_id_field)


def fix_for(event: LoginEvent, profile: SSOProfile) -> str:
    """The advice for this event's reason, with its values and the IdP's own field names."""
    template = FIXES.get(event.reason, FIXES[Reason.INTERNAL_ERROR])
    guide = preset_for(profile.idp_kind)
    values = _Values({key: _text(value) for key, value in event.detail.items()})
    values.update(
        signing_field=guide.signing_field,
        encryption_field=guide.encryption_field,
        audience_field=guide.audience_field,
        acs_field=guide.acs_field,
        recipient_field=guide.recipient_field,
        name_id_field=guide.name_id_field,
        acs_url=sp_acs_url(profile),
        slo_url=sp_slo_url(profile),
        entity_id=sp_entity_id(profile),
        email=event.email or "(unknown)",
        event_id=event.reference,
        signature_fix=_signature_fix(event.detail),
        name_id_note=guide.name_id_note,
        time_note=guide.time_note,
        algorithm_fix=_algorithm_fix(event.detail),
        status_fix=_status_fix(event.detail, guide),
        idp_issuer=profile.idp_issuer or "(not set)",
    )
    values.setdefault("signature_policy", profile.signature_policy)
    idp = IdPKind(profile.idp_kind).label if profile.idp_kind != IdPKind.OTHER else "your IdP"
    values.update(_signing_fixes(guide, idp, profile.signature_policy))
    return template.format_map(values).strip()


DETAIL_LABELS = {
    "received": "Received",
    "expected": "Expected",
    "signed_with": "Signed with the certificate (SHA-256)",
    "configured": "Certificates this profile trusts (SHA-256)",
    "problem": "Problem",
    "algorithm": "Algorithm",
    "in_response_to": "InResponseTo",
    "assertion_id": "Assertion ID",
    "email_domain": "Email domain",
    "status": "Status",
    "second_level_status": "Second-level status",
    "status_message": "Status message",
    "not_before": "Not before",
    "not_on_or_after": "Not on or after",
    "now": "Our time",
    "clock_difference_seconds": "Clock difference (s)",
    "seconds_late": "Seconds late",
    "initiated_by": "Initiated by",
    "verified_with": "Verified with the certificate (SHA-256)",
    "signed": "Signed elements",
    "signature_policy": "Signature policy",
    "binding": "Binding",
    "element": "Element",
    "attribute": "Email attribute",
    "received_attributes": "Attributes received",
    "email_from": "Email taken from",
    "name_id": "NameID",
    "name_id_format": "NameID format",
    "message": "Logout message",
}


# Shown in the "received" and "mapped" tables rather than as detail rows.
_TABLED = ("attributes", "mapped", "groups", TEST_RESPONSE_XML)
_MAPPED_LABELS = {
    "email": "Email (the account)",
    "first_name": "First name",
    "last_name": "Last name",
    "groups": "Groups",
}


def detail_rows(event: LoginEvent) -> list[tuple[str, str]]:
    """A failed attempt's details as labelled plain text, for the admin's event page."""
    return [
        (DETAIL_LABELS.get(key, key.replace("_", " ").capitalize()), _text(value))
        for key, value in event.detail.items()
        if key not in _TABLED
    ]


def mapping_rows(event: LoginEvent) -> list[tuple[str, str, str]]:
    """What the profile's mapping made of a connection test's claims: (field, value, the claim
    it came from), for the "mapped" table beside the "received" one."""
    mapped = event.detail.get("mapped") or {}
    return [
        (label, *(str(part) for part in (mapped.get(key) or ["", ""])[:2]))
        for key, label in _MAPPED_LABELS.items()
    ]
