"""`cencomm audit verify` as an operator runs it, against a log a rogue administrator tampered with.

Each case writes a real log with signed tree heads, changes the database behind the server's back
(on PostgreSQL first switching the append-only triggers off, as a superuser could), runs the real
command in a subprocess and expects exit 1 naming the first bad entry.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from cencomm.crypto.keys import b64url_encode
from cencomm.domain.audit import AuditRecord
from cencomm.domain.audit_tree import TreeHead
from cencomm.domain.clock import SystemClock
from cencomm.services.audit import AuditTrail
from cencomm.services.audit_log import AuditLogService
from cencomm.settings import Settings
from cencomm.storage.audit import to_entry
from cencomm.storage.db import Database
from cencomm.storage.keyring import ServerSigningKey, load_or_create_server_keys
from cencomm.storage.tables import (
    AuditEntryRow,
    AuditSubtreeRow,
    AuditTreeHeadRow,
    AuditTreeStateRow,
)

PG_URL = os.environ.get("CENCOMM_TEST_DATABASE_URL", "")
AUDIT_TABLES = (AuditEntryRow, AuditSubtreeRow, AuditTreeHeadRow, AuditTreeStateRow)


class Log:
    """A real audit log with its server keys, written through the services."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.trail = AuditTrail(SystemClock())
        self._open()

    def _open(self) -> None:
        self.db = Database(self.settings.database_url, self.settings.database)
        keys = load_or_create_server_keys(self.settings.data.dir)
        self.service = AuditLogService(self.db, SystemClock(), self.trail, keys.audit, "cencomm")

    async def reopen(self) -> None:
        """Close every connection (on SQLite that checkpoints the WAL, so the file is the whole
        database), then open the database anew: a disposed Database is not used again."""
        await self.db.dispose()
        self._open()

    async def append(self, count: int) -> None:
        records = [AuditRecord(action="test.event") for _ in range(count)]
        entries = await self.db.write(lambda unit: [self.trail.append(unit, r) for r in records])
        assert all(n.index >= 0 for n in entries)

    async def grow(self, *steps: int) -> TreeHead:
        """Append `steps[0]` entries and sign, then `steps[1]`, ...; returns the last head."""
        head: TreeHead | None = None
        for count in steps:
            await self.append(count)
            head = await self.service.sign_tree_head()
        assert head is not None
        return head

    async def verify(self, *args: str) -> tuple[int, str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CENCOMM_")}
        env["CENCOMM_DATABASE_URL"] = self.settings.database_url
        env["CENCOMM_DATA_DIR"] = str(self.settings.data.dir)
        env["CENCOMM_CONFIG"] = str(self.settings.data.dir / "none.toml")
        (self.settings.data.dir / "none.toml").write_text("")
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "cencomm",
            "audit",
            "verify",
            *args,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
        assert proc.returncode is not None
        return proc.returncode, out.decode(), err.decode()


@pytest.fixture
async def log(settings: Settings) -> AsyncIterator[Log]:
    settings.data.dir.mkdir(parents=True, exist_ok=True)
    the_log = Log(settings)
    yield the_log
    await the_log.db.dispose()


async def tamper(url: str, *statements: Any) -> None:
    """Run statements as a rogue DBA: on PostgreSQL with the append-only triggers off."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                await conn.execute(text("SET LOCAL session_replication_role = replica"))
            for statement in statements:
                if callable(statement):
                    await statement(conn)
                else:
                    await conn.execute(statement)
    finally:
        await engine.dispose()


def _entry_values(row: Any) -> dict[str, Any]:
    return {
        c: getattr(row, c)
        for c in (
            "at",
            "action",
            "actor_id",
            "organization_id",
            "target_type",
            "target_id",
            "group_id",
            "ip",
            "details",
            "leaf_hash",
        )
    }


def _failed_at(result: tuple[int, str, str], index: int) -> str:
    code, out, err = result
    assert code == 1, (out, err)
    assert f"entry {index} " in err, err
    assert err.strip().count("\n") == 0, err
    return err


async def test_an_intact_log_verifies(log: Log) -> None:
    await log.grow(10, 10, 10)
    await log.append(3)  # not yet under a tree head: still verified
    code, out, err = await log.verify()
    assert code == 0, err
    assert "intact: 33 entries, 3 signed tree heads" in out


async def test_edited_details_are_named(log: Log) -> None:
    await log.grow(20, 20)
    await tamper(
        log.settings.database_url,
        update(AuditEntryRow).where(AuditEntryRow.index == 13).values(details={"i": "forged"}),
    )
    err = _failed_at(await log.verify(), 13)
    assert "altered" in err


async def test_a_deleted_row_is_named(log: Log) -> None:
    await log.grow(20, 20)
    await tamper(log.settings.database_url, delete(AuditEntryRow).where(AuditEntryRow.index == 13))
    assert "missing" in _failed_at(await log.verify(), 13)


async def test_swapped_rows_are_named(log: Log) -> None:
    await log.grow(30)

    async def swap(conn: AsyncConnection) -> None:
        rows = {
            r._mapping["index"]: r
            for r in await conn.execute(
                select(AuditEntryRow.__table__).where(AuditEntryRow.index.in_([5, 17]))
            )
        }
        for here, there in ((5, 17), (17, 5)):
            await conn.execute(
                update(AuditEntryRow)
                .where(AuditEntryRow.index == here)
                .values(**_entry_values(rows[there]))
            )

    await tamper(log.settings.database_url, swap)
    _failed_at(await log.verify(), 5)


async def test_an_inserted_row_is_named_even_with_recomputed_hashes(log: Log) -> None:
    await log.grow(16, 16)

    async def insert_at_20(conn: AsyncConnection) -> None:
        # A careful forger: shifts the later rows and recomputes every leaf hash column.
        rows = (
            await conn.execute(
                select(AuditEntryRow.__table__)
                .where(AuditEntryRow.index >= 20)
                .order_by(AuditEntryRow.index.desc())
            )
        ).all()
        for row in rows:
            index = row._mapping["index"]
            entry = to_entry(AuditEntryRow(index=index + 1, **_entry_values(row)))
            await conn.execute(
                update(AuditEntryRow)
                .where(AuditEntryRow.index == index)
                .values(index=entry.index, leaf_hash=entry.leaf_hash())
            )
        forged = AuditEntryRow(index=20, **_entry_values(rows[-1]))
        forged.action, forged.details = "key.register", {"public_key": "forged"}
        forged.leaf_hash = to_entry(forged).leaf_hash()
        values = {"index": 20, **_entry_values(forged)}
        await conn.execute(insert(AuditEntryRow), [values])

    await tamper(log.settings.database_url, insert_at_20)
    _failed_at(await log.verify(), 20)


async def test_a_truncated_tail_is_named(log: Log) -> None:
    await log.grow(20, 10, 5)
    await tamper(log.settings.database_url, delete(AuditEntryRow).where(AuditEntryRow.index >= 25))
    assert "missing" in _failed_at(await log.verify(), 25)


async def test_history_rewritten_with_a_fresh_tree_is_caught_by_the_signed_heads(
    log: Log,
) -> None:
    await log.grow(8, 8, 8)

    async def rewrite(conn: AsyncConnection) -> None:
        # Rewrite entry 10 and rebuild every hash the database holds; only the signatures
        # (made with a key the database does not hold) still tell.
        row = (await conn.execute(select(AuditEntryRow).where(AuditEntryRow.index == 10))).one()
        changed = to_entry(AuditEntryRow(index=10, **{**_entry_values(row), "details": {"x": 1}}))
        await conn.execute(
            update(AuditEntryRow)
            .where(AuditEntryRow.index == 10)
            .values(details={"x": 1}, leaf_hash=changed.leaf_hash())
        )
        await conn.execute(delete(AuditSubtreeRow))
        await conn.execute(delete(AuditTreeStateRow))

    await tamper(log.settings.database_url, rewrite)
    rebuilt = AuditLogService(log.db, SystemClock(), log.trail, _fake_key(), "cencomm")
    await rebuilt.extend_tree()
    err = _failed_at(await log.verify(), 8)
    assert "tree head 16" in err


def _fake_key() -> ServerSigningKey:
    return ServerSigningKey("forger", Ed25519PrivateKey.generate())


def _saved(head: TreeHead) -> str:
    return json.dumps(head.as_json(b64url_encode(head.signature)))


async def test_restoring_an_older_copy_is_caught_by_a_saved_tree_head(
    log: Log, tmp_path: Path
) -> None:
    await log.grow(12, 8)
    snapshot = tmp_path / "older.db"
    rows: dict[type, list[dict[str, Any]]] = {}
    if log.db.dialect == "sqlite":
        await log.reopen()  # checkpoint the WAL so the file is the whole database
        shutil.copyfile(_sqlite_path(log.settings.database_url), snapshot)
    else:
        rows = await _snapshot(log.settings.database_url)
    saved = tmp_path / "tree-head.json"
    saved.write_text(_saved(await log.grow(9)))
    code, _, err = await log.verify("--since-tree-head", str(saved))
    assert code == 0, err

    if log.db.dialect == "sqlite":
        await log.db.dispose()
        _replace_sqlite_file(_sqlite_path(log.settings.database_url), snapshot)
    else:
        await _restore(log.settings.database_url, rows)
    code, _, err = await log.verify()
    assert code == 0, err  # an older copy is consistent in itself ...
    err = _failed_at(await log.verify("--since-tree-head", str(saved)), 20)  # ... but not this
    assert "saved tree head" in err


async def test_a_forged_saved_tree_head_is_refused(log: Log, tmp_path: Path) -> None:
    head = await log.grow(5)
    document = json.loads(_saved(head))
    document["checkpoint"] = document["checkpoint"].replace("\n5\n", "\n6\n")
    document["tree_size"] = 6
    saved = tmp_path / "forged.json"
    saved.write_text(json.dumps(document))
    code, _, err = await log.verify("--since-tree-head", str(saved))
    assert code == 1 and "signature does not verify" in err
    saved.write_text("{not json")
    code, _, err = await log.verify("--since-tree-head", str(saved))
    assert code == 1 and "not JSON" in err


@pytest.mark.skipif(not PG_URL, reason="the append-only trigger exists on PostgreSQL only")
async def test_postgres_refuses_updates_and_deletes_of_the_log(log: Log) -> None:
    await log.grow(3)
    engine = create_async_engine(log.settings.database_url)
    try:
        for statement in (
            update(AuditEntryRow).where(AuditEntryRow.index == 1).values(action="forged"),
            delete(AuditEntryRow).where(AuditEntryRow.index == 2),
            delete(AuditTreeHeadRow),
            update(AuditSubtreeRow).values(hash=b"\0" * 32),
        ):
            with pytest.raises(DBAPIError, match="append-only"):
                async with engine.begin() as conn:
                    await conn.execute(statement)
    finally:
        await engine.dispose()
    code, _, err = await log.verify()
    assert code == 0, err


def _replace_sqlite_file(path: str, copy: Path) -> None:
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(copy, path)


def _sqlite_path(url: str) -> str:
    return url.removeprefix("sqlite+aiosqlite:///")


async def _snapshot(url: str) -> dict[type, list[dict[str, Any]]]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return {
                t: [dict(r._mapping) for r in await conn.execute(select(t.__table__))]
                for t in AUDIT_TABLES
            }
    finally:
        await engine.dispose()


async def _restore(url: str, rows: dict[type, list[dict[str, Any]]]) -> None:
    async def put_back(conn: AsyncConnection) -> None:
        for table in AUDIT_TABLES:
            await conn.execute(delete(table))
            if rows[table]:
                await conn.execute(insert(table), rows[table])

    await tamper(url, put_back)
