"""The audit tree and its jobs on a real database: extension, signing, wake-ups, SIEM forwarding."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, update

from cencomm.crypto.merkle import MemorySubtreeSource, root_from_leaf_hashes
from cencomm.domain.audit import AuditFilter, AuditRecord
from cencomm.domain.clock import SystemClock
from cencomm.services.audit import AppendSignal, AuditTrail
from cencomm.services.audit_forward import AuditForwarder, FileSink, SyslogSink
from cencomm.services.audit_log import AuditLogDamaged, AuditLogService
from cencomm.settings import Settings
from cencomm.storage.db import Database
from cencomm.storage.keyring import load_or_create_server_keys
from cencomm.storage.tables import AuditEntryRow
from cencomm.storage.unit import Unit
from tests.query_plans import assert_searches, plans
from tests.test_audit_verify import tamper


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    database = Database(settings.database_url, settings.database)
    yield database
    await database.dispose()


@pytest.fixture
def trail() -> AuditTrail:
    return AuditTrail(SystemClock())


def _service(db: Database, trail: AuditTrail, settings: Settings) -> AuditLogService:
    keys = load_or_create_server_keys(settings.data.dir)
    return AuditLogService(db, SystemClock(), trail, keys.audit, "test.example/log")


async def _append(db: Database, trail: AuditTrail, count: int) -> None:
    records = [AuditRecord(action="test.event", details={"i": i}) for i in range(count)]
    await db.write(lambda unit: [trail.append(unit, record) for record in records])


async def _leaf_hashes(db: Database) -> list[bytes]:
    rows = await db.read(lambda unit: unit.audit_tree.entry_batch(0, 1_000_000))
    return [leaf_hash for _, leaf_hash in rows]


async def test_heads_are_signed_only_when_the_log_grew(
    db: Database, trail: AuditTrail, settings: Settings
) -> None:
    service = _service(db, trail, settings)
    empty = await service.sign_tree_head()
    assert empty is not None and empty.tree_size == 0
    assert await service.sign_tree_head() is None
    await _append(db, trail, 21)
    head = await service.sign_tree_head()
    assert head is not None and head.tree_size == 21
    assert head.root_hash == root_from_leaf_hashes(await _leaf_hashes(db))
    assert head.checkpoint.startswith("test.example/log\n21\n")
    assert await service.sign_tree_head() is None


async def test_stored_subtrees_are_every_complete_subtree(
    db: Database, trail: AuditTrail, settings: Settings
) -> None:
    service = _service(db, trail, settings)
    for count in (1, 6, 13, 3):
        await _append(db, trail, count)
        await service.extend_tree()
    leaves = await _leaf_hashes(db)
    memory = MemorySubtreeSource(leaves)
    stored = await db.read(lambda unit: unit.audit_tree.subtrees_starting_in(0, 1_000_000))
    expected = {}
    for level in range(len(leaves).bit_length()):
        size = 1 << level
        for start in range(0, len(leaves) - size + 1, size):
            expected[(start, level)] = memory.subtree(start, start + size)
    assert stored == expected


async def test_concurrent_signers_never_sign_one_size_twice(
    db: Database, trail: AuditTrail, settings: Settings
) -> None:
    # Two Database objects: two connection pools, as two server processes would have.
    other_db = Database(settings.database_url, settings.database)
    try:
        services = [_service(db, trail, settings), _service(other_db, trail, settings)]
        for _ in range(3):
            await _append(db, trail, 7)
            heads = await asyncio.gather(*(services[i % 2].sign_tree_head() for i in range(6)))
            signed = [h for h in heads if h is not None]
            assert len(signed) == 1
    finally:
        await other_db.dispose()
    stored = await db.read(lambda unit: unit.audit_tree.list_heads(None, 1000))
    assert sorted(h.tree_size for h in stored) == [7, 14, 21]


async def test_a_tampered_entry_is_never_signed_over(
    db: Database, trail: AuditTrail, settings: Settings
) -> None:
    service = _service(db, trail, settings)
    await _append(db, trail, 4)
    await service.sign_tree_head()
    await _append(db, trail, 4)
    await tamper(
        db.url,
        update(AuditEntryRow).where(AuditEntryRow.index == 5).values(details={"i": "forged"}),
    )
    with pytest.raises(AuditLogDamaged, match="entry 5"):
        await service.sign_tree_head()


async def test_the_signal_wakes_subscribers_after_enough_commits(
    db: Database, trail: AuditTrail
) -> None:
    trail.signal = AppendSignal(threshold=5)
    wake = trail.signal.subscribe()
    await _append(db, trail, 4)
    assert not wake.is_set()

    def rolled_back(unit: Unit) -> None:  # does not count
        trail.append(unit, AuditRecord(action="test.event"))
        raise RuntimeError

    with pytest.raises(RuntimeError):
        await db.write(rolled_back)
    assert not wake.is_set()
    await _append(db, trail, 1)
    assert wake.is_set()


async def test_forwarding_to_a_file_resumes_without_loss(
    db: Database, trail: AuditTrail, tmp_path: Path
) -> None:
    target = tmp_path / "siem" / "audit.jsonl"
    target.parent.mkdir()
    await _append(db, trail, 5)
    assert await AuditForwarder(db, trail, [FileSink(target)]).forward() == 5
    await _append(db, trail, 3)
    # A new forwarder, as after a restart: it picks up exactly where the last one stopped.
    restarted = AuditForwarder(db, trail, [FileSink(target)])
    assert await restarted.forward() == 3
    assert await restarted.forward() == 0
    lines = target.read_text().splitlines()
    assert [json.loads(line)["index"] for line in lines] == list(range(8))
    entries = await db.read(lambda unit: unit.audit.list_entries(AuditFilter(), None, 100))
    assert lines == [entry.leaf() for entry in entries]
    assert target.stat().st_mode & 0o077 == 0


async def test_forwarding_to_udp_syslog(db: Database, trail: AuditTrail) -> None:
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.setblocking(False)
    port = receiver.getsockname()[1]
    try:
        await _append(db, trail, 3)
        sink = SyslogSink(f"udp://127.0.0.1:{port}")
        assert await AuditForwarder(db, trail, [sink]).forward() == 3
        loop = asyncio.get_running_loop()
        messages = [
            (await asyncio.wait_for(loop.sock_recv(receiver, 65536), timeout=5)).decode()
            for _ in range(3)
        ]
    finally:
        receiver.close()
    for index, message in enumerate(messages):
        assert message.startswith("<110>1 ")
        assert " cencomm - audit - {" in message
        leaf = json.loads(message[message.index("{") :])
        assert leaf["index"] == index and leaf["action"] == "test.event"


async def test_a_failing_target_keeps_its_position(
    db: Database, trail: AuditTrail, tmp_path: Path
) -> None:
    await _append(db, trail, 2)
    broken = FileSink(tmp_path / "no-such-dir" / "audit.jsonl")
    with pytest.raises(OSError):
        await AuditForwarder(db, trail, [broken]).forward()
    (tmp_path / "no-such-dir").mkdir()
    assert await AuditForwarder(db, trail, [broken]).forward() == 2


async def test_the_subtree_lookup_uses_the_primary_key(
    db: Database, trail: AuditTrail, settings: Settings
) -> None:
    await _append(db, trail, 13)
    await _service(db, trail, settings).extend_tree()
    wanted = [(8, 2), (12, 0), (0, 3), (4, 1), (3, 3)]  # (3, 3) is no subtree
    found = await db.read(lambda unit: unit.audit_tree.subtrees(wanted))
    assert set(found) == {(8, 2), (12, 0), (0, 3), (4, 1)}
    memory = MemorySubtreeSource(await _leaf_hashes(db))
    assert found[(8, 2)] == memory.subtree(8, 12)
    [plan] = await plans(db, lambda unit: unit.audit_tree.subtrees(wanted))
    assert_searches(db, plan, "audit_subtree", "pk_audit_subtree")


async def test_signers_racing_appends_keep_the_tree_whole(
    db: Database, trail: AuditTrail, settings: Settings
) -> None:
    # Two pools (as two processes would have) extending and signing while entries keep coming:
    # each round hashes outside the write lock and stores only onto the state it hashed from.
    other_db = Database(settings.database_url, settings.database)
    try:
        services = [_service(db, trail, settings), _service(other_db, trail, settings)]
        for count in (5, 1, 9, 3, 16):
            await asyncio.gather(
                _append(db, trail, count),
                services[0].sign_tree_head(),
                services[1].sign_tree_head(),
                services[1].extend_tree(),
            )
        await services[0].sign_tree_head()
    finally:
        await other_db.dispose()
    leaves = await _leaf_hashes(db)
    assert len(leaves) == 34
    memory = MemorySubtreeSource(leaves)
    stored = await db.read(lambda unit: unit.audit_tree.subtrees_starting_in(0, 1_000_000))
    expected = {
        (start, level): memory.subtree(start, start + (1 << level))
        for level in range(len(leaves).bit_length())
        for start in range(0, len(leaves) - (1 << level) + 1, 1 << level)
    }
    assert stored == expected
    heads = await db.read(lambda unit: unit.audit_tree.list_heads(None, 1000))
    sizes = [h.tree_size for h in heads]
    assert sizes == sorted(set(sizes)) and sizes[-1] == 34
    for head in heads:
        assert head.root_hash == root_from_leaf_hashes(leaves[: head.tree_size])


async def test_the_writer_never_reads_or_hashes_entries_for_the_tree(
    db: Database, trail: AuditTrail, settings: Settings
) -> None:
    if db.dialect != "sqlite":
        pytest.skip("SQLite's one writer connection is the one the message writer waits for")
    await _append(db, trail, 40)
    written: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        written.append(statement)

    writer = db.sync_engines[0]
    event.listen(writer, "before_cursor_execute", record)
    try:
        head = await _service(db, trail, settings).sign_tree_head()
    finally:
        event.remove(writer, "before_cursor_execute", record)
    assert head is not None and head.tree_size == 40
    assert any("INSERT INTO audit_subtree" in s for s in written), written
    assert not any("FROM audit_entry" in s for s in written), written
