"""Live events, their bus notices and the WebSocket frames they become (API.md "Live events").

Three shapes, each for one hop:

* **Events** (`MessagePosted`, `AlertRaised`, …) are what a service publishes after its
  transaction commits. Class names are past tense; `name` is the dotted wire name.
* **Notices** are the JSON-safe dicts an event becomes to cross the bus between processes
  (`event.to_notice()` / `event_from_notice(notice)`). They carry only ids, numbers and small
  enumerations ("group G reached seq N", "alert A for these users"), never message or alert
  content: every process reads content from the database, so a lost notice only delays
  delivery until the next notice or a resume.
* **Frames** (`MessageFrame`, `AlertFrame`, …) are the server frames of API.md, queued per
  socket by the hub; `frame.to_json()` is what the socket sends. Frames that carry content
  (`message`, `alert`) take the already serialised JSON object from the web layer.

`SessionRevoked` and `RoleChanged` have no frame: they close the sockets of those sessions
(4401) or of that user (4409). `PostingChanged` has none either: it empties every process's
post-context cache.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, TypeAlias

from cencomm.domain.event_base import (
    OUTCOME,
    EventBase,
    FrameBase,
    InvalidNotice,
    JSONObject,
    datetime_field,
    seq_field,
    uuid_field,
    uuid_list,
)
from cencomm.domain.ids import AlertId, GroupId, MessageId, OrganizationId, SessionId, UserId


class MembershipChange(enum.StrEnum):
    ADDED = "added"
    REMOVED = "removed"


# -- frames: what a socket sends (API.md "Server frames") ---------------------------------


@dataclass(frozen=True, slots=True)
class MessageFrame(FrameBase):
    """`{"type": "message", "group_id", "seq", "message"}`; ordered per group by `seq`."""

    type: ClassVar[str] = "message"
    group_id: GroupId
    seq: int
    message: JSONObject


@dataclass(frozen=True, slots=True)
class MessageHiddenFrame(FrameBase):
    """`{"type": "message.hidden", "group_id", "message_id"}`."""

    type: ClassVar[str] = "message.hidden"
    group_id: GroupId
    message_id: MessageId


@dataclass(frozen=True, slots=True)
class MessageCountersignedFrame(FrameBase):
    """`{"type": "message.countersigned", "group_id", "message_id", "countersignature"}`."""

    type: ClassVar[str] = "message.countersigned"
    group_id: GroupId
    message_id: MessageId
    countersignature: JSONObject


@dataclass(frozen=True, slots=True)
class AlertFrame(FrameBase):
    """`{"type": "alert", "alert"}`; `alert_id` is kept for routing and is not sent twice."""

    type: ClassVar[str] = "alert"
    alert_id: AlertId
    alert: JSONObject

    def to_json(self) -> dict[str, object]:
        return {"type": self.type, "alert": dict(self.alert)}


@dataclass(frozen=True, slots=True)
class AlertAckFrame(FrameBase):
    """`{"type": "alert.ack", "alert_id", "user_id", "organization_id", "acknowledged_at",
    "outcome"}`."""

    type: ClassVar[str] = "alert.ack"
    alert_id: AlertId
    user_id: UserId
    organization_id: OrganizationId
    acknowledged_at: datetime
    outcome: str


@dataclass(frozen=True, slots=True)
class AlertOverdueFrame(FrameBase):
    """`{"type": "alert.overdue", "alert_id", "organization_ids"}`."""

    type: ClassVar[str] = "alert.overdue"
    alert_id: AlertId
    organization_ids: tuple[OrganizationId, ...]


@dataclass(frozen=True, slots=True)
class MembershipFrame(FrameBase):
    """`{"type": "membership", "group_id", "change"}`."""

    type: ClassVar[str] = "membership"
    group_id: GroupId
    change: MembershipChange


@dataclass(frozen=True, slots=True)
class WatchMatchFrame(FrameBase):
    """`{"type": "watch.match", "watch_id", "identifier", "message_id", "group_id",
    "elsewhere"}`: a new report matched one of the user's watches (`message_id` and `group_id`
    null, `elsewhere` true, when they may not read it)."""

    type: ClassVar[str] = "watch.match"
    watch_id: uuid.UUID
    identifier: JSONObject
    message_id: MessageId | None
    group_id: GroupId | None
    elsewhere: bool


@dataclass(frozen=True, slots=True)
class ShareRequestFrame(FrameBase):
    """`{"type": "share_request", "share_request_id", "group_id", "status"}`: to a target group's
    moderators when a request arrives (`group_id` theirs, `status` pending), to the requester
    when its overall status changes (`group_id` null: no other operation is named)."""

    type: ClassVar[str] = "share_request"
    share_request_id: uuid.UUID
    group_id: GroupId | None
    status: str


@dataclass(frozen=True, slots=True)
class CorrelationFrame(FrameBase):
    """`{"type": "correlation", "group_id", "message_id", "related": [{message_id, group_id,
    seq, shared}]}`: a new report links to these earlier ones (each entry already serialised,
    only what this recipient may read)."""

    type: ClassVar[str] = "correlation"
    group_id: GroupId
    message_id: MessageId
    related: tuple[JSONObject, ...]


ServerFrame: TypeAlias = (
    MessageFrame
    | MessageHiddenFrame
    | MessageCountersignedFrame
    | AlertFrame
    | AlertAckFrame
    | AlertOverdueFrame
    | MembershipFrame
    | WatchMatchFrame
    | ShareRequestFrame
    | CorrelationFrame
)


# -- events: what services publish, and their notices ------------------------------------


@dataclass(frozen=True, slots=True)
class MessagePosted(EventBase):
    """Group `group_id` reached `seq` with message `message_id` (content is read from the db)."""

    name: ClassVar[str] = "message.posted"
    group_id: GroupId
    seq: int
    message_id: MessageId

    @classmethod
    def from_notice(cls, notice: Mapping[str, object]) -> MessagePosted:
        return cls(
            GroupId(uuid_field(notice, "group_id")),
            seq_field(notice, "seq"),
            MessageId(uuid_field(notice, "message_id")),
        )

    def to_frame(self, message: JSONObject) -> MessageFrame:
        """The frame, given the message as the HTTP API serialises it."""
        return MessageFrame(self.group_id, self.seq, message)


@dataclass(frozen=True, slots=True)
class MessageHidden(EventBase):
    """A moderator hid message `message_id` of group `group_id`."""

    name: ClassVar[str] = "message.hidden"
    group_id: GroupId
    message_id: MessageId

    @classmethod
    def from_notice(cls, notice: Mapping[str, object]) -> MessageHidden:
        return cls(
            GroupId(uuid_field(notice, "group_id")), MessageId(uuid_field(notice, "message_id"))
        )

    def to_frame(self) -> MessageHiddenFrame:
        return MessageHiddenFrame(self.group_id, self.message_id)


@dataclass(frozen=True, slots=True)
class MessageCountersigned(EventBase):
    """Message `message_id` of group `group_id` got countersignature `countersignature_id`
    (content is read from the db)."""

    name: ClassVar[str] = "message.countersigned"
    group_id: GroupId
    message_id: MessageId
    countersignature_id: uuid.UUID

    @classmethod
    def from_notice(cls, notice: Mapping[str, object]) -> MessageCountersigned:
        return cls(
            GroupId(uuid_field(notice, "group_id")),
            MessageId(uuid_field(notice, "message_id")),
            uuid_field(notice, "countersignature_id"),
        )

    def to_frame(self, countersignature: JSONObject) -> MessageCountersignedFrame:
        """The frame, given the countersignature as the HTTP API serialises it."""
        return MessageCountersignedFrame(self.group_id, self.message_id, countersignature)


@dataclass(frozen=True, slots=True)
class AlertRaised(EventBase):
    """Alert `alert_id` was sent; `recipient_ids` are the users fixed as its recipients."""

    name: ClassVar[str] = "alert.raised"
    alert_id: AlertId
    recipient_ids: tuple[UserId, ...]

    @classmethod
    def from_notice(cls, notice: Mapping[str, object]) -> AlertRaised:
        return cls(
            AlertId(uuid_field(notice, "alert_id")),
            tuple(UserId(u) for u in uuid_list(notice, "recipient_ids")),
        )

    def to_frame(self, alert: JSONObject) -> AlertFrame:
        """The frame, given the alert as the HTTP API serialises it."""
        return AlertFrame(self.alert_id, alert)


@dataclass(frozen=True, slots=True)
class AlertAcknowledged(EventBase):
    """User `user_id` of `organization_id` acknowledged (or moved the outcome of) an alert."""

    name: ClassVar[str] = "alert.acknowledged"
    alert_id: AlertId
    user_id: UserId
    organization_id: OrganizationId
    acknowledged_at: datetime
    outcome: str  # received | controlled | nil_find | seized

    @classmethod
    def from_notice(cls, notice: Mapping[str, object]) -> AlertAcknowledged:
        outcome = notice.get("outcome")
        if not isinstance(outcome, str) or not OUTCOME.match(outcome):
            raise InvalidNotice("outcome: expected a short lowercase word")
        return cls(
            AlertId(uuid_field(notice, "alert_id")),
            UserId(uuid_field(notice, "user_id")),
            OrganizationId(uuid_field(notice, "organization_id")),
            datetime_field(notice, "acknowledged_at"),
            outcome,
        )

    def to_frame(self) -> AlertAckFrame:
        return AlertAckFrame(
            self.alert_id, self.user_id, self.organization_id, self.acknowledged_at, self.outcome
        )


@dataclass(frozen=True, slots=True)
class AlertOverdue(EventBase):
    """`organization_ids` missed the alert's `respond_by`; `notify_ids` are told (sender, RILO,
    moderators, admins), as resolved by the alert service when it fired."""

    name: ClassVar[str] = "alert.overdue"
    alert_id: AlertId
    organization_ids: tuple[OrganizationId, ...]
    notify_ids: tuple[UserId, ...]

    @classmethod
    def from_notice(cls, notice: Mapping[str, object]) -> AlertOverdue:
        return cls(
            AlertId(uuid_field(notice, "alert_id")),
            tuple(OrganizationId(o) for o in uuid_list(notice, "organization_ids")),
            tuple(UserId(u) for u in uuid_list(notice, "notify_ids")),
        )

    def to_frame(self) -> AlertOverdueFrame:
        return AlertOverdueFrame(self.alert_id, self.organization_ids)


@dataclass(frozen=True, slots=True)
class MembershipChanged(EventBase):
    """`user_ids` were added to or removed from group `group_id`."""

    name: ClassVar[str] = "membership.changed"
    group_id: GroupId
    user_ids: tuple[UserId, ...]
    change: MembershipChange

    @classmethod
    def from_notice(cls, notice: Mapping[str, object]) -> MembershipChanged:
        try:
            change = MembershipChange(str(notice.get("change")))
        except ValueError:
            raise InvalidNotice("change: expected 'added' or 'removed'") from None
        users = tuple(UserId(u) for u in uuid_list(notice, "user_ids"))
        return cls(GroupId(uuid_field(notice, "group_id")), users, change)

    def to_frame(self) -> MembershipFrame:
        return MembershipFrame(self.group_id, self.change)


@dataclass(frozen=True, slots=True)
class ReportIdentified(EventBase):
    """Seizure report `message_id`, carrying identifiers, was posted to `group_id` by
    `sender_id`: live delivery looks for the earlier reports it links to (`correlation`)."""

    name: ClassVar[str] = "report.identified"
    group_id: GroupId
    message_id: MessageId
    sender_id: UserId

    @classmethod
    def from_notice(cls, notice: Mapping[str, object]) -> ReportIdentified:
        return cls(
            GroupId(uuid_field(notice, "group_id")),
            MessageId(uuid_field(notice, "message_id")),
            UserId(uuid_field(notice, "sender_id")),
        )

    def to_frame(self, related: tuple[JSONObject, ...]) -> CorrelationFrame:
        """The frame, given the linked reports as one recipient may read them."""
        return CorrelationFrame(self.group_id, self.message_id, related)


@dataclass(frozen=True, slots=True)
class SessionRevoked(EventBase):
    """Sessions `session_ids` of `user_id` were revoked: their sockets close with 4401."""

    name: ClassVar[str] = "session.revoked"
    session_ids: tuple[SessionId, ...]
    user_id: UserId

    @classmethod
    def from_notice(cls, notice: Mapping[str, object]) -> SessionRevoked:
        sessions = tuple(SessionId(s) for s in uuid_list(notice, "session_ids"))
        return cls(sessions, UserId(uuid_field(notice, "user_id")))


@dataclass(frozen=True, slots=True)
class RoleChanged(EventBase):
    """User `user_id`'s global role changed: every process forgets their cached sessions and
    closes their sockets with 4409, so nothing is served with the old role."""

    name: ClassVar[str] = "user.role_changed"
    user_id: UserId

    @classmethod
    def from_notice(cls, notice: Mapping[str, object]) -> RoleChanged:
        return cls(UserId(uuid_field(notice, "user_id")))


@dataclass(frozen=True, slots=True)
class PostingChanged(EventBase):
    """Something a post reads changed (a group's row or lifecycle, a membership or its role, a
    signing key registered or revoked, an organisation, a user): every process empties its
    post-context cache. It carries nothing: such changes are rare."""

    name: ClassVar[str] = "posting.changed"

    @classmethod
    def from_notice(cls, notice: Mapping[str, object]) -> PostingChanged:
        return cls()


@dataclass(frozen=True, slots=True)
class WatchMatched(EventBase):
    """Match `match_id` of one of `user_id`'s watches was recorded; the frame is read (and who
    may read the report decided) when it is delivered."""

    name: ClassVar[str] = "watch.matched"
    match_id: uuid.UUID
    user_id: UserId

    @classmethod
    def from_notice(cls, notice: Mapping[str, object]) -> WatchMatched:
        return cls(uuid_field(notice, "match_id"), UserId(uuid_field(notice, "user_id")))


@dataclass(frozen=True, slots=True)
class ShareRequestChanged(EventBase):
    """A share request arrived for a target group (`group_id`, to its moderators `notify_ids`),
    or its overall status changed (`group_id` None, to the requester), as resolved by the share
    request service when it committed."""

    name: ClassVar[str] = "share_request.changed"
    share_request_id: uuid.UUID
    group_id: GroupId | None
    status: str
    notify_ids: tuple[UserId, ...]

    @classmethod
    def from_notice(cls, notice: Mapping[str, object]) -> ShareRequestChanged:
        status = notice.get("status")
        if not isinstance(status, str) or not OUTCOME.match(status):
            raise InvalidNotice("status: expected a share request status")
        group = (
            GroupId(uuid_field(notice, "group_id")) if notice.get("group_id") is not None else None
        )
        return cls(
            uuid_field(notice, "share_request_id"),
            group,
            status,
            tuple(UserId(u) for u in uuid_list(notice, "notify_ids")),
        )

    def to_frame(self) -> ShareRequestFrame:
        return ShareRequestFrame(self.share_request_id, self.group_id, self.status)


LiveEvent: TypeAlias = (
    MessagePosted
    | MessageHidden
    | MessageCountersigned
    | AlertRaised
    | AlertAcknowledged
    | AlertOverdue
    | MembershipChanged
    | SessionRevoked
    | RoleChanged
    | PostingChanged
    | WatchMatched
    | ShareRequestChanged
    | ReportIdentified
)

EVENT_TYPES: Mapping[str, type[LiveEvent]] = {
    cls.name: cls
    for cls in (
        MessagePosted,
        MessageHidden,
        MessageCountersigned,
        AlertRaised,
        AlertAcknowledged,
        AlertOverdue,
        MembershipChanged,
        SessionRevoked,
        RoleChanged,
        PostingChanged,
        WatchMatched,
        ShareRequestChanged,
        ReportIdentified,
    )
}


def event_from_notice(notice: object) -> LiveEvent:
    """Decode a notice (the parsed JSON of `event.to_notice()`).

    Raises:
        InvalidNotice: not an object, an unknown `event`, or a missing or malformed field.
    """
    if not isinstance(notice, Mapping):
        raise InvalidNotice("a notice must be a JSON object")
    name = notice.get("event")
    cls = EVENT_TYPES.get(name) if isinstance(name, str) else None
    if cls is None:
        raise InvalidNotice(f"unknown event {str(name)[:64]!r}")
    return cls.from_notice(notice)
