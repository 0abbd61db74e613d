"""The audit trail: the one function every service calls, inside its own transaction."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from cencomm.domain.audit import MAX_DETAILS_BYTES, AuditEntry, AuditRecord
from cencomm.domain.audit_tree import MAX_HEAD_LAG_ENTRIES
from cencomm.domain.clock import Clock
from cencomm.storage.audit import AuditStore

_PENDING = "cencomm.audit.pending"


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

    def watch(self, session: AsyncSession) -> None:
        """Count one entry appended in `session`; it counts once the transaction commits."""
        sync = session.sync_session
        if _PENDING not in sync.info:
            # Listeners live as long as the session, which is one unit of work.
            event.listen(sync, "after_commit", self._after_commit)
            event.listen(sync, "after_rollback", self._after_rollback)
            sync.info[_PENDING] = 0
        sync.info[_PENDING] += 1

    def _after_commit(self, sync: Session) -> None:
        count = sync.info.get(_PENDING, 0)
        sync.info[_PENDING] = 0
        self.committed(count)

    def committed(self, count: int) -> None:
        """`count` entries were committed outside a watched session (the batched writer)."""
        self._pending += count
        if self._pending >= self._threshold:
            self.notify()

    def _after_rollback(self, sync: Session) -> None:
        sync.info[_PENDING] = 0

    def notify(self) -> None:
        """Wake every subscriber now."""
        self._pending = 0
        for wake in self._events:
            wake.set()


class AuditTrail:
    """Appends audit entries in the caller's session, so a change and its entry commit together."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.signal = AppendSignal(MAX_HEAD_LAG_ENTRIES)

    async def append(self, session: AsyncSession, record: AuditRecord) -> AuditEntry:
        """Append one entry in the caller's open transaction.

        Raises:
            ValueError: the details are too large to be worth auditing (a programming error).
        """
        return (await self.append_many(session, [record]))[0]

    @staticmethod
    def check_details(records: Sequence[AuditRecord]) -> None:
        """Refuse oversized details (a programming error, never user input)."""
        for record in records:
            if len(json.dumps(record.details, default=str)) > MAX_DETAILS_BYTES:
                raise ValueError(
                    f"audit details of {record.action} exceed {MAX_DETAILS_BYTES} bytes"
                )

    async def append_many(
        self, session: AsyncSession, records: Sequence[AuditRecord]
    ) -> list[AuditEntry]:
        """Append several entries in one statement."""
        self.check_details(records)
        entries = await AuditStore(session).append_many(records, at=self._clock.now())
        for _ in entries:
            self.signal.watch(session)
        return entries
