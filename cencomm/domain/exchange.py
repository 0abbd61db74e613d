"""What the MISP and STIX exports of an operation are made from: its readable seizure reports and
the alerts sent to it, each with its handling code and reporting organisation."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from cencomm.domain.seizures import SeizureReport


@dataclass(frozen=True, slots=True)
class Reporter:
    """The organisation that signed a report or an alert."""

    id: uuid.UUID
    name: str
    country: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ExportedReport:
    message_id: uuid.UUID
    cid: str
    seq: int
    hc: str
    reported_at: datetime
    organization: Reporter
    report: SeizureReport


@dataclass(frozen=True, slots=True)
class ExportedAlert:
    alert_id: uuid.UUID
    cid: str
    hc: str
    title: str
    text: str
    priority: str
    ack_required: bool
    respond_by: datetime | None
    expires_at: datetime | None
    created_at: datetime
    organization: Reporter


@dataclass(frozen=True, slots=True)
class Operation:
    """The group exported, and when and for whom."""

    id: uuid.UUID
    code: str
    name: str
    description: str | None
    created_at: datetime
    exported_at: datetime
    start: date | None = None  # the `?from=` of the export, if any
    end: date | None = None

    @property
    def key(self) -> tuple[object, ...]:
        """What the event or grouping id is derived from: a dated export is another view."""
        if self.start is None and self.end is None:
            return (self.id,)
        return (self.id, self.start, self.end)
