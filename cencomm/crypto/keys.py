"""Ed25519 keys and RFC 7638 thumbprints, plus base64url helpers."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519_KEY_BYTES = 32


def b64url_encode(data: bytes) -> str:
    """base64url without padding (RFC 7515 section 2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict base64url without padding: raises ValueError on any other alphabet or padding."""
    if not isinstance(text, str) or "=" in text or any(c in text for c in "+/ \n\r\t"):
        raise ValueError("not base64url without padding")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("not base64url") from None
    if b64url_encode(raw) != text:  # reject non-canonical trailing bits
        raise ValueError("not canonical base64url")
    return raw


def raw_public_key(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def jwk_thumbprint(public_key_raw: bytes) -> str:
    """RFC 7638 thumbprint (SHA-256, base64url) of the Ed25519 public key as an OKP JWK."""
    members = {"crv": "Ed25519", "kty": "OKP", "x": b64url_encode(public_key_raw)}
    canonical = json.dumps(members, sort_keys=True, separators=(",", ":")).encode("ascii")
    return b64url_encode(hashlib.sha256(canonical).digest())


def new_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()
