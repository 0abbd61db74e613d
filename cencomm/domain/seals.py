"""Organisation seals: seal keys, seal holders, and the claims of a countersignature.

An administration stands behind a report by countersigning it with its organisation's seal
key: a compact JWS (header exactly as for messages) whose payload names the message and the
SHA-256 of the message's JWS, so the seal covers exactly what the officer signed.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cencomm.domain.envelopes import is_canonical_uuid
from cencomm.domain.errors import FieldError, Invalid
from cencomm.domain.ids import MessageId, OrganizationId, UserId

COUNTERSIGNATURE_VERSION = 1
COUNTERSIGNATURE_TYP = "countersignature"
MAX_SKEW_SECONDS = 300
CLAIMS = frozenset({"v", "typ", "cid", "sub", "iat", "org", "msg", "sha256"})
# A countersignature's payload is eight short claims; a JWS past this is not one.
MAX_COUNTERSIGNATURE_BYTES = 4096
# Seal keys of one organisation listed at once (rotation keeps a handful).
MAX_ORGANIZATION_KEYS = 500
MAX_SEAL_HOLDERS = 500

_SHA256_RE = re.compile(r"[0-9a-f]{64}", re.ASCII)


@dataclass(frozen=True, slots=True)
class OrganizationKey:
    """An organisation's Ed25519 seal key; revoked keys are kept so old seals verify."""

    kid: str
    organization_id: OrganizationId
    public_key: bytes
    label: str | None
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True, slots=True)
class SealHolder:
    organization_id: OrganizationId
    user_id: UserId
    designated_at: datetime


@dataclass(frozen=True, slots=True)
class Countersignature:
    """An organisation's seal on a message, stored verbatim."""

    id: uuid.UUID
    message_id: MessageId
    organization_id: OrganizationId
    kid: str
    signer_id: UserId
    cid: str
    jws: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CountersignOutcome:
    countersignature: Countersignature
    created: bool


def jws_sha256(jws: str) -> str:
    """The hex SHA-256 of a compact JWS's ASCII: what a countersignature's `sha256` names."""
    return hashlib.sha256(jws.encode("ascii")).hexdigest()


def _invalid(slug: str, field: str, message: str) -> Invalid:
    return Invalid(f"{field}: {message}", slug=slug, errors=(FieldError(field, message),))


def check_countersignature_claims(
    payload: dict[str, Any],
    *,
    expected_sub: str,
    expected_org: str,
    message_id: str,
    message_jws: str,
    now: int,
    max_skew: int = MAX_SKEW_SECONDS,
) -> str:
    """Check the claims of a countersignature whose signature has verified; returns its `cid`.

    In this order, first failure wins: claim set and `v` (`invalid-claims`), `typ`
    (`unknown-typ`), `cid` (`invalid-claims`), `sub` (`sender-mismatch`), `iat` (`stale-iat`),
    `org` (`organization-mismatch`), `msg` (`message-mismatch`), `sha256` (`invalid-claims` when
    malformed, `hash-mismatch` when it is not the message JWS's).

    Raises:
        Invalid: with one of the slugs above and a FieldError naming the claim.
    """
    for key in sorted(payload):
        if key not in CLAIMS:
            raise _invalid("invalid-claims", f"jws.payload.{key}", "claim not allowed")
    for key in sorted(CLAIMS):
        if key not in payload:
            raise _invalid("invalid-claims", f"jws.payload.{key}", "claim is required")
    version = payload["v"]
    if type(version) is not int or version != COUNTERSIGNATURE_VERSION:
        raise _invalid("invalid-claims", "jws.payload.v", f"must be {COUNTERSIGNATURE_VERSION}")
    if payload["typ"] != COUNTERSIGNATURE_TYP:
        raise _invalid("unknown-typ", "jws.payload.typ", f"must be {COUNTERSIGNATURE_TYP}")
    cid = payload["cid"]
    if not is_canonical_uuid(cid):
        raise _invalid(
            "invalid-claims", "jws.payload.cid", "must be a UUID in canonical lower-case form"
        )
    if payload["sub"] != expected_sub:
        raise _invalid("sender-mismatch", "jws.payload.sub", "must be the authenticated user")
    iat = payload["iat"]
    if type(iat) is not int:
        raise _invalid("stale-iat", "jws.payload.iat", "must be integer Unix seconds")
    if abs(now - iat) > max_skew:
        raise _invalid("stale-iat", "jws.payload.iat", f"must be within {max_skew} s")
    if payload["org"] != expected_org:
        raise _invalid(
            "organization-mismatch",
            "jws.payload.org",
            "must be the organisation of the message's sender",
        )
    if payload["msg"] != message_id:
        raise _invalid("message-mismatch", "jws.payload.msg", "must be the message in the URL")
    sha256 = payload["sha256"]
    if not isinstance(sha256, str) or _SHA256_RE.fullmatch(sha256) is None:
        raise _invalid("invalid-claims", "jws.payload.sha256", "must be 64 lower-case hex digits")
    if sha256 != jws_sha256(message_jws):
        raise _invalid(
            "hash-mismatch",
            "jws.payload.sha256",
            "is not the SHA-256 of the message's JWS",
        )
    return str(cid)
