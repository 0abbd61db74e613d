"""Access tokens: JWTs signed by the server with EdDSA (Ed25519), verified to RFC 8725.

The header is checked before PyJWT sees the token: only `alg`, `kid` and `typ` may appear,
`alg` must be EdDSA, `typ` must be `at+jwt` and `kid` one of our own token keys. So `none`,
HMAC with our public key, RSA, and keys or key URLs carried in the token are refused up front.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from cencomm.crypto.keys import b64url_decode

ACCESS_TOKEN_TYPE = "at+jwt"  # noqa: S105 - a media type, not a secret
AUDIENCE = "cencomm"
ALGORITHM = "EdDSA"
# Our tokens are a few hundred bytes; anything much larger is not ours and is not parsed.
MAX_TOKEN_CHARS = 4096
_ALLOWED_HEADER = frozenset({"alg", "kid", "typ"})
_REQUIRED_CLAIMS = ["exp", "iat", "sub", "sid", "jti", "iss", "aud"]


class TokenError(ValueError):
    """The token is not a valid, current access token of ours; the message says why."""


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: uuid.UUID
    session_id: uuid.UUID
    token_id: str
    issued_at: int
    expires_at: int


def issue_access_token(
    private_key: Ed25519PrivateKey,
    kid: str,
    *,
    issuer: str,
    user_id: uuid.UUID,
    session_id: uuid.UUID,
    now: datetime,
    ttl_seconds: int,
) -> str:
    issued = int(now.timestamp())
    claims = {
        "iss": issuer,
        "aud": AUDIENCE,
        "sub": str(user_id),
        "sid": str(session_id),
        "iat": issued,
        "nbf": issued,
        "exp": issued + ttl_seconds,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(
        claims, private_key, algorithm=ALGORITHM, headers={"kid": kid, "typ": ACCESS_TOKEN_TYPE}
    )


def _header(token: str) -> dict[str, object]:
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenError("not a compact JWS")
    try:
        header = json.loads(b64url_decode(parts[0]))
    except (ValueError, UnicodeDecodeError):
        raise TokenError("unreadable header") from None
    if not isinstance(header, dict):
        raise TokenError("unreadable header")
    return header


def verify_access_token(
    token: str, keys: Mapping[str, Ed25519PublicKey], *, issuer: str, now: datetime
) -> AccessClaims:
    """Check signature, header, issuer, audience, lifetime and required claims.

    Raises:
        TokenError: for any defect; callers answer 401 without echoing the reason to clients.
    """
    if not token or len(token) > MAX_TOKEN_CHARS or not token.isascii():
        raise TokenError("malformed token")
    header = _header(token)
    if set(header) - _ALLOWED_HEADER:
        raise TokenError("unexpected header members")
    if header.get("alg") != ALGORITHM:
        raise TokenError("algorithm not allowed")
    if header.get("typ") != ACCESS_TOKEN_TYPE:
        raise TokenError("not an access token")
    kid = header.get("kid")
    if not isinstance(kid, str) or kid not in keys:
        raise TokenError("unknown key")
    try:
        claims = jwt.decode(
            token,
            keys[kid],
            algorithms=[ALGORITHM],
            issuer=issuer,
            audience=AUDIENCE,
            leeway=0,
            options={"require": _REQUIRED_CLAIMS, "verify_iat": True},
        )
        _check_clock(claims, now)
        return AccessClaims(
            user_id=uuid.UUID(str(claims["sub"])),
            session_id=uuid.UUID(str(claims["sid"])),
            token_id=str(claims["jti"]),
            issued_at=int(claims["iat"]),
            expires_at=int(claims["exp"]),
        )
    except jwt.PyJWTError as exc:
        raise TokenError(type(exc).__name__) from None
    except (ValueError, TypeError):
        raise TokenError("malformed claims") from None


def _check_clock(claims: Mapping[str, object], now: datetime) -> None:
    """PyJWT compares with the system clock; repeat the checks against ours (tests fake it)."""
    instant = now.timestamp()
    exp, nbf = claims.get("exp"), claims.get("nbf", claims.get("iat"))
    if not isinstance(exp, int) or instant >= exp:
        raise TokenError("expired")
    if not isinstance(nbf, int) or nbf > instant:
        raise TokenError("not yet valid")
