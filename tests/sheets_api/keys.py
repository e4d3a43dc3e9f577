"""Test service-account keys: a real RSA key whose `token_uri` points at the local server."""

from __future__ import annotations

import functools
import secrets
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

TEST_CLIENT_EMAIL = "journaldesk-test@journaldesk-test.iam.gserviceaccount.com"


@functools.cache
def _private_key(seed: str) -> rsa.RSAPrivateKey:
    # One key per seed per process: RSA generation is the slow part of a test.
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def make_service_account_key(
    token_uri: str, client_email: str = TEST_CLIENT_EMAIL, seed: str = "default"
) -> tuple[dict[str, Any], bytes]:
    """A service-account key (the JSON Google hands out) and its public key in PEM."""
    key = _private_key(seed)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    project = client_email.split("@", 1)[1].split(".", 1)[0]
    info = {
        "type": "service_account",
        "project_id": project,
        "private_key_id": secrets.token_hex(20),
        "private_key": private_pem,
        "client_email": client_email,
        "client_id": str(10**20 + secrets.randbelow(10**20)),
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/"
        + client_email.replace("@", "%40"),
        "universe_domain": "googleapis.com",
    }
    return info, public_pem
