"""Key material: the SP key pair of each profile, and its encryption at rest."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.x509.oid import NameOID
from django.conf import settings

SP_CERTIFICATE_DAYS = 3650


@dataclass(frozen=True)
class SPKeyPair:
    certificate_pem: str
    private_key_encrypted: str


def _fernet_for(secret: str) -> Fernet:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"admin-center-sp-keys", info=b"fernet"
    ).derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def _key_cipher() -> MultiFernet:
    secrets = [settings.SSO_KEY_ENCRYPTION_SECRET, *settings.SSO_KEY_ENCRYPTION_OLD_SECRETS]
    return MultiFernet([_fernet_for(secret) for secret in secrets])


def encrypt_private_key(pem: bytes) -> str:
    return _key_cipher().encrypt(pem).decode()


def decrypt_private_key(token: str) -> rsa.RSAPrivateKey:
    pem = _key_cipher().decrypt(token.encode())
    key = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def reencrypt_private_key(token: str) -> str:
    """Re-encrypt under the current secret (for rotating SSO_KEY_ENCRYPTION_SECRET)."""
    return _key_cipher().rotate(token.encode()).decode()


def generate_sp_key_pair(common_name: str) -> SPKeyPair:
    """A fresh RSA-2048 key and a self-signed certificate for signing AuthnRequests."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=SP_CERTIFICATE_DAYS))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return SPKeyPair(
        certificate_pem=certificate.public_bytes(serialization.Encoding.PEM).decode(),
        private_key_encrypted=encrypt_private_key(key_pem),
    )


def certificate_body(pem: str) -> str:
    """The base64 body of a PEM certificate, as SAML metadata's X509Certificate wants it."""
    return "".join(line for line in pem.strip().splitlines() if not line.startswith("-----"))


def fingerprint_of(certificate_base64: str) -> str:
    """SHA-256 fingerprint (AA:BB:...) of a base64 DER certificate, as a KeyInfo carries it."""
    try:
        der = base64.b64decode(certificate_base64, validate=False)
    except ValueError:
        return ""
    return hashlib.sha256(der).digest().hex(":").upper() if der else ""
