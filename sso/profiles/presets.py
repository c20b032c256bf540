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

WS_EMAIL = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"
WS_GIVEN_NAME = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname"
WS_SURNAME = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname"
OID_MAIL = "urn:oid:0.9.2342.19200300.100.1.3"
OID_GIVEN_NAME = "urn:oid:2.5.4.42"
OID_SURNAME = "urn:oid:2.5.4.4"
OID_EPPN = "urn:oid:1.3.6.1.4.1.5923.1.1.1.6"
OID_IS_MEMBER_OF = "urn:oid:1.3.6.1.4.1.5923.1.5.1.1"


@dataclass(frozen=True)
class Preset:
    create_app: str
    audience_field: str
    acs_field: str
    recipient_field: str
    name_id_field: str
    # What the guide asks for, and how to sign each part alone (the fix texts name them).
    signing_field: str
    sign_response: str
    sign_assertion: str
    encryption_field: str
    metadata_hint: str
    # Step 4's labels, in the IdP's words for the values it shows.
    issuer_label: str = "Issuer ID/URL"
    sso_url_label: str = "Single sign-on URL"
    certificate_label: str = "X.509 signing certificate"
    # Whether it can sign the Response and the Assertion in one answer.
    signs_both: bool = True
    # The strictest signature policy this IdP reaches at its usual settings with at most the
    # changes its guide asks for, and why, in one sentence the wizard shows.
    default_policy: str = SignaturePolicy.BOTH
    policy_reason: str = "Sign both the Response and the Assertion: the safest setting."
    email_claims: tuple[str, ...] = EMAIL_CLAIMS
    first_name_claims: tuple[str, ...] = FIRST_NAME_CLAIMS
    last_name_claims: tuple[str, ...] = LAST_NAME_CLAIMS
    groups_claims: tuple[str, ...] = GROUPS_CLAIMS
    # What it sends as NameID at its usual settings, when that is not the email.
    name_id_note: str = ""
    # The query parameter of the SSO URL that carries the typed email ("" when none).
    login_hint_parameter: str = ""
    # What its assertions do with time that others do not.
    time_note: str = ""
    # When it needs our SP signing certificate (it verifies our signed AuthnRequests).
    sp_certificate_note: str = ""
    # Where it takes our single logout URL and shows its own, and what it needs for it.
    slo_note: str = (
        "If your IdP offers single logout, give it our single logout URL (HTTP-Redirect) and "
        "our SP signing certificate, have it sign its logout messages, and paste its own "
        "single logout URL in step 4."
    )


GENERIC = Preset(
    create_app="Create a new SAML application (or app integration) and choose SAML 2.0 as its "
    "sign-in method.",
    audience_field="Audience URI / Entity ID / Identifier",
    acs_field="Assertion Consumer Service (ACS) URL / Single sign-on URL / Reply URL",
    recipient_field="Recipient URL and Destination URL (if your IdP asks for them separately)",
    name_id_field="NameID format: EmailAddress; NameID value: the user's email address",
    signing_field="Sign both the SAML Response and the SAML Assertion (RSA-SHA256)",
    sign_response="sign the SAML Response",
    sign_assertion="sign the SAML Assertion",
    encryption_field="Assertion encryption: off",
    metadata_hint="Copy the IdP's Issuer (entity ID), its SSO URL and its X.509 signing "
    "certificate, or download its metadata XML.",
    sp_certificate_note="If your IdP verifies signed requests, give it this certificate.",
)

PRESETS: dict[str, Preset] = {
    IdPKind.OKTA: Preset(
        slo_note=(
            "In Okta, under SAML Settings → Show Advanced Settings, tick Enable Single Logout, "
            "set Single Logout URL to our single logout URL and SP Issuer to our Entity ID, and "
            "upload our SP signing certificate as the Signature Certificate. Okta's own Single "
            "Logout URL is in View SAML setup instructions."
        ),
        create_app="In the Okta Admin Console: Applications → Create App Integration → SAML 2.0.",
        audience_field="Audience URI (SP Entity ID)",
        acs_field="Single sign-on URL (keep 'Use this for Recipient URL and Destination URL' "
        "checked)",
        recipient_field="Recipient URL and Destination URL: the same ACS URL",
        name_id_field="Name ID format: EmailAddress; Application username: Email",
        signing_field="Show Advanced Settings → Response: Signed; Assertion Signature: Signed; "
        "Signature Algorithm: RSA-SHA256",
        sign_response="Show Advanced Settings → Response: Signed",
        sign_assertion="Show Advanced Settings → Assertion Signature: Signed",
        encryption_field="Assertion Encryption: Unencrypted",
        metadata_hint="Sign On tab → View SAML setup instructions: Identity Provider Issuer, "
        "Identity Provider Single Sign-On URL, X.509 Certificate (or 'Identity Provider "
        "metadata').",
        issuer_label="Identity Provider Issuer",
        sso_url_label="Identity Provider Single Sign-On URL",
        certificate_label="X.509 Certificate",
        policy_reason="Okta signs both the Response and the Assertion at its usual settings.",
        name_id_note="Okta sends the Application username as NameID (the Okta username unless "
        "set to Email).",
    ),
    IdPKind.ENTRA_ID: Preset(
        slo_note=(
            "In Entra ID, set Logout Url (Optional) under Basic SAML Configuration to our single "
            "logout URL. Entra's own Logout URL is in the Set up section of the app's Single "
            "sign-on page."
        ),
        create_app="In the Microsoft Entra admin center: Enterprise applications → New "
        "application → Create your own application → Non-gallery; then Single sign-on → SAML.",
        audience_field="Identifier (Entity ID)",
        acs_field="Reply URL (Assertion Consumer Service URL)",
        recipient_field="Entra ID sets Recipient and Destination to the Reply URL",
        name_id_field="Attributes & Claims → Unique User Identifier (Name ID): "
        "user.mail, format Email address",
        signing_field="SAML Signing Certificate → Signing Option: Sign SAML response and "
        "assertion; Signing Algorithm: SHA-256",
        sign_response="SAML Signing Certificate → Signing Option: Sign SAML response and assertion",
        sign_assertion="SAML Signing Certificate → Signing Option: Sign SAML response and "
        "assertion",
        encryption_field="Token encryption: inactive",
        metadata_hint="Set up section: Microsoft Entra Identifier, Login URL, and "
        "Certificate (Base64) — or 'Federation Metadata XML'.",
        issuer_label="Microsoft Entra Identifier",
        sso_url_label="Login URL",
        certificate_label="Certificate (Base64)",
        policy_reason="Entra ID signs only the assertion by default; Signing Option 'Sign SAML "
        "response and assertion' signs both.",
        email_claims=(WS_EMAIL, "email", "mail"),
        first_name_claims=(WS_GIVEN_NAME, "givenName"),
        last_name_claims=(WS_SURNAME, "surname"),
        groups_claims=("http://schemas.microsoft.com/ws/2008/06/identity/claims/groups",),
        name_id_note="Entra ID sends the user principal name (user.userprincipalname) as "
        "NameID unless the Unique User Identifier is changed, and it is not always the "
        "mailbox; the emailaddress claim comes from user.mail and is missing for users without "
        "a mailbox.",
        login_hint_parameter="login_hint",
        time_note="Entra ID sets NotBefore equal to IssueInstant, so only our allowed clock "
        "skew absorbs an Entra clock a little ahead of ours.",
        sp_certificate_note="Entra ID needs it only if you turn on SAML Certificates → "
        "Verification certificates (optional) → Require verification certificates.",
    ),
    IdPKind.GOOGLE: Preset(
        slo_note=(
            "Google Workspace does not offer single logout for SAML apps: signing out here ends "
            "the session here only."
        ),
        create_app="In the Google Admin console: Apps → Web and mobile apps → Add app → Add "
        "custom SAML app.",
        audience_field="Entity ID",
        acs_field="ACS URL",
        recipient_field="Google sets Recipient and Destination to the ACS URL",
        name_id_field="Name ID format: EMAIL; Name ID: Basic Information > Primary email",
        signing_field="Service provider details → check 'Signed response' (Google then signs "
        "the whole response instead of the assertion)",
        sign_response="Service provider details → check 'Signed response'",
        sign_assertion="Service provider details → uncheck 'Signed response'",
        encryption_field="Google Workspace does not encrypt assertions",
        metadata_hint="Google Identity Provider details: SSO URL, Entity ID and Certificate, or "
        "'Download metadata'.",
        issuer_label="Entity ID",
        sso_url_label="SSO URL",
        certificate_label="Certificate",
        signs_both=False,
        default_policy=SignaturePolicy.RESPONSE,
        policy_reason="Google Workspace signs either the assertion (by default) or, with "
        "'Signed response' checked, the whole response, never both: the whole response covers "
        "more.",
        name_id_note="Google sends the Name ID you choose (Basic Information > Primary email "
        "for the email); it sends no attribute unless you add an Attribute mapping.",
    ),
    IdPKind.ONELOGIN: Preset(
        slo_note=(
            "In OneLogin, on the app's Configuration tab, set the Single Logout URL to our single"
            " logout URL; OneLogin's own SLO Endpoint (HTTP) is on the SSO tab."
        ),
        create_app="In OneLogin: Applications → Add App → 'SAML Custom Connector (Advanced)'.",
        audience_field="Audience (EntityID)",
        acs_field="ACS (Consumer) URL and ACS (Consumer) URL Validator",
        recipient_field="Recipient: the ACS URL",
        name_id_field="SAML nameID format: Email; Parameters → NameID value: Email",
        signing_field="SAML signature element: Both; SSO tab → SAML Signature Algorithm: SHA-256",
        sign_response="SAML signature element: Both",
        sign_assertion="SAML signature element: Both",
        encryption_field="Encrypt assertion: unchecked",
        metadata_hint="SSO tab: Issuer URL, SAML 2.0 Endpoint (HTTP), X.509 Certificate, or "
        "More Actions → SAML Metadata.",
        issuer_label="Issuer URL",
        sso_url_label="SAML 2.0 Endpoint (HTTP)",
        certificate_label="X.509 Certificate",
        policy_reason="OneLogin signs only the assertion by default; SAML signature element "
        "'Both' signs both.",
        email_claims=("User.email", "Email", *EMAIL_CLAIMS),
        first_name_claims=("User.FirstName", "First Name", *FIRST_NAME_CLAIMS),
        last_name_claims=("User.LastName", "Last Name", *LAST_NAME_CLAIMS),
        groups_claims=("memberOf", "groups"),
        time_note="OneLogin sends SessionNotOnOrAfter (its 'SAML sessionNotOnOrAfter' "
        "setting) on the AuthnStatement.",
    ),
    IdPKind.PINGFEDERATE: Preset(
        slo_note=(
            "In PingFederate, add the SLO service in the SP connection's Protocol Settings (SLO "
            "Service URLs, binding Redirect) with our single logout URL, and allow SLO in its "
            "allowable bindings."
        ),
        create_app="In PingFederate: Applications → SP Connections → Create Connection "
        "(Browser SSO, SAML 2.0).",
        audience_field="Partner's Entity ID (Connection ID)",
        acs_field="Assertion Consumer Service URL (binding POST)",
        recipient_field="PingFederate sets Recipient and Destination to the ACS URL",
        name_id_field="Attribute contract: SAML_SUBJECT, format urn:oasis:names:tc:SAML:1.1:"
        "nameid-format:emailAddress, mapped to the mail attribute",
        signing_field="Protocol Settings → Signature Policy: 'Always sign the SAML Assertion' "
        "(PingFederate signs the response itself)",
        sign_response="keep the POST binding, whose responses PingFederate signs",
        sign_assertion="Protocol Settings → Signature Policy: 'Always sign the SAML Assertion'",
        encryption_field="Encryption Policy: None",
        metadata_hint="System → Protocol Metadata → Metadata Export, or the connection's "
        "signing certificate and the SSO endpoint /idp/SSO.saml2.",
        sso_url_label="SSO endpoint (https://<host>:9031/idp/SSO.saml2)",
        certificate_label="Signing certificate (Digital Signature Settings)",
        policy_reason="PingFederate signs only the response by default; 'Always sign the SAML "
        "Assertion' signs both.",
        email_claims=("mail", *EMAIL_CLAIMS),
        name_id_note="PingFederate sends SAML_SUBJECT as NameID, whatever the attribute "
        "contract maps to it.",
        sp_certificate_note="PingFederate verifies our signed requests with the certificate of "
        "Credentials → Signature Verification Settings: import this one there.",
    ),
    IdPKind.ADFS: Preset(
        slo_note=(
            "In AD FS, on the relying party trust's Endpoints tab, add a SAML Logout endpoint, "
            "binding Redirect, with our single logout URL; AD FS needs our SP signing certificate"
            " on the Signature tab. Its own logout URL is https://<your AD FS host>/adfs/ls/."
        ),
        create_app="In AD FS Management: Relying Party Trusts → Add Relying Party Trust → "
        "Claims aware → enter data manually (or import this page's SP metadata).",
        audience_field="Relying party trust identifier",
        acs_field="Enable support for the SAML 2.0 WebSSO protocol → Relying party SAML 2.0 "
        "SSO service URL",
        recipient_field="AD FS sets Recipient and Destination to that URL",
        name_id_field="Claim rule: E-Mail-Addresses → Name ID, Outgoing name ID format: Email",
        signing_field="PowerShell: Set-AdfsRelyingPartyTrust -TargetName <name> "
        "-SamlResponseSignature MessageAndAssertion",
        sign_response="PowerShell: Set-AdfsRelyingPartyTrust -TargetName <name> "
        "-SamlResponseSignature MessageAndAssertion",
        sign_assertion="PowerShell: Set-AdfsRelyingPartyTrust -TargetName <name> "
        "-SamlResponseSignature MessageAndAssertion",
        encryption_field="Encryption tab: no certificate",
        metadata_hint="https://<your AD FS host>/FederationMetadata/2007-06/FederationMetadata.xml",
        issuer_label="Federation Service Identifier",
        sso_url_label="SAML 2.0 endpoint (https://<your AD FS host>/adfs/ls/)",
        certificate_label="Token-signing certificate (Base-64 encoded X.509)",
        policy_reason="AD FS signs only the assertion by default (AssertionOnly); "
        "-SamlResponseSignature MessageAndAssertion signs both.",
        email_claims=(WS_EMAIL, "email", "mail"),
        first_name_claims=(WS_GIVEN_NAME, "givenName"),
        last_name_claims=(WS_SURNAME, "surname"),
        groups_claims=(
            "http://schemas.xmlsoap.org/claims/Group",
            "http://schemas.microsoft.com/ws/2008/06/identity/claims/role",
        ),
        name_id_note="AD FS sends no NameID unless a claim rule issues a Name ID claim.",
        sp_certificate_note="AD FS verifies our signed requests with the certificate on the "
        "relying party trust's Signature tab: importing our SP metadata puts it there, "
        "otherwise add it by hand.",
    ),
    IdPKind.CITRIX: Preset(
        slo_note=(
            "On NetScaler, set the SAML IdP profile's single logout settings (Logout URL, Logout "
            "Binding: REDIRECT) to our single logout URL, and give it our SP signing certificate."
        ),
        create_app="In Citrix Gateway / NetScaler: Security → AAA → Policies → SAML IDP "
        "profile; or Citrix Secure Private Access → Add an app → SaaS → custom SAML app.",
        audience_field="Audience (Service Provider ID / Issuer Name expected)",
        acs_field="Assertion Consumer Service URL",
        recipient_field="Relay State: leave empty; Destination: the ACS URL",
        name_id_field="Name ID Format: EmailAddress; Name ID Expression: the user's email",
        signing_field="Sign Assertion: BOTH; Signature Algorithm: RSA-SHA256; Digest Method: "
        "SHA256",
        sign_response="Sign Assertion: BOTH",
        sign_assertion="Sign Assertion: BOTH",
        encryption_field="Encrypt Assertion: off",
        metadata_hint="The app's idp_metadata.xml link, or the Issuer Name, Login URL and "
        "signing certificate.",
        issuer_label="Issuer Name",
        policy_reason="NetScaler signs only the assertion by default; Sign Assertion 'BOTH' "
        "signs both.",
        sp_certificate_note="NetScaler verifies our signed requests with the SAML IdP profile's "
        "SP Certificate Name: install this certificate and choose it there.",
    ),
    IdPKind.JUMPCLOUD: Preset(
        slo_note=(
            "If your JumpCloud SAML application shows a single logout setting, give it our single"
            " logout URL; otherwise signing out here ends the session here only."
        ),
        create_app="In the JumpCloud Admin Portal: SSO Applications → Add New Application → "
        "Custom SAML App.",
        audience_field="SP Entity ID",
        acs_field="ACS URLs (default URL)",
        recipient_field="JumpCloud sets Recipient and Destination to the ACS URL",
        name_id_field="SAMLSubject NameID: email; SAMLSubject NameID Format: "
        "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
        signing_field="Sign the Assertion and the Response; Signature Algorithm: RSA-SHA256",
        sign_response="sign the Response",
        sign_assertion="sign the Assertion",
        encryption_field="JumpCloud custom apps send unencrypted assertions",
        metadata_hint="IdP Entity ID, IDP URL and the IDP Certificate, or 'Export Metadata'.",
        issuer_label="IdP Entity ID",
        sso_url_label="IDP URL",
        certificate_label="IDP Certificate",
        policy_reason="Sign both the Response and the Assertion; if your JumpCloud app signs "
        "only one, choose that one here.",
        time_note="JumpCloud sends SessionNotOnOrAfter on its AuthnStatement.",
    ),
    IdPKind.AUTH0: Preset(
        slo_note=(
            'In the settings of Auth0\'s SAML2 Web App add-on, add "logout": {"callback": "<our '
            'single logout URL>", "slo_enabled": true}; Auth0\'s own logout URL is https://<your '
            "tenant>/samlp/logout."
        ),
        create_app="In the Auth0 Dashboard: Applications → Create Application (Regular Web "
        "Application) → Addons → SAML2 Web App.",
        audience_field='Settings JSON "audience"',
        acs_field="Application Callback URL",
        recipient_field='Settings JSON "recipient" and "destination": the same URL',
        name_id_field='Settings JSON "nameIdentifierFormat": "urn:oasis:names:tc:SAML:1.1:'
        'nameid-format:emailAddress", "nameIdentifierProbes": ["http://schemas.xmlsoap.org/'
        'ws/2005/05/identity/claims/emailaddress"]',
        signing_field='Settings JSON "signResponse": true, "signatureAlgorithm": "rsa-sha256", '
        '"digestAlgorithm": "sha256" (the defaults, SHA-1, are refused)',
        sign_response='Settings JSON "signResponse": true',
        sign_assertion='Settings JSON "signResponse": false',
        encryption_field='Settings JSON: no "encryptionCert" or "encryptionPublicKey"',
        metadata_hint="The addon's Usage tab: Issuer, Identity Provider Login URL, Identity "
        "Provider Certificate, or Identity Provider Metadata.",
        issuer_label="Issuer",
        sso_url_label="Identity Provider Login URL",
        certificate_label="Identity Provider Certificate",
        signs_both=False,
        default_policy=SignaturePolicy.RESPONSE,
        policy_reason='Auth0 signs the assertion, or with "signResponse": true the whole '
        "response instead, never both: the whole response covers more.",
        email_claims=(WS_EMAIL, "email"),
        first_name_claims=(WS_GIVEN_NAME, "given_name"),
        last_name_claims=(WS_SURNAME, "family_name"),
        groups_claims=("http://schemas.xmlsoap.org/claims/Group", "groups"),
        name_id_note="Auth0 sends the user id (format unspecified) as NameID unless "
        '"nameIdentifierFormat" and "nameIdentifierProbes" say otherwise.',
        sp_certificate_note='Auth0 needs it only in "signingCert", which makes it require '
        "signed requests (ours are).",
    ),
    IdPKind.KEYCLOAK: Preset(
        slo_note=(
            "In Keycloak, turn on the client's Front channel logout and set Logout Service "
            "Redirect Binding URL (Advanced → Fine Grain SAML Endpoint Configuration) to our "
            "single logout URL. Keycloak's own is https://<host>/realms/<realm>/protocol/saml."
        ),
        create_app="In the Keycloak admin console, in your realm: Clients → Import client (this "
        "page's SP metadata) or Create client → Client type: SAML.",
        audience_field="Client ID",
        acs_field="Advanced → Assertion Consumer Service POST Binding URL",
        recipient_field="Keycloak sets Destination to that URL; Valid redirect URIs: the same URL",
        name_id_field="SAML capabilities → Name ID format: email, and Force name ID format: On",
        signing_field="Signature and Encryption → Sign documents: On, Sign assertions: On, "
        "Signature algorithm: RSA_SHA256 (not RSA_SHA256_MGF1 or RSA_SHA512_MGF1)",
        sign_response="Signature and Encryption → Sign documents: On",
        sign_assertion="Signature and Encryption → Sign assertions: On",
        encryption_field="Keys → Encrypt assertions: Off",
        metadata_hint="Realm settings → SAML 2.0 Identity Provider Metadata "
        "(/realms/<realm>/protocol/saml/descriptor), or Realm settings → Keys → RS256 "
        "Certificate.",
        issuer_label="Issuer (https://<host>/realms/<realm>)",
        sso_url_label="SAML endpoint (https://<host>/realms/<realm>/protocol/saml)",
        certificate_label="Realm RS256 certificate (Realm settings → Keys)",
        policy_reason="Keycloak signs only the document by default; Sign assertions: On signs "
        "both.",
        email_claims=("email", "urn:oid:1.2.840.113549.1.9.1", *EMAIL_CLAIMS[1:]),
        first_name_claims=("firstName", OID_GIVEN_NAME, "givenName"),
        last_name_claims=("lastName", OID_SURNAME, "surname"),
        groups_claims=("groups", "member", "Role"),
        name_id_note="Keycloak sends the username (format unspecified) as NameID unless Name "
        "ID format is email with Force name ID format On; email, firstName and lastName "
        "arrive only through User Property mappers.",
        login_hint_parameter="login_hint",
        sp_certificate_note="Keycloak requires signed requests by default (Keys → Client "
        "signature required: On) and checks them with this certificate: import it there "
        "(importing our SP metadata does).",
    ),
    IdPKind.SHIBBOLETH: Preset(
        slo_note=(
            "Shibboleth IdP reads our single logout URL from our SP metadata; logout propagation "
            "must be on in its idp.properties (idp.logout.propagationEnabled, with SP sessions "
            "tracked)."
        ),
        create_app="In the Shibboleth IdP: load this page's SP metadata through a "
        "MetadataProvider in conf/metadata-providers.xml, and add a RelyingPartyOverride for "
        "its entityID in conf/relying-party.xml.",
        audience_field="The SP's entityID (from its metadata)",
        acs_field="AssertionConsumerService Location (from its metadata)",
        recipient_field="The IdP takes Recipient and Destination from the SP metadata",
        name_id_field="conf/saml-nameid.xml: a SAML2AttributeSourcedGenerator with format "
        "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress and attributeSourceIds mail",
        signing_field='relying-party.xml: <bean parent="SAML2.SSO" p:signResponses="true" '
        'p:signAssertions="true" />',
        sign_response='relying-party.xml: SAML2.SSO p:signResponses="true"',
        sign_assertion='relying-party.xml: SAML2.SSO p:signAssertions="true"',
        encryption_field='relying-party.xml: SAML2.SSO p:encryptAssertions="false"',
        metadata_hint="https://<your IdP host>/idp/shibboleth (its metadata), or its entityID, "
        "the SingleSignOnService of /idp/profile/SAML2/Redirect/SSO and idp-signing.crt.",
        issuer_label="IdP entityID (idp.entityID)",
        sso_url_label="SSO service URL (/idp/profile/SAML2/Redirect/SSO)",
        certificate_label="Signing certificate (idp-signing.crt)",
        policy_reason='Shibboleth signs only the response by default; p:signAssertions="true" '
        "signs both.",
        email_claims=(OID_MAIL, "mail", "email", OID_EPPN),
        first_name_claims=(OID_GIVEN_NAME, "givenName"),
        last_name_claims=(OID_SURNAME, "sn"),
        groups_claims=(OID_IS_MEMBER_OF, "isMemberOf", "urn:oid:1.3.6.1.4.1.5923.1.1.1.7"),
        name_id_note="Shibboleth sends a transient NameID unless saml-nameid.xml generates an "
        "emailAddress one; it releases mail, givenName and sn only through "
        "attribute-filter.xml.",
        sp_certificate_note="Shibboleth verifies signed requests with the signing key in our SP "
        "metadata, so loading the metadata is enough.",
    ),
    IdPKind.SIMPLESAMLPHP: Preset(
        slo_note=(
            "SimpleSAMLphp reads our single logout URL from our SP metadata; set sign.logout to "
            "true for our SP so that its logout messages are signed."
        ),
        create_app="In SimpleSAMLphp: add this page's SP metadata to "
        "metadata/saml20-sp-remote.php (or the metarefresh module).",
        audience_field="The array key: the SP entity ID",
        acs_field="'AssertionConsumerService'",
        recipient_field="SimpleSAMLphp sets Recipient and Destination to that URL",
        name_id_field="'NameIDFormat' => 'urn:oasis:names:tc:SAML:1.1:nameid-format:"
        "emailAddress' with the saml:AttributeNameID authproc on mail",
        signing_field="'saml20.sign.response' => true, 'saml20.sign.assertion' => true, "
        "'signature.algorithm' => 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256'",
        sign_response="'saml20.sign.response' => true",
        sign_assertion="'saml20.sign.assertion' => true",
        encryption_field="'assertion.encryption' => false",
        metadata_hint="The IdP's metadata URL (…/module.php/saml/idp/metadata, or "
        "…/saml2/idp/metadata.php on 1.x), or its entity ID, SingleSignOnService and "
        "certificate.",
        issuer_label="IdP entity ID",
        sso_url_label="SingleSignOnService (HTTP-Redirect) URL",
        certificate_label="IdP certificate (cert/*.crt)",
        policy_reason="SimpleSAMLphp signs both the response and the assertion by default.",
        email_claims=("mail", "email", OID_MAIL),
        sp_certificate_note="SimpleSAMLphp checks our requests' signature only with "
        "'validate.authnrequest' => true, against the certificate in our SP metadata.",
    ),
}


def preset_for(kind: str) -> Preset:
    return PRESETS.get(kind, GENERIC)
