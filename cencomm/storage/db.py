"""The database: async engines, sessions, SQLite pragmas, write and read units of work."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool

from cencomm.settings import DatabaseSettings

T = TypeVar("T")
IDLE_IN_TRANSACTION_MS = "60000"
# Threads (and connections) for synchronous SQLite reads on hot paths.
READER_THREADS = 2


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def create_private_sqlite_file(url: str) -> None:
    """Create the SQLite database file owner-only (0600), like the server's keys, before SQLite
    would create it with the process umask (often 0644: readable by every local user). SQLite
    gives its `-wal` and `-shm` files the database file's mode. An existing file is left as it is.
    """
    database = make_url(url).database
    if not is_sqlite(url) or not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.parent.is_dir():
        return  # SQLite will say what is wrong with the path
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def make_engine(url: str, settings: DatabaseSettings, *, immediate: bool = False) -> AsyncEngine:
    """An async engine; on SQLite with our pragmas and, for writers, `BEGIN IMMEDIATE`.

    `BEGIN IMMEDIATE` takes SQLite's write lock when the transaction starts, so a writer never
    reads first and then fails to upgrade its lock (SQLITE_BUSY without waiting).
    """
    if not is_sqlite(url):
        return create_async_engine(
            url,
            pool_size=settings.pool_size,
            max_overflow=settings.pool_size,
            pool_pre_ping=True,
            # A transaction left open (a cancelled request mid-query) must not hold its locks
            # for ever: PostgreSQL ends such sessions after this long.
            connect_args={
                "server_settings": {"idle_in_transaction_session_timeout": IDLE_IN_TRANSACTION_MS}
            },
        )
    create_private_sqlite_file(url)
    engine = create_async_engine(
        url,
        connect_args={"timeout": settings.sqlite_busy_timeout_ms / 1000},
        # Readers are in autocommit (no BEGIN): nothing to roll back when they are returned.
        pool_reset_on_return="rollback" if immediate else None,
    )
    _configure_sqlite(engine.sync_engine, settings, immediate=immediate)
    return engine


def _configure_sqlite(engine: Engine, settings: DatabaseSettings, *, immediate: bool) -> None:
    """Our pragmas on every new connection and, for writers, `BEGIN IMMEDIATE`."""
    synchronous = settings.sqlite_synchronous.upper()
    busy_timeout = int(settings.sqlite_busy_timeout_ms)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see "begin" below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # The busy timeout first: switching to (or confirming) WAL waits for other connections'
        # locks instead of failing at once with "database is locked".
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.close()

    if immediate:

        @event.listens_for(engine, "begin")
        def _on_begin(connection: Any) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    # Readers run in autocommit: each SELECT sees one consistent WAL snapshot of its own, and
    # skipping BEGIN saves a round trip to the driver thread on every read.


async def _in_thread(threads: concurrent.futures.ThreadPoolExecutor, work: Callable[[], T]) -> T:
    """Run `work` on one of `threads` in the caller's context (as `asyncio.to_thread` does), so
    work done for a request stays attributable to it there (its request id)."""
    context = contextvars.copy_context()
    return await asyncio.get_running_loop().run_in_executor(threads, context.run, work)


class Database:
    """Engines and session factories; `begin()` for a write unit of work, `read()` for reads."""

    def __init__(self, url: str, settings: DatabaseSettings) -> None:
        self.url = url
        self.dialect = "sqlite" if is_sqlite(url) else "postgresql"
        self.engine = make_engine(url, settings, immediate=True)
        # SQLite has one writer: readers get their own pool so they never queue behind it.
        self.read_engine = make_engine(url, settings) if is_sqlite(url) else self.engine
        self._writer_sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._reader_sessions = async_sessionmaker(self.read_engine, expire_on_commit=False)
        # In one process, queue SQLite writers on an asyncio lock instead of the busy handler,
        # which polls with growing sleeps; the busy timeout then only covers other processes.
        self._write_lock: asyncio.Lock | None = asyncio.Lock() if is_sqlite(url) else None
        # Batched writers hand a whole synchronous transaction to one thread in one hop,
        # instead of one hop per statement through aiosqlite (see `run_write`).
        self._sync_writer: Engine | None = None
        self._writer_thread: concurrent.futures.ThreadPoolExecutor | None = None
        self._sync_reader: Engine | None = None
        self._reader_threads: concurrent.futures.ThreadPoolExecutor | None = None
        if is_sqlite(url):
            self._sync_reader = create_engine(
                url.replace("sqlite+aiosqlite", "sqlite", 1),
                connect_args={
                    "timeout": settings.sqlite_busy_timeout_ms / 1000,
                    "check_same_thread": False,
                },
                pool_size=READER_THREADS,
                max_overflow=0,
                pool_reset_on_return=None,
            )
            _configure_sqlite(self._sync_reader, settings, immediate=False)
            self._reader_threads = concurrent.futures.ThreadPoolExecutor(
                max_workers=READER_THREADS, thread_name_prefix="cencomm-sqlite-reader"
            )
            self._sync_writer = create_engine(
                url.replace("sqlite+aiosqlite", "sqlite", 1),
                connect_args={
                    "timeout": settings.sqlite_busy_timeout_ms / 1000,
                    "check_same_thread": False,
                },
                poolclass=StaticPool,
            )
            _configure_sqlite(self._sync_writer, settings, immediate=True)
            self._writer_thread = concurrent.futures.ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="cencomm-sqlite-writer"
            )

    @contextlib.asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncSession]:
        """A session inside a write transaction: committed on success, rolled back on error."""
        async with contextlib.AsyncExitStack() as stack:
            if self._write_lock is not None:
                await stack.enter_async_context(self._write_lock)
            session = await stack.enter_async_context(self._writer_sessions())
            await stack.enter_async_context(session.begin())
            yield session

    async def run_write(self, work: Callable[[Connection], T]) -> T:
        """Run `work` inside one write transaction, committed when it returns.

        On SQLite the whole transaction runs on the writer thread in one hop (under the same
        in-process write lock as `begin()`); on PostgreSQL through `run_sync` on a pooled
        connection.
        """
        if self._sync_writer is None or self._writer_thread is None:
            async with self.engine.begin() as connection:
                return await connection.run_sync(work)
        engine = self._sync_writer

        def transaction() -> T:
            with engine.begin() as connection:
                return work(connection)

        assert self._write_lock is not None  # noqa: S101 - set together with the writer
        async with self._write_lock:
            return await _in_thread(self._writer_thread, transaction)

    async def run_read(self, work: Callable[[Connection], T]) -> T:
        """Run read-only `work` on a connection in one hop (hot paths: a handful of queries).

        On SQLite a reader thread runs it on a synchronous connection in autocommit; on
        PostgreSQL `run_sync` on a pooled connection.
        """
        if self._sync_reader is None or self._reader_threads is None:
            async with self.read_engine.connect() as connection:
                return await connection.run_sync(work)
        engine = self._sync_reader

        def read() -> T:
            with engine.connect() as connection:
                return work(connection)

        return await _in_thread(self._reader_threads, read)

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reads only. On PostgreSQL one snapshot for its lifetime; SQLite readers
        run in autocommit, so each statement sees its own consistent snapshot."""
        async with self._reader_sessions() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        # Idempotent: finish what the threads are doing, then close their connections.
        for threads, engine in (
            (self._reader_threads, self._sync_reader),
            (self._writer_thread, self._sync_writer),
        ):
            if threads is not None:
                threads.shutdown(wait=True)
            if engine is not None:
                engine.dispose()
        self._reader_threads = self._writer_thread = None
        self._sync_reader = self._sync_writer = None
        await self.engine.dispose()
        if self.read_engine is not self.engine:
            await self.read_engine.dispose()
