"""Single-field validation: each bad input gets its own code and message."""

from __future__ import annotations

import random
import re
import time

import pytest
from django.core.exceptions import ValidationError

from sso.validators import (
    CERTIFICATE_MAX_LENGTH,
    DOMAIN_MAX_LENGTH,
    email_domain,
    normalize_domain_pattern,
    parse_certificate,
    pem_blocks,
    same_origin_path,
    validate_https_url,
    validate_issuer,
    validate_session_minutes,
)
from tests.fixtures.idp import KeyPair


def code_of(callable_, *args):
    with pytest.raises(ValidationError) as caught:
        callable_(*args)
    return caught.value.code


def test_issuer_required_and_bounded():
    assert validate_issuer("  https://idp.test/x  ") == "https://idp.test/x"
    assert code_of(validate_issuer, "   ") == "issuer_required"
    assert validate_issuer("x" * 1024) == "x" * 1024
    assert code_of(validate_issuer, "x" * 1025) == "issuer_too_long"


@pytest.mark.parametrize(
    ("url", "debug", "code"),
    [
        ("https://idp.example.com/sso", False, None),
        ("http://idp.example.com/sso", False, "url_not_https"),
        ("http://idp.example.com/sso", True, "url_not_https"),
        ("http://127.0.0.1:8080/sso", True, None),
        ("http://localhost:8080/sso", True, None),
        ("http://127.0.0.1:8080/sso", False, "url_not_https"),
        ("ftp://idp.example.com/", False, "url_invalid"),
        ("not a url", False, "url_invalid"),
        ("javascript:alert(1)", False, "url_invalid"),
    ],
)
def test_https_url(settings, url, debug, code):
    settings.DEBUG = debug
    if code is None:
        assert validate_https_url(url) == url
    else:
        assert code_of(validate_https_url, url) == code


def test_certificate_valid_is_parsed(idp_keys):
    info = parse_certificate("\n" + idp_keys.certificate_pem + "\n")
    assert info.subject == "CN=Test IdP"
    assert len(info.fingerprint_sha256) == 95
    assert info.pem.startswith("-----BEGIN CERTIFICATE-----")


def test_certificate_private_key_refused(idp_keys):
    assert code_of(parse_certificate, idp_keys.key_pem.decode()) == "certificate_private_key"
    mixed = idp_keys.certificate_pem + idp_keys.key_pem.decode()
    assert code_of(parse_certificate, mixed) == "certificate_private_key"


def test_certificate_request_refused():
    csr = "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----"
    assert code_of(parse_certificate, csr) == "certificate_request"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "certificate_required"),
        ("hello world", "certificate_missing_markers"),
        ("MIIC8DCCAdigAwIBAgIUSomeBase64WithoutMarkers", "certificate_missing_markers"),
        (
            "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----",
            "certificate_invalid",
        ),
    ],
)
def test_certificate_garbage_refused(text, code):
    assert code_of(parse_certificate, text) == code


def test_certificate_several_refused(idp_keys):
    other = KeyPair.generate("Other")
    text = idp_keys.certificate_pem + other.certificate_pem
    assert code_of(parse_certificate, text) == "certificate_multiple"


def test_certificate_expired_refused():
    expired = KeyPair.generate("Old IdP", days=10, offset_days=-20)
    with pytest.raises(ValidationError) as caught:
        parse_certificate(expired.certificate_pem)
    assert caught.value.code == "certificate_expired"
    assert "expired on" in caught.value.messages[0]


def test_certificate_longer_than_cap_refused_unread(idp_keys):
    pem = idp_keys.certificate_pem
    padded = pem + " " * (CERTIFICATE_MAX_LENGTH - len(pem))
    assert parse_certificate(padded).subject == "CN=Test IdP"
    assert code_of(parse_certificate, padded + " ") == "certificate_too_large"
    assert code_of(parse_certificate, "-----BEGIN A-----" * 4000) == "certificate_too_large"


def test_pem_blocks_unterminated_markers_take_linear_time():
    # 200 kB of BEGIN markers that never end: the back-referencing regex took ~25 s here.
    text = "-----BEGIN CERTIFICATE-----MIIB" * 6500
    started = time.perf_counter()
    assert pem_blocks(text) == []
    assert time.perf_counter() - started < 2


# What the parser must keep answering: the regular expression it replaced, on small texts.
_REFERENCE = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.DOTALL)
_PIECES = [
    "-----BEGIN CERTIFICATE-----",
    "-----END CERTIFICATE-----",
    "-----BEGIN PRIVATE KEY-----",
    "-----END PRIVATE KEY-----",
    "-----BEGIN CERTIFICATE REQUEST-----",
    "-----END CERTIFICATE REQUEST-----",
    "-----BEGIN ",
    "-----END ",
    "-----",
    "-",
    "BEGIN",
    "CERTIFICATE",
    " ",
    "\n",
    "MIIB",
    "a-b",
]


@pytest.mark.parametrize(
    "text",
    [
        "-----BEGIN CERTIFICATE-----MIIB-----END CERTIFICATE-----",
        "-----BEGIN CERTIFICATE----------END CERTIFICATE-----",
        "------BEGIN CERTIFICATE-----x-----END CERTIFICATE------",
        "-----BEGIN X-----a-----BEGIN Y-----b-----END X-----c-----END Y-----",
        "-----BEGIN X-----a-----END Y----------BEGIN Y-----b-----END Y-----",
        "-----BEGIN CERT-----a-----END CERTIFICATE-----b-----END CERT-----",
        "-----BEGIN a-----x-----END a-----",
        "-----BEGIN -----x-----END -----",
    ],
)
def test_pem_blocks_match_the_regex_they_replace(text):
    assert pem_blocks(text) == _REFERENCE.findall(text)


def test_pem_blocks_match_the_regex_they_replace_on_random_texts():
    generator = random.Random(20)
    for _ in range(3000):
        text = "".join(generator.choices(_PIECES, k=generator.randint(0, 14)))
        assert pem_blocks(text) == _REFERENCE.findall(text), text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("acme.com", "acme.com"),
        ("  ACME.com. ", "acme.com"),
        ("*.Example.com", "*.example.com"),
        ("bücher.de", "xn--bcher-kva.de"),
        ("*.eu.acme.co.uk", "*.eu.acme.co.uk"),
        ("acme.co.uk", "acme.co.uk"),
    ],
)
def test_domain_pattern_normalized(text, expected):
    assert normalize_domain_pattern(text) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("com", "domain_public_suffix"),
        ("*.com", "domain_public_suffix"),
        ("co.uk", "domain_public_suffix"),
        ("*.co.uk", "domain_public_suffix"),
        ("github.io", "domain_public_suffix"),
        ("acme.*.com", "domain_wildcard_position"),
        ("*acme.com", "domain_wildcard_position"),
        ("**.acme.com", "domain_wildcard_position"),
        ("-acme.com", "domain_invalid"),
        ("acme..com", "domain_invalid"),
        ("acme com", "domain_invalid"),
        ("user@acme.com", "domain_invalid"),
        ("https://acme.com", "domain_invalid"),
        ("10.0.0.1", "domain_invalid"),
        ("", "domain_invalid"),
    ],
)
def test_domain_pattern_refused(text, code):
    assert code_of(normalize_domain_pattern, text) == code


def test_domain_pattern_total_length_bounded():
    labels = ["a" * 63, "b" * 63, "c" * 63]
    longest = ".".join([*labels, "d" * (DOMAIN_MAX_LENGTH - 3 * 64 - 5), "test"])
    assert len(longest) == DOMAIN_MAX_LENGTH
    assert normalize_domain_pattern(longest) == longest
    assert normalize_domain_pattern(f"*.{longest}.") == f"*.{longest}"
    assert code_of(normalize_domain_pattern, "e." + longest) == "domain_too_long"
    assert code_of(normalize_domain_pattern, ".".join(["a" * 63] * 4) + ".test") == (
        "domain_too_long"
    )


def test_email_domain():
    assert email_domain("Grace@ACME.test") == "acme.test"
    assert email_domain("a@b@bücher.de") == "xn--bcher-kva.de"
    assert email_domain("no-at-sign") == ""


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/console/", "/console/"),
        ("/console/?a=1#x", "/console/?a=1#x"),
        ("https://evil.test/", ""),
        ("//evil.test/", ""),
        ("/\\evil.test", ""),
        ("javascript:alert(1)", ""),
        ("/ok\r\nSet-Cookie: x", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_same_origin_path(value, expected):
    assert same_origin_path(value) == expected


@pytest.mark.parametrize("minutes", [None, 5, 480, 129600])
def test_validate_session_minutes_accepts_none_and_five_minutes_to_ninety_days(minutes):
    validate_session_minutes(minutes)


@pytest.mark.parametrize("minutes", [0, 4, 129601, -5, True, 60.0, "60"])
def test_validate_session_minutes_refuses_the_rest_with_one_code(minutes):
    with pytest.raises(ValidationError) as refused:
        validate_session_minutes(minutes)

    assert refused.value.code == "session_minutes_range"
