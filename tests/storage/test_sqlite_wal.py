"""The SQLite file is put in WAL mode once, before any pool connects to it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from cencomm.settings import DatabaseSettings
from cencomm.storage.db import Database, prepare_sqlite_file
from cencomm.storage.migrate import upgrade


def _journal_mode(path: Path) -> str:
    with sqlite3.connect(path) as connection:
        return str(connection.execute("PRAGMA journal_mode").fetchone()[0])


def _rollback_mode_file(path: Path) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE t (x INTEGER)")
    connection.close()


async def test_a_migrated_file_is_born_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    await upgrade(f"sqlite+aiosqlite:///{path}")
    assert _journal_mode(path) == "wal"


async def test_a_database_switches_a_rollback_mode_file_before_its_pools_connect(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    _rollback_mode_file(path)
    assert _journal_mode(path) == "delete"
    database = Database(f"sqlite+aiosqlite:///{path}", DatabaseSettings())
    try:
        assert _journal_mode(path) == "wal"
    finally:
        await database.dispose()


def test_the_switch_waits_for_another_writer_then_reports_that_it_could_not(
    tmp_path: Path,
) -> None:
    # SQLite answers a journal-mode switch under another writer with SQLITE_BUSY at once; the
    # switch retries for the busy timeout and then says so instead of hanging.
    path = tmp_path / "busy.db"
    _rollback_mode_file(path)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            prepare_sqlite_file(f"sqlite+aiosqlite:///{path}", busy_timeout_ms=50)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    prepare_sqlite_file(f"sqlite+aiosqlite:///{path}", busy_timeout_ms=50)
    assert _journal_mode(path) == "wal"
