"""Single-field checks shared by forms, models and the management command.

Each raises ValidationError with a stable code; the messages never echo the input.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import ipaddress
import re
import string
import textwrap
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from publicsuffixlist import PublicSuffixList

ISSUER_MAX_LENGTH = 1024
MAX_UPLOAD_BYTES = 256 * 1024
# A PEM certificate is 1-3 kB (8 kB with a long SAN list); nothing longer is read, pasted or
# uploaded, so a paste can never cost more than a few milliseconds.
CERTIFICATE_MAX_LENGTH = 32 * 1024
DOMAIN_MAX_LENGTH = 253
ATTRIBUTE_NAME_MAX_LENGTH = 256  # SSOProfile.*_attribute
# Session limits (organization and profile): five minutes to ninety days. A shorter session
# cannot finish a page; a longer one is no limit.
SESSION_MINUTES_MIN = 5
SESSION_MINUTES_MAX = 90 * 24 * 60

MESSAGES = {
    "issuer_required": "Enter the IdP's Issuer ID/URL.",
    "issuer_too_long": f"The Issuer can be at most {ISSUER_MAX_LENGTH} characters long.",
    "url_invalid": "Enter a complete URL, such as https://idp.example.com/sso/saml.",
    "url_not_https": "The URL must start with https://.",
    "file_too_large": "This file is too large.",
    "certificate_required": "Paste the IdP's X.509 signing certificate.",
    "certificate_too_large": (
        f"This is too long to be one certificate (at most {CERTIFICATE_MAX_LENGTH // 1024} kB); "
        "paste only the IdP's signing certificate."
    ),
    "certificate_private_key": (
        "This is a private key. Never share it: paste the IdP's public certificate instead "
        "(it begins with -----BEGIN CERTIFICATE-----)."
    ),
    "certificate_request": (
        "This is a certificate signing request, not a certificate. Paste the IdP's signing "
        "certificate (it begins with -----BEGIN CERTIFICATE-----)."
    ),
    "certificate_missing_markers": (
        "The certificate must begin with -----BEGIN CERTIFICATE----- and end with "
        "-----END CERTIFICATE-----, or be the bare base64 text your IdP shows."
    ),
    "certificate_multiple": "Paste exactly one certificate; this text holds several.",
    "certificate_invalid": "This is not a valid X.509 certificate; copy it again from your IdP.",
    "certificate_expired": (
        "This certificate expired on %(date)s; download the current one from your IdP."
    ),
    "certificate_not_yet_valid": "This certificate is not valid until %(date)s.",
    "email_invalid": "This is not an email address an account can be kept under.",
    "attribute_name_invalid": (
        f"Enter the attribute's name as the IdP sends it (at most {ATTRIBUTE_NAME_MAX_LENGTH} "
        "characters, no spaces), such as email or "
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress."
    ),
    "attribute_name_required": "Enter the name of the attribute that carries the email.",
    "session_minutes_range": (
        f"Enter a whole number of minutes from {SESSION_MINUTES_MIN} to {SESSION_MINUTES_MAX} "
        "(90 days), or no value for no limit."
    ),
    "domain_invalid": "Enter a domain such as example.com or *.example.com.",
    "domain_too_long": f"A domain can be at most {DOMAIN_MAX_LENGTH} characters long.",
    "domain_wildcard_position": (
        "A wildcard is only allowed as the first label, as in *.example.com."
    ),
    "domain_consumer": (
        "This is a public email provider: anybody can have an address there, so it cannot be "
        "a trusted domain. Enter your organization's own domain."
    ),
    "domain_public_suffix": (
        "This is a public suffix shared by many organizations; enter your own domain, "
        "such as example.com or *.example.com."
    ),
}

_PEM_BEGIN = "-----BEGIN "
_PEM_END = "-----END "
_PEM_DASHES = "-----"
_PEM_LABEL_CHARACTERS = frozenset(string.ascii_uppercase + string.digits + " ")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_LOOPBACK_HOSTS = {"localhost"}


def error(code: str, **params: object) -> ValidationError:
    return ValidationError(MESSAGES[code], code=code, params=params or None)


def validate_upload_size(size: int) -> None:
    if size > MAX_UPLOAD_BYTES:
        raise error("file_too_large")


def validate_session_minutes(value: int | None) -> None:
    """A maximum session or authentication age in minutes; None is no limit."""
    if value is None:
        return
    if type(value) is not int or not SESSION_MINUTES_MIN <= value <= SESSION_MINUTES_MAX:
        raise error("session_minutes_range")


def validate_session_limits(limits: dict[str, int | None]) -> None:
    """`validate_session_minutes` for each named limit (a model field); the errors on their
    names, all at once."""
    errors: dict[str, ValidationError] = {}
    for name, value in limits.items():
        try:
            validate_session_minutes(value)
        except ValidationError as exc:
            errors[name] = exc
    if errors:
        raise ValidationError(errors)


def validate_attribute_name(value: str) -> str:
    """A SAML attribute name the mapping reads, stripped ('' = the preset's usual names)."""
    name = (value or "").strip()
    if len(name) > ATTRIBUTE_NAME_MAX_LENGTH or any(c.isspace() or ord(c) < 32 for c in name):
        raise error("attribute_name_invalid")
    return name


def validate_issuer(value: str) -> str:
    issuer = (value or "").strip()
    if not issuer:
        raise error("issuer_required")
    if len(issuer) > ISSUER_MAX_LENGTH:
        raise error("issuer_too_long")
    return issuer


def _is_loopback(host: str) -> bool:
    if host in _LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def validate_https_url(value: str) -> str:
    """An https URL; plain http is accepted only for loopback hosts while DEBUG is on."""
    url = (value or "").strip()
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise error("url_invalid") from None
    parts = urlsplit(url)
    if parts.scheme == "https":
        return url
    if settings.DEBUG and _is_loopback(parts.hostname or ""):
        return url
    raise error("url_not_https")


@dataclass(frozen=True)
class CertificateInfo:
    pem: str
    fingerprint_sha256: str
    subject: str
    issuer: str
    not_before: dt.datetime
    not_after: dt.datetime


def _pem_label(text: str, start: int) -> tuple[str, int] | None:
    """The label of a PEM marker whose label starts at `start`, and the index after its dashes."""
    end = start
    while end < len(text) and text[end] in _PEM_LABEL_CHARACTERS:
        end += 1
    if end == start or not text.startswith(_PEM_DASHES, end):
        return None
    return text[start:end], end + len(_PEM_DASHES)


def pem_blocks(text: str) -> list[tuple[str, str]]:
    """Every `-----BEGIN X-----body-----END X-----` block in the text, as (X, body), in order.

    Each block ends at the first END marker of its own label; text between blocks, and markers
    inside a block, are skipped. One pass over the text, whatever it holds (a regular
    expression with a back-reference took quadratic time on markers without an end).
    """
    ends: dict[str, list[int]] = {}
    position = text.find(_PEM_END)
    while position != -1:
        label = _pem_label(text, position + len(_PEM_END))
        if label is not None:
            ends.setdefault(label[0], []).append(position)
        position = text.find(_PEM_END, position + 1)
    # The END markers of each label not yet behind the scan, which only moves forward.
    next_end = dict.fromkeys(ends, 0)
    blocks: list[tuple[str, str]] = []
    position = text.find(_PEM_BEGIN)
    while position != -1:
        label = _pem_label(text, position + len(_PEM_BEGIN))
        if label is not None and label[0] in ends:
            kind, body_start = label
            candidates, index = ends[kind], next_end[kind]
            while index < len(candidates) and candidates[index] < body_start:
                index += 1
            next_end[kind] = index
            if index < len(candidates):
                body_end = candidates[index]
                blocks.append((kind, text[body_start:body_end]))
                after = body_end + len(_PEM_END) + len(kind) + len(_PEM_DASHES)
                position = text.find(_PEM_BEGIN, after)
                continue
        position = text.find(_PEM_BEGIN, position + 1)
    return blocks


# No overlap between the two parts: linear on any paste (the text is stripped first).
_BARE_BASE64 = re.compile(r"[A-Za-z0-9+/\s]+={0,2}")


def _is_private_key(body: str) -> bool:
    """A bare base64 body that is a private key (PKCS#8 or PKCS#1 DER), not a certificate."""
    try:
        serialization.load_der_private_key(base64.b64decode(body), password=None)
    except TypeError:  # encrypted: a private key all the same
        return True
    except (ValueError, binascii.Error):
        return False
    return True


def parse_certificate(value: str, *, now: dt.datetime | None = None) -> CertificateInfo:
    """Parse exactly one X.509 certificate that is valid now: PEM, or the bare base64 body
    without BEGIN/END lines that Okta and Google show on screen."""
    if len(value or "") > CERTIFICATE_MAX_LENGTH:
        raise error("certificate_too_large")
    text = (value or "").strip()
    if not text:
        raise error("certificate_required")
    blocks = pem_blocks(text)
    kinds = {kind for kind, _ in blocks}
    if any("PRIVATE KEY" in kind for kind in kinds) or "PRIVATE KEY-----" in text:
        raise error("certificate_private_key")
    if kinds & {"CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"}:
        raise error("certificate_request")
    certificates = [body for kind, body in blocks if kind == "CERTIFICATE"]
    if not blocks and "-----" not in text and _BARE_BASE64.fullmatch(text):
        body = "".join(text.split())
        certificates = ["\n" + "\n".join(textwrap.wrap(body, 64)) + "\n"]
    if not certificates:
        raise error("certificate_missing_markers")
    if len(certificates) > 1:
        raise error("certificate_multiple")
    pem = f"-----BEGIN CERTIFICATE-----{certificates[0]}-----END CERTIFICATE-----"
    try:
        certificate = x509.load_pem_x509_certificate(pem.encode())
    except ValueError:
        if not blocks:
            bare_key = _is_private_key(certificates[0])
            code = "certificate_private_key" if bare_key else "certificate_missing_markers"
            raise error(code) from None
        raise error("certificate_invalid") from None
    now = now or dt.datetime.now(dt.UTC)
    if certificate.not_valid_after_utc <= now:
        raise error("certificate_expired", date=f"{certificate.not_valid_after_utc:%Y-%m-%d}")
    if certificate.not_valid_before_utc > now + dt.timedelta(days=1):
        raise error(
            "certificate_not_yet_valid", date=f"{certificate.not_valid_before_utc:%Y-%m-%d}"
        )
    fingerprint = certificate.fingerprint(hashes.SHA256()).hex(":").upper()
    return CertificateInfo(
        pem=certificate.public_bytes(serialization.Encoding.PEM).decode(),
        fingerprint_sha256=fingerprint,
        subject=certificate.subject.rfc4514_string(),
        issuer=certificate.issuer.rfc4514_string(),
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
    )


def certificate_text_from_upload(data: bytes) -> str:
    """PEM text from an uploaded .pem/.crt (text) or .cer (often binary DER) file."""
    if len(data) > CERTIFICATE_MAX_LENGTH:
        raise error("certificate_too_large")
    if b"-----BEGIN" in data:
        try:
            return data.decode("ascii")
        except UnicodeDecodeError:
            raise error("certificate_invalid") from None
    try:
        certificate = x509.load_der_x509_certificate(data)
    except ValueError:
        raise error("certificate_invalid") from None
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


@cache
def consumer_domains() -> frozenset[str]:
    path = Path(__file__).parent / "data" / "consumer_domains.txt"
    lines = (line.strip() for line in path.read_text().splitlines())
    return frozenset(line for line in lines if line and not line.startswith("#"))


@cache
def _public_suffixes() -> PublicSuffixList:
    return PublicSuffixList()


def normalize_domain_pattern(value: str) -> str:
    """`Example.COM` -> `example.com`, `*.Bücher.de` -> `*.xn--bcher-kva.de`; refuse the rest."""
    text = (value or "").strip().rstrip(".").lower()
    wildcard = text.startswith("*.")
    host = text.removeprefix("*.")
    if "*" in host:
        raise error("domain_wildcard_position")
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise error("domain_invalid") from None
    if len(ascii_host) > DOMAIN_MAX_LENGTH:
        raise error("domain_too_long")
    labels = ascii_host.split(".")
    if not all(_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        raise error("domain_invalid")
    if _public_suffixes().is_public(ascii_host):
        raise error("domain_public_suffix")
    if len(labels) < 2:
        raise error("domain_invalid")
    if ascii_host in consumer_domains():
        raise error("domain_consumer")
    return f"*.{ascii_host}" if wildcard else ascii_host


# RFC 5322 dot-atom of ASCII atext: no quoted strings, comments, spaces or backslashes.
_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
EMAIL_MAX_LENGTH = 254


def normalize_idp_email(value: str) -> str:
    """The account key of an email address an IdP asserted, for lookup and creation alike.

    Stripped; the local part a dot-atom, lower-cased; the domain IDNA-encoded to ASCII and
    lower-cased. An address whose NFKC form differs is refused rather than folded, so that
    `carol@ｅｘａｍｐｌｅ.com` is never `carol@example.com`. Raises ValidationError
    `email_invalid`.
    """
    text = str(value).strip()
    if unicodedata.normalize("NFKC", text) != text:
        raise error("email_invalid")
    local, at, domain = text.rpartition("@")
    if not at or len(local) > 64 or not _DOT_ATOM.fullmatch(local):
        raise error("email_invalid")
    try:
        ascii_domain = domain.lower().encode("idna").decode("ascii")
        # IDNA 2003 maps some letters (ß to ss): a domain that does not come back is refused.
        folded = not domain.isascii() and ascii_domain.encode().decode("idna") != domain.lower()
    except UnicodeError:
        raise error("email_invalid") from None
    labels = ascii_domain.split(".")
    if folded or len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise error("email_invalid")
    email = f"{local.lower()}@{ascii_domain}"
    if len(email) > EMAIL_MAX_LENGTH:
        raise error("email_invalid")
    return email


def email_domain(email: str) -> str:
    """The IDNA, lower-case domain of an email address ('' when there is none)."""
    _, at, domain = (email or "").strip().rpartition("@")
    if not at or not domain:
        return ""
    try:
        return domain.rstrip(".").lower().encode("idna").decode("ascii")
    except UnicodeError:
        return ""


def same_origin_path(value: str | None) -> str:
    """`value` when it is a path on this site ('/console/?a=1'), else ''.

    Absolute and protocol-relative URLs ('//evil.test', '/\\evil.test') are never followed.
    """
    path = (value or "").strip()
    if not path.startswith("/") or path.startswith(("//", "/\\")):
        return ""
    parts = urlsplit(path)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in path):
        return ""
    return path
