"""The audit seam: dense indexes in commit order, committed or rolled back with the change."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select, text

from cencomm.domain.audit import AuditRecord
from cencomm.domain.clock import SystemClock
from cencomm.services.audit import AuditTrail
from cencomm.services.audit_verify import verify_log
from cencomm.settings import Settings
from cencomm.storage.db import Database
from cencomm.storage.tables import AuditEntryRow


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    database = Database(settings.database_url, settings.database)
    yield database
    await database.dispose()


async def test_concurrent_appends_are_dense(db: Database) -> None:
    trail = AuditTrail(SystemClock())

    async def one(i: int) -> int:
        async with db.begin() as session:
            entry = await trail.append(session, AuditRecord(action="test.append", details={"i": i}))
            return entry.index

    indexes = await asyncio.gather(*(one(i) for i in range(50)))
    assert sorted(indexes) == list(range(50))
    report = await verify_log(db, {})  # no tree head signed yet: no key needed
    assert report.ok and report.entries == 50


async def test_a_failed_change_leaves_no_entry(db: Database) -> None:
    trail = AuditTrail(SystemClock())
    with pytest.raises(RuntimeError):
        async with db.begin() as session:
            await trail.append(session, AuditRecord(action="test.rolled_back"))
            raise RuntimeError("the change failed after auditing")
    async with db.begin() as session:
        entry = await trail.append(session, AuditRecord(action="test.kept"))
    assert entry.index == 0
    async with db.read() as session:
        actions = (await session.scalars(select(AuditEntryRow.action))).all()
    assert actions == ["test.kept"]


async def test_verify_names_an_altered_entry(db: Database) -> None:
    trail = AuditTrail(SystemClock())
    for i in range(3):
        async with db.begin() as session:
            await trail.append(session, AuditRecord(action="test.append", details={"i": i}))
    async with db.begin() as session:
        if db.dialect == "postgresql":  # a rogue superuser switches the append-only trigger off
            await session.execute(text("SET LOCAL session_replication_role = replica"))
        row = await session.get(AuditEntryRow, 1)
        assert row is not None
        row.details = {"i": 99}
    report = await verify_log(db, {})
    assert not report.ok and report.first_bad_index == 1


async def test_leaf_is_sorted_compact_json(db: Database) -> None:
    trail = AuditTrail(SystemClock())
    async with db.begin() as session:
        entry = await trail.append(
            session,
            AuditRecord(action="test.leaf", target_type="thing", details={"b": 1, "a": "é"}),
        )
    leaf = entry.leaf()
    assert leaf.startswith('{"action":"test.leaf","actor_id":null,"at":"')
    assert '"details":{"a":"é","b":1}' in leaf
    assert " " not in leaf
