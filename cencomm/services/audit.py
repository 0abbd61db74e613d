"""The audit trail: the one function every service calls, inside its own transaction."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence

from cencomm.domain.audit import MAX_DETAILS_BYTES, AuditEntry, AuditRecord
from cencomm.domain.audit_tree import MAX_HEAD_LAG_ENTRIES
from cencomm.domain.clock import Clock
from cencomm.storage.unit import Unit


class AppendSignal:
    """Wakes background audit jobs (tree heads, SIEM forwarding) once entries are committed.

    Each job subscribes an `asyncio.Event`. Every `threshold` committed entries set them all;
    the jobs also poll on a timer, so fewer entries wait at most that long (and entries written
    by other processes are picked up too).
    """

    def __init__(self, threshold: int) -> None:
        self._threshold = threshold
        self._pending = 0
        self._events: list[asyncio.Event] = []

    def subscribe(self) -> asyncio.Event:
        wake = asyncio.Event()
        self._events.append(wake)
        return wake

    def committed(self, count: int) -> None:
        """`count` entries have just been committed."""
        self._pending += count
        if self._pending >= self._threshold:
            self.notify()

    def notify(self) -> None:
        """Wake every subscriber now."""
        self._pending = 0
        for wake in self._events:
            wake.set()


class AuditTrail:
    """Appends audit entries in the caller's unit of work, so a change and its entry commit
    together."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.signal = AppendSignal(MAX_HEAD_LAG_ENTRIES)

    def append(self, unit: Unit, record: AuditRecord) -> AuditEntry:
        """Append one entry in the unit's open transaction.

        Raises:
            ValueError: the details are too large to be worth auditing (a programming error).
        """
        return self.append_many(unit, [record])[0]

    @staticmethod
    def check_details(records: Sequence[AuditRecord]) -> None:
        """Refuse oversized details (a programming error, never user input)."""
        for record in records:
            if len(json.dumps(record.details, default=str)) > MAX_DETAILS_BYTES:
                raise ValueError(
                    f"audit details of {record.action} exceed {MAX_DETAILS_BYTES} bytes"
                )

    def append_many(self, unit: Unit, records: Sequence[AuditRecord]) -> list[AuditEntry]:
        """Append several entries in one statement."""
        self.check_details(records)
        entries = unit.audit.append_many(records, at=self._clock.now())
        if entries:
            unit.after_commit(lambda: self.signal.committed(len(entries)))
        return entries
