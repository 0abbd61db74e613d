"""Compact JWS (RFC 7515) with Ed25519: a strict allow-list parser, verification and signing."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from cencomm.crypto.keys import ED25519_KEY_BYTES, b64url_decode, b64url_encode
from cencomm.domain.errors import FieldError, Invalid, TooLarge

JWS_TYP = "cencomm+jws"
# "Ed25519" is the fully specified name of RFC 9864; "EdDSA" (RFC 8037) is its older spelling.
ALLOWED_ALGS: frozenset[str] = frozenset({"Ed25519", "EdDSA"})
HEADER_MEMBERS: frozenset[str] = frozenset({"alg", "kid", "typ"})
MAX_JWS_BYTES = 256 * 1024
MAX_KID_CHARS = 128
SIGNATURE_BYTES = 64
# Envelopes are shallow (payload.body.items[0].field); a deep nest is only ever an attack.
MAX_JSON_DEPTH = 32


@dataclass(frozen=True, slots=True)
class ParsedJws:
    """A compact JWS that passed the structural allow-list; its signature is NOT yet verified."""

    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes
    raw: str

    @property
    def alg(self) -> str:
        return str(self.header["alg"])

    @property
    def kid(self) -> str:
        return str(self.header["kid"])


class _DuplicateKeyError(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _DuplicateKeyError("duplicate key")
    return result


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400 parses as inf without reaching parse_constant
        raise ValueError("number out of range")
    return value


def _check_tree(value: Any) -> None:
    """Refuse over-deep nesting and strings that are not valid Unicode (lone surrogates)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise ValueError("nested too deeply")
        if isinstance(item, str):
            item.encode("utf-8")  # raises UnicodeEncodeError (a ValueError) on lone surrogates
        elif isinstance(item, dict):
            for key, member in item.items():
                key.encode("utf-8")
                stack.append((member, depth + 1))
        elif isinstance(item, list):
            stack.extend((member, depth + 1) for member in item)


def _invalid(detail: str, field: str) -> Invalid:
    return Invalid(
        detail,
        slug="invalid-jws",
        errors=(FieldError(field, detail),),
    )


def _decode_json_object(segment: str, what: str) -> dict[str, Any]:
    """base64url → UTF-8 → JSON object, refusing duplicate keys, NaN/Infinity and deep nesting."""
    field = f"jws.{what}"
    try:
        raw = b64url_decode(segment)
    except ValueError:
        raise _invalid(f"the {what} is not canonical base64url without padding", field) from None
    try:
        text = raw.decode("utf-8")
        value = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_constant=_no_constants,
            parse_float=_finite_float,
        )
        _check_tree(value)
    except _DuplicateKeyError:
        raise _invalid(f"the {what} has a duplicate JSON key", field) from None
    except (ValueError, RecursionError):
        # UnicodeDecodeError and JSONDecodeError are both ValueErrors.
        raise _invalid(f"the {what} is not valid UTF-8 JSON", field) from None
    if not isinstance(value, dict):
        raise _invalid(f"the {what} is not a JSON object", field)
    return value


def _check_header(header: dict[str, Any]) -> None:
    extra = sorted(set(header) - HEADER_MEMBERS)
    if extra:
        # jwk, jku, x5u, x5c, crit, b64, ... would let a token choose its own key or semantics.
        raise _invalid(f"header member {extra[0]!r} is not allowed", f"jws.header.{extra[0]}")
    missing = sorted(HEADER_MEMBERS - set(header))
    if missing:
        raise _invalid(f"header member {missing[0]!r} is missing", f"jws.header.{missing[0]}")
    if not isinstance(header["alg"], str) or header["alg"] not in ALLOWED_ALGS:
        raise _invalid("alg must be Ed25519 or EdDSA", "jws.header.alg")
    if not isinstance(header["typ"], str) or header["typ"] != JWS_TYP:
        raise _invalid(f"typ must be {JWS_TYP}", "jws.header.typ")
    kid = header["kid"]
    if not isinstance(kid, str) or not kid or len(kid) > MAX_KID_CHARS:
        raise _invalid(f"kid must be a string of 1 to {MAX_KID_CHARS} characters", "jws.header.kid")


def parse_compact(jws: str, max_bytes: int = MAX_JWS_BYTES) -> ParsedJws:
    """Parse a compact JWS against the explicit allow-list; does not verify the signature.

    Checks, in this order: size; ASCII with exactly three non-empty dot-separated parts;
    header (canonical base64url, UTF-8 JSON object, no duplicate keys, exactly alg/kid/typ,
    alg Ed25519|EdDSA, typ cencomm+jws, kid 1..128 chars); payload (canonical base64url,
    UTF-8 JSON object, no duplicate keys, no NaN/Infinity); signature (canonical base64url,
    exactly 64 bytes). `errors[0].field` names the part that failed (`jws`, `jws.header`,
    `jws.header.<member>`, `jws.payload`, `jws.signature`).

    Raises:
        TooLarge: slug `jws-too-large` when the string exceeds `max_bytes`.
        Invalid: slug `invalid-jws` for any structural, encoding or header failure.
    """
    if not isinstance(jws, str):
        raise _invalid("the JWS must be a string", "jws")
    if len(jws) > max_bytes:
        raise TooLarge(f"the JWS exceeds {max_bytes} bytes", slug="jws-too-large")
    if not jws.isascii():
        raise _invalid("the JWS must be ASCII", "jws")
    parts = jws.split(".")
    if len(parts) != 3 or not all(parts):
        raise _invalid("the JWS must have exactly three non-empty parts", "jws")
    header_b64, payload_b64, signature_b64 = parts
    header = _decode_json_object(header_b64, "header")
    _check_header(header)
    payload = _decode_json_object(payload_b64, "payload")
    try:
        signature = b64url_decode(signature_b64)
    except ValueError:
        raise _invalid("the signature is not canonical base64url", "jws.signature") from None
    if len(signature) != SIGNATURE_BYTES:
        raise _invalid(f"the signature must be {SIGNATURE_BYTES} bytes", "jws.signature")
    return ParsedJws(
        header=header,
        payload=payload,
        signing_input=f"{header_b64}.{payload_b64}".encode("ascii"),
        signature=signature,
        raw=jws,
    )


def verify_signature(parsed: ParsedJws, public_key_raw: bytes) -> bool:
    """True when the signature verifies under the raw 32-byte Ed25519 public key."""
    if len(public_key_raw) != ED25519_KEY_BYTES:
        return False
    try:
        key = Ed25519PublicKey.from_public_bytes(public_key_raw)
        key.verify(parsed.signature, parsed.signing_input)
    except (InvalidSignature, ValueError):
        return False
    return True


def encode_json(value: Mapping[str, Any]) -> bytes:
    """Compact UTF-8 JSON, as signed: no whitespace, no NaN/Infinity."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode(
        "utf-8"
    )


def sign_compact(
    payload: Mapping[str, Any], private_key: Ed25519PrivateKey, kid: str, alg: str = "Ed25519"
) -> str:
    """Sign `payload` as a compact JWS with header exactly {alg, kid, typ: cencomm+jws}.

    Raises:
        ValueError: `alg` is not Ed25519 or EdDSA, or `kid` is empty or too long.
    """
    if alg not in ALLOWED_ALGS:
        raise ValueError("alg must be Ed25519 or EdDSA")
    if not kid or len(kid) > MAX_KID_CHARS:
        raise ValueError(f"kid must be 1 to {MAX_KID_CHARS} characters")
    header = {"alg": alg, "kid": kid, "typ": JWS_TYP}
    signing_input = f"{b64url_encode(encode_json(header))}.{b64url_encode(encode_json(payload))}"
    signature = private_key.sign(signing_input.encode("ascii"))
    return f"{signing_input}.{b64url_encode(signature)}"
