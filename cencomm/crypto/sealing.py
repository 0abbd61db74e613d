"""Small secrets sealed at rest (TOTP seeds) with AES-256-GCM under the master key."""

from __future__ import annotations

import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION = b"\x01"
_NONCE_BYTES = 12


def seal(key: bytes, plaintext: bytes, context: bytes) -> bytes:
    """version || nonce || ciphertext+tag; `context` (e.g. the user id) is bound as AAD."""
    nonce = secrets.token_bytes(_NONCE_BYTES)
    return _VERSION + nonce + AESGCM(key).encrypt(nonce, plaintext, _VERSION + context)


def unseal(key: bytes, sealed: bytes, context: bytes) -> bytes:
    """Raises ValueError when altered, moved to another context or sealed by another key."""
    if len(sealed) < 1 + _NONCE_BYTES + 16 or sealed[:1] != _VERSION:
        raise ValueError("not a sealed secret")
    nonce, body = sealed[1 : 1 + _NONCE_BYTES], sealed[1 + _NONCE_BYTES :]
    try:
        return AESGCM(key).decrypt(nonce, body, _VERSION + context)
    except InvalidTag:
        raise ValueError("sealed secret does not authenticate") from None
