"""The audit seam: dense indexes in commit order, committed or rolled back with the change."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import update

from cencomm.domain.audit import AuditFilter, AuditRecord
from cencomm.domain.clock import SystemClock
from cencomm.services.audit import AuditTrail
from cencomm.services.audit_verify import verify_log
from cencomm.settings import Settings
from cencomm.storage.db import Database
from cencomm.storage.tables import AuditEntryRow
from cencomm.storage.unit import Unit
from tests.test_audit_verify import tamper


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    database = Database(settings.database_url, settings.database)
    yield database
    await database.dispose()


async def test_concurrent_appends_are_dense(db: Database) -> None:
    trail = AuditTrail(SystemClock())

    async def one(i: int) -> int:
        record = AuditRecord(action="test.append", details={"i": i})
        entry = await db.write(lambda unit: trail.append(unit, record))
        return entry.index

    indexes = await asyncio.gather(*(one(i) for i in range(50)))
    assert sorted(indexes) == list(range(50))
    report = await verify_log(db, {})  # no tree head signed yet: no key needed
    assert report.ok and report.entries == 50


async def test_a_failed_change_leaves_no_entry(db: Database) -> None:
    trail = AuditTrail(SystemClock())

    def failing_change(unit: Unit) -> None:
        trail.append(unit, AuditRecord(action="test.rolled_back"))
        raise RuntimeError("the change failed after auditing")

    with pytest.raises(RuntimeError):
        await db.write(failing_change)
    entry = await db.write(lambda unit: trail.append(unit, AuditRecord(action="test.kept")))
    assert entry.index == 0
    entries = await db.read(lambda unit: unit.audit.list_entries(AuditFilter(), None, 10))
    assert [e.action for e in entries] == ["test.kept"]


async def test_verify_names_an_altered_entry(db: Database) -> None:
    trail = AuditTrail(SystemClock())
    for i in range(3):
        record = AuditRecord(action="test.append", details={"i": i})
        await db.write(functools.partial(trail.append, record=record))
    # A rogue superuser (on PostgreSQL switching the append-only trigger off) edits an entry.
    await tamper(
        db.url, update(AuditEntryRow).where(AuditEntryRow.index == 1).values(details={"i": 99})
    )
    report = await verify_log(db, {})
    assert not report.ok and report.first_bad_index == 1


async def test_leaf_is_sorted_compact_json(db: Database) -> None:
    trail = AuditTrail(SystemClock())
    record = AuditRecord(action="test.leaf", target_type="thing", details={"b": 1, "a": "é"})
    entry = await db.write(lambda unit: trail.append(unit, record))
    leaf = entry.leaf()
    assert leaf.startswith('{"action":"test.leaf","actor_id":null,"at":"')
    assert '"details":{"a":"é","b":1}' in leaf
    assert " " not in leaf
