"""Live events cross the bus as small JSON notices and become the frames of API.md."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from cencomm.domain.event_base import InvalidNotice
from cencomm.domain.events import (
    EVENT_TYPES,
    AlertAcknowledged,
    AlertOverdue,
    AlertRaised,
    LiveEvent,
    MembershipChange,
    MembershipChanged,
    MessageCountersigned,
    MessageHidden,
    MessagePosted,
    PostingChanged,
    ReportIdentified,
    RoleChanged,
    SessionRevoked,
    ShareRequestChanged,
    WatchMatched,
    WatchMatchFrame,
    event_from_notice,
)
from cencomm.domain.ids import AlertId, MessageId, OrganizationId
from tests.realtime.helpers import group, org, session, user

ALERT = AlertId(uuid.uuid4())
MESSAGE = MessageId(uuid.uuid4())
AT = datetime(2026, 5, 1, 12, 30, 15, 123456, tzinfo=UTC)

EVENTS: list[LiveEvent] = [
    MessagePosted(group(), 42, MESSAGE),
    MessageHidden(group(), MESSAGE),
    MessageCountersigned(group(), MESSAGE, uuid.uuid4()),
    AlertRaised(ALERT, (user(), user())),
    AlertAcknowledged(ALERT, user(), org(), AT, "controlled"),
    AlertOverdue(ALERT, (org(), org()), (user(),)),
    MembershipChanged(group(), (user(),), MembershipChange.REMOVED),
    SessionRevoked((session(), session()), user()),
    RoleChanged(user()),
    PostingChanged(),
    WatchMatched(uuid.uuid4(), user()),
    ShareRequestChanged(uuid.uuid4(), group(), "pending", (user(), user())),
    ShareRequestChanged(uuid.uuid4(), None, "approved", (user(),)),
    ReportIdentified(group(), MESSAGE, user()),
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.name)
def test_every_event_round_trips_through_json(event: LiveEvent) -> None:
    wire = json.dumps(event.to_notice())
    assert event_from_notice(json.loads(wire)) == event
    assert json.loads(wire)["event"] == event.name


def test_every_event_has_a_dotted_past_tense_wire_name() -> None:
    assert set(EVENT_TYPES) == {e.name for e in EVENTS}
    assert all("." in name for name in EVENT_TYPES)


def test_the_correlation_frame_has_its_api_shape() -> None:
    g, sender = group(), user()
    link = {"message_id": str(MESSAGE), "group_id": str(g), "seq": 1, "shared": []}
    frame = ReportIdentified(g, MESSAGE, sender).to_frame((link,))
    assert frame.to_json() == {
        "type": "correlation",
        "group_id": str(g),
        "message_id": str(MESSAGE),
        "related": [link],
    }
    assert set(ReportIdentified(g, MESSAGE, sender).to_notice()) == {
        "event", "group_id", "message_id", "sender_id",
    }  # fmt: skip


def test_notices_carry_ids_and_numbers_only() -> None:
    notice = MessagePosted(group(), 7, MESSAGE).to_notice()
    assert set(notice) == {"event", "group_id", "seq", "message_id"}


def test_frames_have_the_api_shapes() -> None:
    g = group()
    posted = MessagePosted(g, 3, MESSAGE).to_frame({"id": str(MESSAGE), "jws": "x.y.z"})
    assert posted.to_json() == {
        "type": "message",
        "group_id": str(g),
        "seq": 3,
        "message": {"id": str(MESSAGE), "jws": "x.y.z"},
    }
    assert AlertRaised(ALERT, ()).to_frame({"id": str(ALERT)}).to_json() == {
        "type": "alert",
        "alert": {"id": str(ALERT)},
    }
    u, o = user(), org()
    assert AlertAcknowledged(ALERT, u, o, AT, "seized").to_frame().to_json() == {
        "type": "alert.ack",
        "alert_id": str(ALERT),
        "user_id": str(u),
        "organization_id": str(o),
        "acknowledged_at": "2026-05-01T12:30:15.123456Z",
        "outcome": "seized",
    }
    overdue = AlertOverdue(ALERT, (OrganizationId(o),), (u,)).to_frame().to_json()
    assert overdue == {
        "type": "alert.overdue",
        "alert_id": str(ALERT),
        "organization_ids": [str(o)],
    }
    assert MessageHidden(g, MESSAGE).to_frame().to_json() == {
        "type": "message.hidden",
        "group_id": str(g),
        "message_id": str(MESSAGE),
    }
    seal = {"organization_id": str(o), "kid": "k", "jws": "a.b.c", "created_at": "t"}
    assert MessageCountersigned(g, MESSAGE, uuid.uuid4()).to_frame(seal).to_json() == {
        "type": "message.countersigned",
        "group_id": str(g),
        "message_id": str(MESSAGE),
        "countersignature": seal,
    }
    membership = MembershipChanged(g, (u,), MembershipChange.ADDED).to_frame().to_json()
    assert membership == {"type": "membership", "group_id": str(g), "change": "added"}
    watch = uuid.uuid4()
    identifier = {"kind": "container", "value": "CSQU3054383", "label": "CSQU 305438 3"}
    assert WatchMatchFrame(watch, identifier, MESSAGE, g, False).to_json() == {
        "type": "watch.match",
        "watch_id": str(watch),
        "identifier": identifier,
        "message_id": str(MESSAGE),
        "group_id": str(g),
        "elsewhere": False,
    }
    assert WatchMatchFrame(watch, identifier, None, None, True).to_json() == {
        "type": "watch.match",
        "watch_id": str(watch),
        "identifier": identifier,
        "message_id": None,
        "group_id": None,
        "elsewhere": True,
    }


@pytest.mark.parametrize(
    "notice",
    [
        [],
        "message.posted",
        {},
        {"event": "message.exploded"},
        {"event": "message.posted", "group_id": "nope", "seq": 1, "message_id": str(MESSAGE)},
        {
            "event": "message.posted",
            "group_id": str(MESSAGE),
            "seq": -1,
            "message_id": str(MESSAGE),
        },
        {
            "event": "message.posted",
            "group_id": str(MESSAGE),
            "seq": True,
            "message_id": str(MESSAGE),
        },
        {
            "event": "message.posted",
            "group_id": str(MESSAGE),
            "seq": "1",
            "message_id": str(MESSAGE),
        },
        {"event": "alert.raised", "alert_id": str(ALERT), "recipient_ids": "x"},
        {"event": "alert.raised", "alert_id": str(ALERT), "recipient_ids": [1]},
        {"event": "membership.changed", "group_id": str(ALERT), "user_ids": [], "change": "x"},
        {
            "event": "alert.acknowledged",
            "alert_id": str(ALERT),
            "user_id": str(ALERT),
            "organization_id": str(ALERT),
            "acknowledged_at": "2026-05-01T12:30:15",  # no zone
            "outcome": "received",
        },
    ],
)
def test_malformed_notices_are_rejected(notice: object) -> None:
    with pytest.raises(InvalidNotice):
        event_from_notice(notice)
