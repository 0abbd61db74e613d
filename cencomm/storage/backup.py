"""The database side of `cencomm backup` and `cencomm restore`: one consistent snapshot copied
while the server keeps writing, and a copy loaded into an empty database.

SQLite: the online backup API (`sqlite3.Connection.backup`) copies the file page by page under
one read transaction; in WAL mode writers go on meanwhile. PostgreSQL: a REPEATABLE READ
transaction exports its snapshot, reads what the backup needs to know in it, and holds it open
while `pg_dump --snapshot` copies exactly that snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from functools import partial
from pathlib import Path

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import Session

from cencomm.settings import DatabaseSettings
from cencomm.storage import pg_tools
from cencomm.storage.db import Database, is_sqlite
from cencomm.storage.snapshots import SnapshotFacts, SnapshotStore
from cencomm.storage.unit import Unit

FILE_MODE = 0o600


def sqlite_file(url: str) -> Path:
    """The file of an SQLite URL (a memory database or a `file:` URI cannot be backed up)."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise ValueError(f"the SQLite database {database or ':memory:'} is not a plain file")
    return Path(database)


def _copy_sqlite(source: Path, target: Path) -> None:
    if not source.is_file():
        raise FileNotFoundError(f"no SQLite file at {source}")
    # Opened read-write like the server opens it (a read-only connection cannot open a WAL
    # file whose -shm is gone), but only read from.
    live = sqlite3.connect(source, timeout=30)
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    copy = sqlite3.connect(target)
    try:
        # pages=-1: the whole file in one step, so under one read snapshot of the live file.
        live.backup(copy, pages=-1)
        # A single self-contained file: no -wal beside it (the server turns WAL on again).
        copy.execute("PRAGMA journal_mode=DELETE")
    finally:
        copy.close()
        live.close()


def _sqlite_facts(path: Path) -> SnapshotFacts:
    engine = create_engine(f"sqlite:///{path}")
    try:
        with Session(engine) as session:
            return SnapshotStore(session).facts()
    finally:
        engine.dispose()


async def snapshot(
    url: str, settings: DatabaseSettings, directory: Path
) -> tuple[Path, SnapshotFacts]:
    """Copy one consistent snapshot of the database into `directory`; returns the copy's path
    and what that snapshot holds.

    Raises:
        pg_tools.PgToolError: pg_dump is missing or failed.
        sqlite3.Error, OSError, DatabaseFailure: the database could not be read.
    """
    if is_sqlite(url):
        target = directory / "cencomm.db"
        await asyncio.to_thread(_copy_sqlite, sqlite_file(url), target)
        return target, await asyncio.to_thread(_sqlite_facts, target)
    target = directory / "cencomm.pgdump"

    def in_snapshot(unit: Unit) -> SnapshotFacts:
        exported = unit.snapshots.export()
        facts = unit.snapshots.facts()
        # The transaction stays open (so the snapshot stays importable) until pg_dump is done.
        unit.run_blocking(partial(pg_tools.dump, url, exported, target))
        return facts

    db = Database(url, settings)
    try:
        facts = await db.read(in_snapshot)
    finally:
        await db.dispose()
    os.chmod(target, FILE_MODE)
    return target, facts


def sqlite_has_tables(path: Path) -> bool:
    """Whether the SQLite file at `path` exists and holds a table (False: safe to replace)."""
    if not path.exists():
        return False
    if path.stat().st_size == 0:
        return False
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    with contextlib.closing(connection):
        count = connection.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
        ).fetchone()[0]
    return bool(count)


async def postgres_has_tables(url: str) -> bool:
    """Whether the PostgreSQL database of `url` holds a table outside the system schemas."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            count = await connection.scalar(
                text(
                    "SELECT count(*) FROM pg_catalog.pg_tables "
                    "WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
                )
            )
    finally:
        await engine.dispose()
    return bool(count)


async def load_postgres(url: str, dump: Path) -> None:
    """Restore a `snapshot` dump into the empty database of `url`, in one transaction."""
    await asyncio.to_thread(pg_tools.restore, url, dump)
