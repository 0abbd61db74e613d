"""Ed25519 keys and RFC 7638 thumbprints, plus base64url helpers."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
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


# Ed25519 curve constants (RFC 8032 section 5.1).
_P = 2**255 - 19
_D = (-121665 * pow(121666, _P - 2, _P)) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


def _decode_point(encoded: bytes) -> tuple[int, int] | None:
    """RFC 8032 5.1.3 point decoding; None for non-canonical or off-curve encodings."""
    y = int.from_bytes(encoded, "little") & ((1 << 255) - 1)
    sign = encoded[31] >> 7
    if y >= _P:
        return None
    u, v = (y * y - 1) % _P, (_D * y * y + 1) % _P
    x = (u * pow(v, 3, _P) * pow(u * pow(v, 7, _P), (_P - 5) // 8, _P)) % _P
    if (v * x * x - u) % _P != 0:
        x = (x * _SQRT_M1) % _P
        if (v * x * x - u) % _P != 0:
            return None
    if x == 0 and sign:
        return None
    if x & 1 != sign:
        x = _P - x
    return x, y


def _double(point: tuple[int, int]) -> tuple[int, int]:
    x, y = point
    t = (_D * x * x * y * y) % _P
    x3 = (2 * x * y) * pow(1 + t, _P - 2, _P) % _P
    y3 = (y * y + x * x) * pow(1 - t, _P - 2, _P) % _P
    return x3, y3


def check_ed25519_public_key(raw: bytes) -> None:
    """Refuse keys that are not canonical curve points or have small order (RFC 8032, 5.1.7).

    A small-order key makes "valid" signatures possible for many messages, so it must never
    be registered.

    Raises:
        ValueError: naming what is wrong.
    """
    if len(raw) != ED25519_KEY_BYTES:
        raise ValueError(f"an Ed25519 public key has {ED25519_KEY_BYTES} bytes, not {len(raw)}")
    point = _decode_point(raw)
    if point is None:
        raise ValueError("not a canonical point on the Ed25519 curve")
    multiple = point
    for _ in range(3):  # 8 * P: the identity exactly when P has small order
        multiple = _double(multiple)
    if multiple == (0, 1):
        raise ValueError("a small-order point is not a usable key")
