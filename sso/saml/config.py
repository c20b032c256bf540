"""The pysaml2 SP configuration of one profile, built from its database row.

djangosaml2 assumes one static SP; here every profile is its own SP with its own Entity ID,
ACS URL, key pair and single trusted IdP, so the config is always built per profile.
"""

from __future__ import annotations

from functools import lru_cache
from xml.sax.saxutils import escape, quoteattr

from cryptography.hazmat.primitives import hashes
from django.conf import settings
from django.http import Http404, HttpRequest
from django.urls import reverse
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.attribute_converter import AttributeConverter
from saml2.config import SPConfig
from saml2.saml import (
    NAME_FORMAT_BASIC,
    NAME_FORMAT_UNSPECIFIED,
    NAME_FORMAT_URI,
    NAMEID_FORMAT_EMAILADDRESS,
)
from saml2.sigver import RSASigner, get_xmlsec_binary
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from sso.cache import LocalLRU
from sso.crypto import certificate_body, decrypt_private_key
from sso.models import SSOProfile
from sso.saml.pysaml2.client import ProfileSaml2Client
from sso.saml.pysaml2.signature import ReceivedDocument
from sso.saml.signing import ASSERTION, RESPONSE, required_signatures


@lru_cache(maxsize=4096)
def _public_url(base_url: str, view: str, sid: str) -> str:
    return base_url + reverse(view, args=[sid])


def sp_entity_id(profile: SSOProfile) -> str:
    return _public_url(settings.SSO_PUBLIC_BASE_URL, "sso:saml2_metadata", profile.sid)


def sp_acs_url(profile: SSOProfile) -> str:
    return _public_url(settings.SSO_PUBLIC_BASE_URL, "sso:saml2_acs", profile.sid)


def sp_slo_url(profile: SSOProfile) -> str:
    return _public_url(settings.SSO_PUBLIC_BASE_URL, "sso:saml2_slo", profile.sid)


def _xmlsec_binary() -> str:
    return settings.SSO_XMLSEC_BINARY or get_xmlsec_binary(["/usr/bin", "/usr/local/bin"])


def idp_metadata_xml(profile: SSOProfile) -> str:
    """The profile's IdP as SAML metadata: pysaml2 trusts exactly these certificates, and sends
    logout messages to its single logout URL when it has one."""
    key_descriptors = "".join(
        '<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>'
        f"{certificate_body(certificate.pem)}"
        "</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
        for certificate in profile.certificates.all()
    )
    single_logout = (
        f'<md:SingleLogoutService Binding="{BINDING_HTTP_REDIRECT}" '
        f"Location={quoteattr(profile.idp_slo_url)}/>"
        if profile.idp_slo_url
        else ""
    )
    return (
        '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
        f'xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID={quoteattr(profile.idp_issuer)}>'
        '<md:IDPSSODescriptor WantAuthnRequestsSigned="true" '
        'protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
        f"{key_descriptors}"
        f"{single_logout}"
        f"<md:NameIDFormat>{NAMEID_FORMAT_EMAILADDRESS}</md:NameIDFormat>"
        f'<md:SingleSignOnService Binding="{BINDING_HTTP_REDIRECT}" '
        f"Location={quoteattr(profile.idp_sso_url)}/>"
        "</md:IDPSSODescriptor></md:EntityDescriptor>"
    )


_CONFIGS: LocalLRU[tuple, SPConfig] = LocalLRU(maxsize=512)


def _config_version(profile: SSOProfile, allow_unsolicited: bool) -> tuple:
    """Everything a profile's SPConfig is built from: a change to any of it is a new config."""
    return (
        profile.sid,
        profile.updated_at,
        profile.idp_issuer,
        profile.idp_sso_url,
        profile.idp_slo_url,
        profile.signature_policy,
        tuple(sorted(c.fingerprint_sha256 for c in profile.certificates.all())),
        allow_unsolicited,
        settings.SSO_PUBLIC_BASE_URL,
        settings.SSO_CLOCK_SKEW_SECONDS,
    )


def sp_config_for(profile: SSOProfile, *, allow_unsolicited: bool = False) -> SPConfig:
    """This profile's SPConfig, built once and reused until the profile changes.

    pysaml2 only reads a config after loading it; each profile gets its own.
    """
    key = _config_version(profile, allow_unsolicited)
    config = _CONFIGS.get(key)
    if config is None:
        config = _build_sp_config(profile, allow_unsolicited=allow_unsolicited)
        _CONFIGS.set(key, config)
    return config


def saml_client_for(
    profile: SSOProfile,
    *,
    allow_unsolicited: bool = False,
    received: ReceivedDocument | None = None,
    config: SPConfig | None = None,
) -> ProfileSaml2Client:
    """A pysaml2 client for this profile, verifying signatures with the configured backend.

    `received`: the response it will verify, already parsed (the in-process backend reuses it).
    `config`: the profile's SPConfig when the caller has it (from djangosaml2's config loader).
    """
    return ProfileSaml2Client(
        config or sp_config_for(profile, allow_unsolicited=allow_unsolicited),
        in_process=settings.SSO_SIGNATURE_BACKEND == "inprocess",
        received=received,
    )


def _name_keeping_converter(name_format: str) -> AttributeConverter:
    # An empty map: pysaml2 hands every attribute on under its own Name (lcd_ava_from).
    converter = AttributeConverter()
    converter.from_dict({"identifier": name_format, "fro": {}, "to": {}})
    return converter


_KEEP_NAMES = [
    _name_keeping_converter(name_format)
    for name_format in (NAME_FORMAT_UNSPECIFIED, NAME_FORMAT_BASIC, NAME_FORMAT_URI)
]


def _build_sp_config(profile: SSOProfile, *, allow_unsolicited: bool) -> SPConfig:
    # pysaml2 requires what the policy requires and verifies every other signature it finds.
    required = required_signatures(profile.signature_policy)
    service: dict = {
        "name": escape(profile.name),
        "endpoints": {
            "assertion_consumer_service": [(sp_acs_url(profile), BINDING_HTTP_POST)],
            # Logout by HTTP-Redirect only: a top-level navigation carries the session cookie
            # back with the LogoutResponse, which a cross-site POST would not.
            "single_logout_service": [(sp_slo_url(profile), BINDING_HTTP_REDIRECT)],
        },
        "allow_unsolicited": allow_unsolicited,
        "authn_requests_signed": True,
        "logout_requests_signed": True,
        "logout_responses_signed": True,
        "want_response_signed": RESPONSE in required,
        "want_assertions_signed": ASSERTION in required,
        "name_id_format": NAMEID_FORMAT_EMAILADDRESS,
        "name_id_format_allow_create": False,
        "signing_algorithm": SIG_RSA_SHA256,
        "digest_algorithm": DIGEST_SHA256,
        "only_use_keys_in_metadata": True,
    }
    config: dict = {
        "entityid": sp_entity_id(profile),
        "crypto_backend": "xmlsec1",
        "xmlsec_binary": _xmlsec_binary(),
        "service": {"sp": service},
        "accepted_time_diff": settings.SSO_CLOCK_SKEW_SECONDS,
        "delete_tmpfiles": True,
        "allow_unknown_attributes": True,
    }
    if profile.is_configured:
        config["metadata"] = {"inline": [idp_metadata_xml(profile)]}
    sp_config = SPConfig()
    sp_config.load(config)
    # pysaml2's stock attribute maps rename claims (Entra's and AD FS's ws/2005 claim URIs to
    # emailAddress/givenName/group, Shibboleth's urn:oid names to mail/sn): keep the names the
    # IdP sent, which are the names its admin console shows and the presets list.
    sp_config.attribute_converters = _KEEP_NAMES
    return sp_config


class ProfileSigningKey:
    """Signs HTTP-Redirect AuthnRequests with the profile's key, held only in memory.

    pysaml2's own RSACrypto stores the key on a signer object shared by the whole process;
    a fresh signer per call keeps two profiles' keys from ever crossing.
    """

    def __init__(self, profile: SSOProfile) -> None:
        self._key = decrypt_private_key(profile.sp_private_key_encrypted)

    def get_signer(self, sigalg: str, sigkey: object = None) -> RSASigner | None:
        if sigalg != SIG_RSA_SHA256:
            return None
        return RSASigner(hashes.SHA256(), key=self._key)


def profile_for_request(request: HttpRequest) -> SSOProfile:
    """The profile the URL names (`<sid>`), never one named in POST data; read once a request."""
    profile = getattr(request, "_sso_profile", None)
    if profile is None:
        match = request.resolver_match
        sid = match.kwargs.get("sid") if match else None
        if not sid:
            raise Http404("No SSO profile in this URL.")
        try:
            profile = SSOProfile.objects.select_related("organization").get(sid=sid)
        except SSOProfile.DoesNotExist:
            raise Http404("No such SSO profile.") from None
        request._sso_profile = profile
    return profile


def sp_config_for_request(request: HttpRequest | None = None) -> SPConfig:
    """djangosaml2's SAML_CONFIG_LOADER (`djangosaml2.conf.get_config`): the SPConfig of the
    profile the URL names."""
    if request is None:
        raise Http404("No SSO profile in this URL.")
    profile = profile_for_request(request)
    return sp_config_for(profile, allow_unsolicited=profile.allow_idp_initiated)
