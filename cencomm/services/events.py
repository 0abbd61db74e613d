"""The seam between use cases and live delivery: services publish events after they commit."""

from __future__ import annotations

from typing import Protocol

from cencomm.domain.events import (
    AlertAcknowledged,
    AlertOverdue,
    AlertRaised,
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
)

Event = (
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


class Publisher(Protocol):
    def publish(self, event: Event) -> None:
        """Hand an event to live delivery; never blocks and never raises for delivery failures."""
        ...


class LocalEvents:
    """Collects published events for in-process listeners (the live-delivery layer subscribes)."""

    def __init__(self) -> None:
        self._listeners: list[Publisher] = []

    def subscribe(self, listener: Publisher) -> None:
        self._listeners.append(listener)

    def publish(self, event: Event) -> None:
        for listener in self._listeners:
            listener.publish(event)
