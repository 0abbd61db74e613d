"""Audit entries: what happened, by whom, to what; and their Merkle leaf bytes."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cencomm.domain.clock import rfc3339
from cencomm.domain.ids import GroupId, OrganizationId, UserId
from cencomm.domain.users import Caller

# What `json.dumps(..., ensure_ascii=False)` writes a str with (its C version when there is one).
_encode_string = json.encoder.encode_basestring

MAX_DETAILS_BYTES = 16 * 1024


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """What a service asks the audit trail to append; the trail adds the index and time."""

    action: str
    actor_id: UserId | None = None
    organization_id: OrganizationId | None = None
    target_type: str | None = None
    target_id: str | None = None
    group_id: GroupId | None = None
    ip: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def by(
        cls,
        caller: Caller,
        action: str,
        *,
        target_type: str | None = None,
        target_id: object | None = None,
        group_id: GroupId | None = None,
        details: dict[str, Any] | None = None,
    ) -> AuditRecord:
        """A record of `action` done by `caller` (anonymous callers have no actor)."""
        principal = caller.principal
        return cls(
            action=action,
            actor_id=principal.user_id if principal else None,
            organization_id=principal.organization_id if principal else None,
            target_type=target_type,
            target_id=None if target_id is None else str(target_id),
            group_id=group_id,
            ip=caller.ip,
            details=details or {},
        )


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One leaf of the audit log. Never updated, never deleted."""

    index: int
    at: datetime
    action: str
    actor_id: uuid.UUID | None
    organization_id: uuid.UUID | None
    target_type: str | None
    target_id: str | None
    group_id: uuid.UUID | None
    ip: str | None
    details: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        """The public form of the entry (API.md, "Audit log")."""
        return {
            "index": self.index,
            "at": rfc3339(self.at),
            "actor_id": _str_or_none(self.actor_id),
            "organization_id": _str_or_none(self.organization_id),
            "action": self.action,
            "target_type": self.target_type,
            "target_id": self.target_id,
            "group_id": _str_or_none(self.group_id),
            "ip": self.ip,
            "details": self.details,
        }

    def leaf(self) -> str:
        """The exact leaf string: the entry as JSON with sorted keys and no whitespace."""
        return canonical_json(self.as_json())

    def leaf_hash(self) -> bytes:
        """RFC 9162 leaf hash: SHA-256(0x00 || leaf bytes)."""
        return hashlib.sha256(b"\x00" + self.leaf().encode("utf-8")).digest()


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Which entries `GET /audit` lists; every given field must match."""

    actor_id: uuid.UUID | None = None
    group_id: uuid.UUID | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def leaf_text(
    index: int,
    at: str,
    action: str,
    actor_id: str | None,
    organization_id: str | None,
    target_type: str | None,
    target_id: str | None,
    group_id: str | None,
    ip: str | None,
    details: str,
) -> str:
    """`AuditEntry.leaf()` spelled from parts already in their JSON form's text (`at` as
    `rfc3339` writes it, ids as `str(uuid)`, `details` as `canonical_json` writes it): the same
    string, built without the entry object and without encoding the whole entry again (`audit
    verify` spells a million of these).

    Raises:
        TypeError: a part that should be a string (or None) is not one.
    """
    return (
        f'{{"action":{_text(action)},"actor_id":{_text(actor_id)},"at":{_text(at)},'
        f'"details":{details},"group_id":{_text(group_id)},"index":{int(index)},'
        f'"ip":{_text(ip)},"organization_id":{_text(organization_id)},'
        f'"target_id":{_text(target_id)},"target_type":{_text(target_type)}}}'
    )


def _text(value: str | None) -> str:
    """A string as `canonical_json` writes it (the same escaping), or null."""
    return "null" if value is None else _encode_string(value)


# What `json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)` makes
# for every call; made once (it holds only those settings).
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(value: object) -> str:
    """Sorted keys, no whitespace, UTF-8 characters kept as they are."""
    return _CANONICAL.encode(value)


def _str_or_none(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)
