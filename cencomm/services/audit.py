"""The audit trail: the one function every service calls, inside its own transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from cencomm.domain.audit import MAX_DETAILS_BYTES, AuditEntry, AuditRecord
from cencomm.domain.clock import Clock
from cencomm.storage.audit import AuditStore
from cencomm.storage.db import Database


class AuditTrail:
    """Appends audit entries in the caller's session, so a change and its entry commit together."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    async def append(self, session: AsyncSession, record: AuditRecord) -> AuditEntry:
        """Append one entry in the caller's open transaction.

        Raises:
            ValueError: the details are too large to be worth auditing (a programming error).
        """
        if len(json.dumps(record.details, default=str)) > MAX_DETAILS_BYTES:
            raise ValueError(f"audit details of {record.action} exceed {MAX_DETAILS_BYTES} bytes")
        return await AuditStore(session).append(record, at=self._clock.now())


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """The outcome of `verify_entries`: how many entries were checked and the first problem."""

    checked: int
    first_bad_index: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


async def verify_entries(db: Database) -> VerifyReport:
    """Recompute every leaf hash and check the numbering is dense from 0.

    The Merkle roots and signed tree heads are checked as well once the audit log issue lands.
    """
    checked = 0
    async with db.read() as session:
        async for entry, stored_hash in AuditStore(session).iter_entries():
            if entry.index != checked:
                return VerifyReport(checked, checked, f"entry {checked} is missing")
            if entry.leaf_hash() != stored_hash:
                return VerifyReport(checked, entry.index, f"entry {entry.index} was altered")
            checked += 1
    return VerifyReport(checked)
