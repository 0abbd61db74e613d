"""Offline verification of a message object against its sender's published keys.

The rule for keys: a key counts for a message when its `kid` equals the JWS header's `kid`, it
belongs to the message's sender, its `public_key` hashes to that `kid` (RFC 7638), it was
registered no later than the message's `created_at`, and it was not revoked before the
message's `created_at`. A key revoked *after* the message was posted still verifies it: revoking
stops new posts, it does not unsign old ones. Timestamps compare as instants (RFC 3339).

Checks, in order (the first failure raises `VerificationError` naming it): `hidden` (no JWS to
check), `jws` (strict allow-list parse), `kid`, `unknown-key`, `key-owner`, `key-thumbprint`,
`key-not-yet-valid`, `key-revoked`, `signature`, `version`, `sender`, `group`, `cid`, `typ`, `hc`,
`reply-to`, `iat` (within `MAX_SKEW_SECONDS` + `COMMIT_GRACE_SECONDS` of `created_at`, the
window the server accepts posts in).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cencomm.crypto.jws import parse_compact, verify_signature
from cencomm.crypto.keys import b64url_decode, jwk_thumbprint
from cencomm.domain.envelopes import ENVELOPE_VERSION, MAX_SKEW_SECONDS
from cencomm.domain.errors import CencommError
from cencomm.verification.errors import VerificationError

# Between the server's `iat` check and the commit that stamps `created_at`.
COMMIT_GRACE_SECONDS = 60


@dataclass(frozen=True, slots=True)
class VerifiedMessage:
    """A message whose signature and claims checked out against the sender's key.

    Attributes:
        message_id: the server's id for it.
        group_id: the group it was posted to (= the signed `grp`).
        seq: its place in the group's timeline (not signed: assigned by the server).
        sender_id: the signer (= the signed `sub`).
        kid: the key that signed it.
        key_revoked_at: when that key was revoked (after the message), or None.
        typ, hc, cid, iat, body: the signed claims.
        payload: every signed claim.
    """

    message_id: str
    group_id: str
    seq: int | None
    sender_id: str
    kid: str
    key_revoked_at: str | None
    typ: str
    hc: str
    cid: str
    iat: int
    body: Any = field(repr=False)
    payload: dict[str, Any] = field(repr=False)


def parse_time(value: object, what: str) -> datetime:
    """An RFC 3339 timestamp as an aware datetime.

    Raises:
        VerificationError: check `time`, when `value` is not an RFC 3339 timestamp with offset.
    """
    if not isinstance(value, str):
        raise VerificationError("time", f"{what} is not a timestamp")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise VerificationError("time", f"{what} is not an RFC 3339 timestamp") from None
    if moment.tzinfo is None:
        raise VerificationError("time", f"{what} has no UTC offset")
    return moment


def _sender_id(message: Mapping[str, Any]) -> str:
    sender = message.get("sender")
    if isinstance(sender, Mapping) and isinstance(sender.get("id"), str):
        return str(sender["id"])
    raise VerificationError("sender", "the message names no sender id")


def _select_key(
    kid: str, sender_id: str, created_at: datetime, keys: Sequence[Mapping[str, Any]]
) -> tuple[bytes, str | None]:
    candidates = [k for k in keys if k.get("kid") == kid]
    if not candidates:
        raise VerificationError("unknown-key", f"no published key has kid {kid}")
    key = candidates[0]
    owner = key.get("user_id")
    if owner is not None and owner != sender_id:
        raise VerificationError("key-owner", f"key {kid} belongs to another user")
    try:
        raw = b64url_decode(str(key.get("public_key", "")))
    except ValueError:
        raise VerificationError("key-thumbprint", f"key {kid} is not base64url") from None
    if jwk_thumbprint(raw) != kid:
        raise VerificationError("key-thumbprint", f"the public key does not hash to kid {kid}")
    if key.get("created_at") is not None:
        registered = parse_time(key["created_at"], "the key's created_at")
        if registered > created_at:
            raise VerificationError(
                "key-not-yet-valid", f"key {kid} was registered after the message was posted"
            )
    revoked_at = key.get("revoked_at")
    if revoked_at is not None and parse_time(revoked_at, "the key's revoked_at") <= created_at:
        raise VerificationError(
            "key-revoked", f"key {kid} was revoked before the message was posted"
        )
    return raw, str(revoked_at) if revoked_at is not None else None


def _expect(check: str, claim: str, signed: object, shown: object) -> None:
    if signed != shown:
        raise VerificationError(
            check, f"the signed {claim} {signed!r} differs from the message's {shown!r}"
        )


def verify_message(
    message: Mapping[str, Any], keys: Sequence[Mapping[str, Any]]
) -> VerifiedMessage:
    """Verify a message object (as `GET /messages/{id}` returns it) against published keys.

    Args:
        message: `{id, group_id, seq, typ, hc, sender: {id, ...}, kid, jws, created_at,
            reply_to, ...}`; a `cid` member, when present, is checked too.
        keys: the sender's keys as `GET /users/{id}/keys` lists them, revoked ones included.

    Returns:
        The verified claims.

    Raises:
        VerificationError: naming the first check that failed (see the module docstring).
    """
    jws = message.get("jws")
    if jws is None:
        raise VerificationError("hidden", "the message is hidden: there is no JWS to verify")
    if not isinstance(jws, str):
        raise VerificationError("jws", "the jws member is not a string")
    try:
        parsed = parse_compact(jws)
    except CencommError as exc:
        raise VerificationError("jws", exc.detail or str(exc)) from None
    if message.get("kid") is not None and message["kid"] != parsed.kid:
        raise VerificationError("kid", "the JWS header kid differs from the message's kid")
    sender_id = _sender_id(message)
    created_at = parse_time(message.get("created_at"), "the message's created_at")
    raw, revoked_at = _select_key(parsed.kid, sender_id, created_at, keys)
    if not verify_signature(parsed, raw):
        raise VerificationError("signature", f"the signature does not verify under {parsed.kid}")

    payload = parsed.payload
    if payload.get("v") != ENVELOPE_VERSION or isinstance(payload.get("v"), bool):
        raise VerificationError("version", f"v must be {ENVELOPE_VERSION}")
    _expect("sender", "sub", payload.get("sub"), sender_id)
    _expect("group", "grp", payload.get("grp"), message.get("group_id"))
    if "cid" in message:
        _expect("cid", "cid", payload.get("cid"), message["cid"])
    _expect("typ", "typ", payload.get("typ"), message.get("typ"))
    _expect("hc", "hc", payload.get("hc"), message.get("hc"))
    if "reply_to" in message:
        _expect("reply-to", "reply_to", payload.get("reply_to"), message["reply_to"])
    iat = payload.get("iat")
    if isinstance(iat, bool) or not isinstance(iat, int):
        raise VerificationError("iat", "iat is not integer Unix seconds")
    if abs(created_at.timestamp() - iat) > MAX_SKEW_SECONDS + COMMIT_GRACE_SECONDS:
        raise VerificationError("iat", "iat is too far from the message's created_at")
    seq = message.get("seq")
    return VerifiedMessage(
        message_id=str(message.get("id")),
        group_id=str(payload["grp"]),
        seq=seq if isinstance(seq, int) and not isinstance(seq, bool) else None,
        sender_id=sender_id,
        kid=parsed.kid,
        key_revoked_at=revoked_at,
        typ=str(payload["typ"]),
        hc=str(payload["hc"]),
        cid=str(payload.get("cid")),
        iat=iat,
        body=payload.get("body"),
        payload=payload,
    )
