"""AuditStore: appends entries with dense indexes; never updates or deletes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from cencomm.domain.audit import AuditEntry, AuditFilter, AuditRecord
from cencomm.storage.tables import AuditEntryRow, AuditSequence, core_table

SEQUENCE_ROW_ID = 1

# Built once (every post appends an entry; building a statement costs more than running it).
_sequence = core_table(AuditSequence)
_TAKE_INDEXES = (
    update(_sequence)
    .where(_sequence.c.id == SEQUENCE_ROW_ID)
    .values(next_index=_sequence.c.next_index + bindparam("taken"))
    .returning(_sequence.c.next_index)
)
_INSERT_ENTRIES = insert(core_table(AuditEntryRow))


class AuditStore:
    def __init__(self, session: Session) -> None:
        self._session = session

    def append(self, record: AuditRecord, at: datetime) -> AuditEntry:
        """Take the next index and insert the entry, inside the caller's transaction."""
        return (self.append_many([record], at))[0]

    def append_many(self, records: Sequence[AuditRecord], at: datetime) -> list[AuditEntry]:
        """Take the next `len(records)` indexes at once and insert the entries in one statement."""
        return append_entries(self._session.connection(), records, at)

    def count(self) -> int:
        """How many entries there are: the last index plus one (indexes are dense)."""
        last = self._session.scalar(select(func.max(AuditEntryRow.index)))
        return 0 if last is None else int(last) + 1

    def find(self, index: int) -> AuditEntry | None:
        row = self._session.get(AuditEntryRow, index)
        return None if row is None else to_entry(row)

    def list_entries(self, where: AuditFilter, after: int | None, limit: int) -> list[AuditEntry]:
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
        return [to_entry(row) for row in (self._session.scalars(query)).all()]


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


def append_entries(
    connection: Connection, records: Sequence[AuditRecord], at: datetime
) -> list[AuditEntry]:
    """Append entries in the connection's open transaction.

    The UPDATE ... RETURNING locks the sequence row until commit (PostgreSQL row lock;
    SQLite's single writer), so indexes are dense and follow commit order.
    """
    if not records:
        return []
    result = connection.execute(_TAKE_INDEXES, {"taken": len(records)})
    first = result.scalar_one() - len(records)
    entries = [
        AuditEntry(
            index=first + offset,
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
        for offset, record in enumerate(records)
    ]
    connection.execute(
        _INSERT_ENTRIES,
        [
            {
                "index": e.index,
                "at": e.at,
                "action": e.action,
                "actor_id": e.actor_id,
                "organization_id": e.organization_id,
                "target_type": e.target_type,
                "target_id": e.target_id,
                "group_id": e.group_id,
                "ip": e.ip,
                "details": e.details,
                "leaf_hash": e.leaf_hash(),
            }
            for e in entries
        ],
    )
    return entries
