"""AuditStore: appends entries with dense indexes; never updates or deletes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cencomm.domain.audit import AuditEntry, AuditFilter, AuditRecord
from cencomm.storage.tables import AuditEntryRow, AuditSequence

SEQUENCE_ROW_ID = 1


class AuditStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def append(self, record: AuditRecord, at: datetime) -> AuditEntry:
        """Take the next index and insert the entry, inside the caller's transaction.

        The UPDATE ... RETURNING locks the sequence row until commit (PostgreSQL row lock;
        SQLite's single writer), so indexes are dense and follow commit order.
        """
        result = await self._session.execute(
            update(AuditSequence)
            .where(AuditSequence.id == SEQUENCE_ROW_ID)
            .values(next_index=AuditSequence.next_index + 1)
            .returning(AuditSequence.next_index)
        )
        index = result.scalar_one() - 1
        entry = AuditEntry(
            index=index,
            at=at,
            action=record.action,
            actor_id=record.actor_id,
            organization_id=record.organization_id,
            target_type=record.target_type,
            target_id=record.target_id,
            group_id=record.group_id,
            ip=record.ip,
            details=record.details,
        )
        self._session.add(
            AuditEntryRow(
                index=entry.index,
                at=entry.at,
                action=entry.action,
                actor_id=entry.actor_id,
                organization_id=entry.organization_id,
                target_type=entry.target_type,
                target_id=entry.target_id,
                group_id=entry.group_id,
                ip=entry.ip,
                details=entry.details,
                leaf_hash=entry.leaf_hash(),
            )
        )
        await self._session.flush()
        return entry

    async def count(self) -> int:
        """How many entries there are: the last index plus one (indexes are dense)."""
        last = await self._session.scalar(select(func.max(AuditEntryRow.index)))
        return 0 if last is None else int(last) + 1

    async def find(self, index: int) -> AuditEntry | None:
        row = await self._session.get(AuditEntryRow, index)
        return None if row is None else to_entry(row)

    async def list_entries(
        self, where: AuditFilter, after: int | None, limit: int
    ) -> list[AuditEntry]:
        """Matching entries in index order, those after index `after` (from the first if None)."""
        query = select(AuditEntryRow).order_by(AuditEntryRow.index).limit(limit)
        if after is not None:
            query = query.where(AuditEntryRow.index > after)
        if where.actor_id is not None:
            query = query.where(AuditEntryRow.actor_id == where.actor_id)
        if where.group_id is not None:
            query = query.where(AuditEntryRow.group_id == where.group_id)
        if where.action is not None:
            query = query.where(AuditEntryRow.action == where.action)
        if where.since is not None:
            query = query.where(AuditEntryRow.at >= where.since)
        if where.until is not None:
            query = query.where(AuditEntryRow.at < where.until)
        return [to_entry(row) for row in (await self._session.scalars(query)).all()]

    async def iter_entries(self, batch: int = 5000) -> AsyncIterator[tuple[AuditEntry, bytes]]:
        """Every entry in index order with its stored leaf hash, read in batches."""
        after = -1
        while True:
            rows = (
                await self._session.scalars(
                    select(AuditEntryRow)
                    .where(AuditEntryRow.index > after)
                    .order_by(AuditEntryRow.index)
                    .limit(batch)
                )
            ).all()
            if not rows:
                return
            for row in rows:
                yield to_entry(row), row.leaf_hash
            after = rows[-1].index


def to_entry(row: AuditEntryRow) -> AuditEntry:
    return AuditEntry(
        index=row.index,
        at=row.at,
        action=row.action,
        actor_id=row.actor_id,
        organization_id=row.organization_id,
        target_type=row.target_type,
        target_id=row.target_id,
        group_id=row.group_id,
        ip=row.ip,
        details=dict(row.details),
    )
