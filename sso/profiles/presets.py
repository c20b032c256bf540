"""IdP presets: what we know of each IdP kind. Its own names for every field and switch the
wizard's instructions and every fix text use, where it puts signatures by default and at best,
its claim names, its NameID behaviour, how it takes a login hint, its time-window quirks."""

from __future__ import annotations

from dataclasses import dataclass

from sso.models import IdPKind, SignaturePolicy

# The claim names IdPs commonly use, in the order they are tried when a profile names none.
EMAIL_CLAIMS = (
    "email",
    "mail",
    "emailAddress",
    "urn:oid:0.9.2342.19200300.100.1.3",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
)
FIRST_NAME_CLAIMS = (
    "givenName",
    "given_name",
    "first_name",
    "firstName",
    "urn:oid:2.5.4.42",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
)
LAST_NAME_CLAIMS = (
    "sn",
    "surname",
    "last_name",
    "lastName",
    "urn:oid:2.5.4.4",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",
)
GROUPS_CLAIMS = (
    "groups",
    "memberOf",
    "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups",
)


@dataclass(frozen=True)
class Preset:
    create_app: str
    audience_field: str
    acs_field: str
    recipient_field: str
    name_id_field: str
    signing_field: str
    encryption_field: str
    metadata_hint: str
    # The strictest signature policy this IdP reaches at its usual settings with at most the
    # changes its guide asks for, and why, in one sentence the wizard shows.
    default_policy: str = SignaturePolicy.BOTH
    policy_reason: str = "Sign both the Response and the Assertion: the safest setting."
    email_claims: tuple[str, ...] = EMAIL_CLAIMS
    first_name_claims: tuple[str, ...] = FIRST_NAME_CLAIMS
    last_name_claims: tuple[str, ...] = LAST_NAME_CLAIMS
    groups_claims: tuple[str, ...] = GROUPS_CLAIMS
    # The query parameter of the SSO URL that carries the typed email ("" when none).
    login_hint_parameter: str = ""



GENERIC = Preset(
    create_app="Create a new SAML application (or app integration) and choose SAML 2.0 as its "
    "sign-in method.",
    audience_field="Audience URI / Entity ID / Identifier",
    acs_field="Assertion Consumer Service (ACS) URL / Single sign-on URL / Reply URL",
    recipient_field="Recipient URL and Destination URL (if your IdP asks for them separately)",
    name_id_field="NameID format: EmailAddress; NameID value: the user's email address",
    signing_field="Sign both the SAML Response and the SAML Assertion (RSA-SHA256)",
    encryption_field="Assertion encryption: off",
    metadata_hint="Copy the IdP's Issuer (entity ID), its SSO URL and its X.509 signing "
    "certificate, or download its metadata XML.",
)

PRESETS: dict[str, Preset] = {
    IdPKind.OKTA: Preset(
        create_app="In the Okta Admin Console: Applications → Create App Integration → SAML 2.0.",
        audience_field="Audience URI (SP Entity ID)",
        acs_field="Single sign-on URL (keep 'Use this for Recipient URL and Destination URL' "
        "checked)",
        recipient_field="Recipient URL and Destination URL: the same ACS URL",
        name_id_field="Name ID format: EmailAddress; Application username: Email",
        signing_field="Show Advanced Settings → Response: Signed; Assertion Signature: Signed; "
        "Signature Algorithm: RSA-SHA256",
        encryption_field="Assertion Encryption: Unencrypted",
        metadata_hint="Sign On tab → View SAML setup instructions: Identity Provider Issuer, "
        "Identity Provider Single Sign-On URL, X.509 Certificate (or 'Identity Provider "
        "metadata').",
    ),
    IdPKind.ENTRA_ID: Preset(
        create_app="In the Microsoft Entra admin center: Enterprise applications → New "
        "application → Create your own application → Non-gallery; then Single sign-on → SAML.",
        audience_field="Identifier (Entity ID)",
        acs_field="Reply URL (Assertion Consumer Service URL)",
        recipient_field="Entra ID sets Recipient and Destination to the Reply URL",
        name_id_field="Attributes & Claims → Unique User Identifier (Name ID): "
        "user.mail, format Email address",
        signing_field="SAML Signing Certificate → Signing Option: Sign SAML response and "
        "assertion; Signing Algorithm: SHA-256",
        encryption_field="Token encryption: inactive",
        metadata_hint="Set up section: Microsoft Entra Identifier, Login URL, and "
        "Certificate (Base64) — or 'Federation Metadata XML'.",
    ),
    IdPKind.GOOGLE: Preset(
        create_app="In the Google Admin console: Apps → Web and mobile apps → Add app → Add "
        "custom SAML app.",
        audience_field="Entity ID",
        acs_field="ACS URL",
        recipient_field="Google sets Recipient and Destination to the ACS URL",
        name_id_field="Name ID format: EMAIL; Name ID: Basic Information > Primary email",
        signing_field="Check 'Signed response' (Google always signs the assertion)",
        encryption_field="Google Workspace does not encrypt assertions",
        metadata_hint="Google Identity Provider details: SSO URL, Entity ID and Certificate, or "
        "'Download metadata'.",
    ),
    IdPKind.ONELOGIN: Preset(
        create_app="In OneLogin: Applications → Add App → 'SAML Custom Connector (Advanced)'.",
        audience_field="Audience (EntityID)",
        acs_field="ACS (Consumer) URL and ACS (Consumer) URL Validator",
        recipient_field="Recipient: the ACS URL",
        name_id_field="SAML nameID format: Email; Parameters → NameID value: Email",
        signing_field="SAML signature element: Both",
        encryption_field="Encrypt assertion: unchecked",
        metadata_hint="SSO tab: Issuer URL, SAML 2.0 Endpoint (HTTP), X.509 Certificate, or "
        "More Actions → SAML Metadata.",
    ),
    IdPKind.PINGFEDERATE: Preset(
        create_app="In PingFederate: Applications → SP Connections → Create Connection "
        "(Browser SSO, SAML 2.0).",
        audience_field="Partner's Entity ID (Connection ID)",
        acs_field="Assertion Consumer Service URL (binding POST)",
        recipient_field="PingFederate sets Recipient and Destination to the ACS URL",
        name_id_field="Attribute contract: SAML_SUBJECT, format urn:oasis:names:tc:SAML:1.1:"
        "nameid-format:emailAddress, mapped to the mail attribute",
        signing_field="Signature policy: 'Always sign the SAML Assertion' and sign the response",
        encryption_field="Encryption policy: None",
        metadata_hint="System → Protocol Metadata → Metadata Export, or the connection's "
        "signing certificate and the SSO endpoint /idp/SSO.saml2.",
    ),
    IdPKind.ADFS: Preset(
        create_app="In AD FS Management: Relying Party Trusts → Add Relying Party Trust → "
        "Claims aware → enter data manually (or import this page's SP metadata).",
        audience_field="Relying party trust identifier",
        acs_field="Enable support for the SAML 2.0 WebSSO protocol → Relying party SAML 2.0 "
        "SSO service URL",
        recipient_field="AD FS sets Recipient and Destination to that URL",
        name_id_field="Claim rule: E-Mail-Addresses → Name ID, Outgoing name ID format: Email",
        signing_field="PowerShell: Set-AdfsRelyingPartyTrust -SamlResponseSignature "
        "MessageAndAssertion",
        encryption_field="Encryption tab: no certificate",
        metadata_hint="https://<your AD FS host>/FederationMetadata/2007-06/FederationMetadata.xml",
    ),
    IdPKind.CITRIX: Preset(
        create_app="In Citrix Gateway / NetScaler: Security → AAA → Policies → SAML IDP "
        "profile; or Citrix Secure Private Access → Add an app → SaaS → custom SAML app.",
        audience_field="Audience (Service Provider ID / Issuer Name expected)",
        acs_field="Assertion Consumer Service URL",
        recipient_field="Relay State: leave empty; Destination: the ACS URL",
        name_id_field="Name ID Format: EmailAddress; Name ID Expression: the user's email",
        signing_field="Sign Assertion: ASSERTION and RESPONSE (Signature Algorithm RSA-SHA256)",
        encryption_field="Encrypt Assertion: off",
        metadata_hint="The app's idp_metadata.xml link, or the Issuer Name, Login URL and "
        "signing certificate.",
    ),
    IdPKind.JUMPCLOUD: Preset(
        create_app="In the JumpCloud Admin Portal: SSO Applications → Add New Application → "
        "Custom SAML App.",
        audience_field="SP Entity ID",
        acs_field="ACS URLs (default URL)",
        recipient_field="JumpCloud sets Recipient and Destination to the ACS URL",
        name_id_field="SAMLSubject NameID: email; NameID format: "
        "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
        signing_field="Signature: Assertion and Response (RSA-SHA256)",
        encryption_field="JumpCloud custom apps send unencrypted assertions",
        metadata_hint="IdP Entity ID, IDP URL and the IDP Certificate, or 'Export Metadata'.",
    ),
}


def preset_for(kind: str) -> Preset:
    return PRESETS.get(kind, GENERIC)
