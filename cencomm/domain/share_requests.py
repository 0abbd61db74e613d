"""Cross-group share requests: asking the moderators of other operations to show their reports
that share an identifier with one's own, and their consent.

The rules, written once:
- A report "matches elsewhere" when another report carries the same identifier (kind and normal
  form) in a group the requester cannot see at all (another operation), neither report is hidden
  and neither is TLP:RED (`storage.share_requests.ShareRequestStore.matches_elsewhere`). Staff
  see every group, so for them nothing is ever elsewhere.
- The requester learns only that such a match exists: never the groups, their number, or the
  reports, until a target group's moderators consent.
- On consent the two sides are shown to each other: the requester and their report's group's
  moderators see the consenting group's matching reports, and the consenting group's moderators
  see the requester's report. Never a TLP:RED report, never a hidden one; observers never get
  TLP:AMBER+STRICT.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime

from cencomm.domain.errors import Conflict, FieldError, Invalid
from cencomm.domain.identifiers import (
    Identifier,
    IdentifierKind,
    compact,
    normal_flight,
    normal_imo,
    normal_party_name,
)
from cencomm.domain.ids import GroupId, MessageId, OrganizationId, UserId

MAX_REASON = 1000
MAX_NOTE = 1000
MAX_VALUE_CHARS = 200
# A requester's pending requests at once: enough for any investigation, a bound on the work a
# single account can ask of other operations' moderators.
MAX_PENDING_PER_REQUESTER = 100
# The matching reports one target group's consent covers (its newest); the rest of a long
# series adds nothing the requester needs to ask the right question.
MAX_MATCHES_PER_GROUP = 50


class ShareStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class ShareTarget:
    """One other group holding a matching report, and its moderators' decision."""

    group_id: GroupId
    message_ids: tuple[MessageId, ...]
    status: ShareStatus
    decided_at: datetime | None
    decided_by: UserId | None
    note: str | None


@dataclass(frozen=True, slots=True)
class ShareRequest:
    id: uuid.UUID
    requester_id: UserId
    requester_organization_id: OrganizationId
    message_id: MessageId
    group_id: GroupId  # the requester's report's group
    identifier: Identifier
    reason: str
    status: ShareStatus  # overall: see `overall_status`
    created_at: datetime
    decided_at: datetime | None
    targets: tuple[ShareTarget, ...] = ()


@dataclass(frozen=True, slots=True)
class Requester:
    """Who asks, as a target group's moderators see it (they may not read the directory)."""

    display_name: str
    organization_name: str
    country: str | None


def overall_status(statuses: list[ShareStatus]) -> ShareStatus:
    """Approved once any target group consented; rejected when every one refused."""
    if ShareStatus.APPROVED in statuses:
        return ShareStatus.APPROVED
    if statuses and all(s is ShareStatus.REJECTED for s in statuses):
        return ShareStatus.REJECTED
    return ShareStatus.PENDING


def normal_value(kind: IdentifierKind, value: str) -> str:
    """The normal form of a value as a person may type it, so that a request may quote a label
    as well as the normal form (`Müller Pharma GmbH` → `muller pharma`)."""
    if kind is IdentifierKind.PARTY:
        return normal_party_name(value)
    if kind is IdentifierKind.VESSEL:
        return normal_imo(value) or compact(value)
    if kind is IdentifierKind.FLIGHT:
        return normal_flight(value) or compact(value)
    return compact(value)


def find_identifier(identifiers: list[Identifier], kind: IdentifierKind, value: str) -> Identifier:
    """The report's identifier the request names.

    Raises:
        Invalid: (`identifier-not-in-report`) the report carries no such identifier. The
            requester may read the report, so saying so tells them nothing new.
    """
    wanted = normal_value(kind, value)
    for identifier in identifiers:
        if identifier.kind is kind and identifier.value == wanted:
            return identifier
    raise Invalid(
        "the report carries no such identifier",
        slug="identifier-not-in-report",
        errors=(FieldError("body.value", f"not a {kind.value} of this report"),),
    )


def no_match_elsewhere() -> Invalid:
    """The one answer for "nothing to ask for": no report elsewhere carries the identifier, or
    only hidden or TLP:RED ones do, or the requester's own report is hidden or TLP:RED. Always
    the same words, so the answer never tells these apart."""
    return Invalid(
        "no report of another operation can be asked for with this identifier",
        slug="no-match-elsewhere",
    )


def already_decided() -> Conflict:
    return Conflict("this group has already decided on this request", slug="share-request-decided")


def too_many_pending() -> Conflict:
    return Conflict(
        f"at most {MAX_PENDING_PER_REQUESTER} share requests may wait for an answer at once",
        slug="too-many-share-requests",
    )
