"""SP metadata out; pasted IdP metadata in, as plain values for the IdP settings form."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from lxml import etree
from saml2 import BINDING_HTTP_REDIRECT
from saml2.config import SPConfig
from saml2.metadata import do_key_descriptor, entity_descriptor

from sso.crypto import certificate_body
from sso.models import SSOProfile
from sso.saml.config import sp_config_for
from sso.saml.facts import SAFE_PARSER, shape_problem
from sso.saml.signing import SHA1_ALGORITHMS, allowed_algorithms

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
PROTOCOL = "urn:oasis:names:tc:SAML:2.0:protocol"
ALGSUPPORT = "urn:oasis:names:tc:SAML:metadata:algsupport"
MAX_METADATA_BYTES = 1024 * 1024

MESSAGES = {
    "metadata_required": "Paste the IdP's metadata XML or choose its file.",
    "metadata_too_large": "This file is too large to be SAML metadata.",
    "metadata_doctype": "Metadata with a DOCTYPE is not accepted; export it from your IdP again.",
    "metadata_not_xml": "This is not XML. Paste the IdP's SAML metadata (it starts with <).",
    "metadata_too_complex": (
        "This XML is too complex to be one IdP's metadata (%(problem)s); export the metadata "
        "of this one application from your IdP."
    ),
    "metadata_not_saml": "This XML is not SAML metadata (no EntityDescriptor).",
    "metadata_no_idp": (
        "This metadata describes no identity provider (no IDPSSODescriptor). "
        "Did you paste the SP metadata of this page by mistake?"
    ),
    "metadata_several_idps": (
        "This metadata describes several identity providers; export the one application's "
        "metadata from your IdP."
    ),
    "metadata_no_redirect": (
        "The IdP offers no single sign-on URL with the HTTP-Redirect binding, which is required."
    ),
    "metadata_no_certificate": "The metadata holds no signing certificate.",
}


def sp_metadata_xml(profile: SSOProfile, *, config: SPConfig | None = None) -> str:
    """This profile's SP metadata: Entity ID, one HTTP-POST ACS, emailAddress, signing cert
    (and the next one, while an SP key rollover is under way).

    `config`: the profile's SPConfig, when the caller has it from djangosaml2's loader.
    """
    config = config or sp_config_for(profile)
    descriptor = entity_descriptor(config)
    # pysaml2 lists every algorithm xmlsec1 knows (MD5, SHA-1, DSA among them): keep those the
    # ACS accepts, SHA-1 aside even where a setting still tolerates it, so no IdP picks one.
    advertised = allowed_algorithms() - SHA1_ALGORITHMS
    if descriptor.extensions is not None:
        descriptor.extensions.extension_elements = [
            element
            for element in descriptor.extensions.extension_elements
            if element.namespace != ALGSUPPORT or element.attributes.get("Algorithm") in advertised
        ]
    # The SP certificate is not in the verifying config (pysaml2 would read it from a file
    # for every client it builds); the metadata is where it belongs.
    # During an SP key rollover the next certificate is published beside the current one, so
    # that the IdP trusts it before it signs (sso/profiles/sp_keys.py).
    certificates = [profile.sp_certificate_pem, profile.sp_next_certificate_pem]
    descriptor.spsso_descriptor.key_descriptor = do_key_descriptor(
        cert=[certificate_body(pem) for pem in certificates if pem],
        use=config.metadata_key_usage,
    )
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + descriptor.to_string().decode()


@dataclass(frozen=True)
class IdPMetadata:
    issuer: str
    sso_url: str
    certificates: list[str] = field(default_factory=list)
    # Its SingleLogoutService with the HTTP-Redirect binding; '' when it publishes none.
    slo_url: str = ""
    # The earliest validUntil and shortest cacheDuration stated on the document, its entity or
    # its IDPSSODescriptor; None when none is stated (or one is not a valid xs: value).
    valid_until: dt.datetime | None = None
    cache_duration: dt.timedelta | None = None


_DURATION = re.compile(
    r"P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?"
)


def _duration(text: str) -> dt.timedelta | None:
    """An xs:duration (a year taken as 365 days, a month as 30); None for a negative, empty or
    malformed one."""
    match = _DURATION.fullmatch(text.strip())
    if not match or text.strip() in ("P", "PT") or text.strip().endswith("T"):
        return None
    parts = {key: float(value) for key, value in match.groupdict().items() if value}
    days = parts.get("years", 0) * 365 + parts.get("months", 0) * 30 + parts.get("days", 0)
    try:
        return dt.timedelta(
            days=days,
            hours=parts.get("hours", 0),
            minutes=parts.get("minutes", 0),
            seconds=parts.get("seconds", 0),
        )
    except OverflowError:
        return None


def saml_instant(text: str | None) -> dt.datetime | None:
    """An xs:dateTime as an aware datetime (UTC when it names no zone); None when it is absent
    or unreadable."""
    try:
        instant = dt.datetime.fromisoformat((text or "").strip())
    except ValueError:
        return None
    return instant if instant.tzinfo else instant.replace(tzinfo=dt.UTC)


def _freshness(*elements: etree._Element) -> tuple[dt.datetime | None, dt.timedelta | None]:
    instants = [saml_instant(e.get("validUntil")) for e in elements if e.get("validUntil")]
    durations = [_duration(e.get("cacheDuration")) for e in elements if e.get("cacheDuration")]
    return (
        min((i for i in instants if i), default=None),
        min((d for d in durations if d), default=None),
    )


def field_error(code: str) -> ValidationError:
    return ValidationError(MESSAGES[code], code=code)


def _pem(body: str) -> str:
    compact = "".join(body.split())
    lines = [compact[i : i + 64] for i in range(0, len(compact), 64)]
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"


def _redirect_locations(descriptor: etree._Element, service: str) -> list[str]:
    return [
        element.get("Location", "").strip()
        for element in descriptor.findall(f"{{{MD}}}{service}")
        if element.get("Binding") == BINDING_HTTP_REDIRECT
    ]


def parse_idp_metadata(xml: bytes | str) -> IdPMetadata:
    """Issuer, HTTP-Redirect SSO and logout URLs and signing certificates of one IdP;
    ValidationError else."""
    data = xml.encode() if isinstance(xml, str) else xml
    data = data.strip()
    if not data:
        raise field_error("metadata_required")
    if len(data) > MAX_METADATA_BYTES:
        raise field_error("metadata_too_large")
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise field_error("metadata_doctype")
    try:
        root = etree.fromstring(data, SAFE_PARSER)
    except etree.XMLSyntaxError:
        raise field_error("metadata_not_xml") from None
    if problem := shape_problem(root):
        raise ValidationError(
            MESSAGES["metadata_too_complex"],
            code="metadata_too_complex",
            params={"problem": problem},
        )
    if root.tag == f"{{{MD}}}EntityDescriptor":
        entities = [root]
    elif root.tag == f"{{{MD}}}EntitiesDescriptor":
        entities = list(root.iter(f"{{{MD}}}EntityDescriptor"))
    else:
        raise field_error("metadata_not_saml")
    idps = [
        (entity, descriptor)
        for entity in entities
        for descriptor in entity.findall(f"{{{MD}}}IDPSSODescriptor")
        if PROTOCOL in descriptor.get("protocolSupportEnumeration", "")
    ]
    if not idps:
        raise field_error("metadata_no_idp")
    if len(idps) > 1:
        raise field_error("metadata_several_idps")
    entity, descriptor = idps[0]
    redirect = _redirect_locations(descriptor, "SingleSignOnService")
    if not redirect or not redirect[0]:
        raise field_error("metadata_no_redirect")
    certificates = [
        _pem(certificate.text or "")
        for key in descriptor.findall(f"{{{MD}}}KeyDescriptor")
        if key.get("use", "signing") == "signing"
        for certificate in key.iter(f"{{{DS}}}X509Certificate")
        if (certificate.text or "").strip()
    ]
    if not certificates:
        raise field_error("metadata_no_certificate")
    unique = list(dict.fromkeys(certificates))
    valid_until, cache_duration = _freshness(root, entity, descriptor)
    return IdPMetadata(
        issuer=entity.get("entityID", "").strip(),
        sso_url=redirect[0],
        certificates=unique,
        slo_url=next(iter(_redirect_locations(descriptor, "SingleLogoutService")), ""),
        valid_until=valid_until,
        cache_duration=cache_duration,
    )
