"""The database: engines, SQLite pragmas, and the one way in (`Database.write` / `read`)."""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import contextvars
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool

from cencomm.domain.audit import canonical_json
from cencomm.settings import DatabaseSettings
from cencomm.storage.changes import ChangeListeners
from cencomm.storage.failures import DatabaseUnavailable, unavailable
from cencomm.storage.unit import Unit

T = TypeVar("T")
logger = logging.getLogger(__name__)
IDLE_IN_TRANSACTION_MS = "60000"
# Threads (and connections) for SQLite reads.
READER_THREADS = 4


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def prepare_sqlite_file(url: str, busy_timeout_ms: int) -> None:
    """Before any pool opens the SQLite file: create it owner-only (0600), like the server's
    keys, rather than let SQLite create it with the process umask (often 0644: readable by
    every local user; its `-wal` and `-shm` files take the file's mode), and put it in WAL
    mode. An existing file keeps its mode. Not a plain file (memory, a `file:` URI) or no such
    directory: nothing to do here, and SQLite will say what is wrong with the path."""
    database = make_url(url).database
    if not is_sqlite(url) or not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.parent.is_dir():
        return
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    _use_write_ahead_log(path, busy_timeout_ms)


def _use_write_ahead_log(path: Path, busy_timeout_ms: int) -> None:
    """WAL is a property of the file. Switching to it needs the file to ourselves, and SQLite
    answers SQLITE_BUSY at once instead of waiting its busy timeout; so a file still in rollback
    mode (as Alembic leaves a new one) switched by each new connection failed now and then while
    another connection of ours wrote. Here it is switched once, retried until the busy timeout
    is spent."""
    deadline = time.monotonic() + busy_timeout_ms / 1000
    delay = 0.005
    try:
        connection = sqlite3.connect(path, timeout=busy_timeout_ms / 1000)
    except sqlite3.OperationalError as exc:
        # No permission: the pools will fail the same way, and `/ready` says so (a server that
        # cannot reach its database still starts and answers 503).
        logger.warning("cannot open the SQLite file to set WAL mode: %s", exc)
        return
    try:
        if connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
            return
        while True:
            try:
                connection.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as error:
                busy = error.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY
                if not busy or time.monotonic() > deadline:
                    raise
            time.sleep(delay)  # another connection is in a transaction: let it finish
            delay = min(delay * 2, 0.1)
    finally:
        connection.close()


# PostgreSQL: pooled connections are replaced after this long (a proxy or firewall may drop an
# idle connection silently; recycling bounds how old one can get).
POOL_RECYCLE_SECONDS = 1800


def _postgres_engine(url: str, settings: DatabaseSettings) -> AsyncEngine:
    """A fixed pool of `pool_size` connections: no overflow (overflow connections are closed
    when returned and opened again at the next burst: a connect per burst at 64 clients) and
    no pre-ping (a round trip per checkout). A unit that waits for a connection waits in the
    pool's queue. A connection found dead on use invalidates the pool (every older connection
    is replaced at its next checkout) and a read is retried once on a fresh one (`Database`)."""
    return create_async_engine(
        url,
        pool_size=settings.pool_size,
        max_overflow=0,
        pool_recycle=POOL_RECYCLE_SECONDS,
        pool_pre_ping=False,
        json_serializer=canonical_json,
        # A transaction left open (a server killed mid-query) must not hold its locks for ever:
        # PostgreSQL ends such sessions after this long.
        connect_args={
            "server_settings": {
                "idle_in_transaction_session_timeout": IDLE_IN_TRANSACTION_MS,
                # A lock not had in time fails the statement (55P03): 503, not a hung request.
                "lock_timeout": str(int(settings.postgres_lock_timeout_ms)),
            }
        },
    )


def _configure_sqlite(engine: Engine, settings: DatabaseSettings, *, immediate: bool) -> None:
    """Our pragmas on every new connection and, for the writer, `BEGIN IMMEDIATE`.

    `BEGIN IMMEDIATE` takes SQLite's write lock when the transaction starts, so a writer never
    reads first and then fails to upgrade its lock (SQLITE_BUSY without waiting).
    """
    synchronous = settings.sqlite_synchronous.upper()
    busy_timeout = int(settings.sqlite_busy_timeout_ms)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see "begin" below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # The file is already in WAL mode (`prepare_sqlite_file`), which every connection follows.
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout}")
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


def _sync_sqlite_engine(url: str, settings: DatabaseSettings, **pool: Any) -> Engine:
    """A synchronous `sqlite3` engine on the same file (for the worker threads)."""
    return create_engine(
        url.replace("sqlite+aiosqlite", "sqlite", 1),
        connect_args={
            "timeout": settings.sqlite_busy_timeout_ms / 1000,
            "check_same_thread": False,
        },
        json_serializer=canonical_json,
        **pool,
    )


class Database:
    """The one way in: `write(work)` and `read(work)` run a synchronous unit of work to completion.

    `work` receives a `Unit` (the typed stores of one transaction) and runs start to finish
    without yielding to the event loop: on SQLite in a worker thread on a `sqlite3` connection
    (one writer thread, whose queue orders writers in the process instead of SQLite's busy
    handler; a few reader threads); on PostgreSQL through `run_sync` on a pooled asyncpg
    connection. A cancelled caller stops waiting but never stops its unit (a thread cannot be
    interrupted; a PostgreSQL unit runs in a task of its own): a transaction is never abandoned
    half-way, and its `after_commit` callbacks always run.
    See docs/design.md for why this model and what it costs.
    """

    def __init__(self, url: str, settings: DatabaseSettings) -> None:
        self.url = url
        self.dialect = "sqlite" if is_sqlite(url) else "postgresql"
        self._running: set[asyncio.Future[Any]] = set()
        # Caches above storage subscribe here to what write units change (`storage.changes`).
        self.changes = ChangeListeners()
        self._writer_thread: concurrent.futures.ThreadPoolExecutor | None = None
        self._reader_threads: concurrent.futures.ThreadPoolExecutor | None = None
        self._sessions: async_sessionmaker[AsyncSession] | None = None
        if not is_sqlite(url):
            self.engine: AsyncEngine | None = _postgres_engine(url, settings)
            self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
            self.sync_engines: tuple[Engine, ...] = (self.engine.sync_engine,)
            return
        self.engine = None
        prepare_sqlite_file(url, settings.sqlite_busy_timeout_ms)
        # One writer connection (SQLite has one writer) and its own thread.
        self._writer = _sync_sqlite_engine(url, settings, poolclass=StaticPool)
        _configure_sqlite(self._writer, settings, immediate=True)
        self._writer_thread = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="cencomm-sqlite-writer"
        )
        self._queued: collections.deque[_QueuedUnit] = collections.deque()
        self._queue_lock = threading.Lock()
        self._draining = False  # a drain is submitted to the writer thread or running there
        # Readers in autocommit, each statement on its own WAL snapshot, never behind the writer.
        self._reader = _sync_sqlite_engine(
            url,
            settings,
            pool_size=READER_THREADS,
            max_overflow=0,
            pool_reset_on_return=None,
        )
        _configure_sqlite(self._reader, settings, immediate=False)
        self._reader_threads = concurrent.futures.ThreadPoolExecutor(
            max_workers=READER_THREADS, thread_name_prefix="cencomm-sqlite-reader"
        )
        self.sync_engines = (self._writer, self._reader)

    def _committed(self, unit: Unit) -> None:
        self.changes.announce(unit.changed)
        unit.committed()

    async def write(self, work: Callable[[Unit], T]) -> T:
        """Run `work` in one write transaction: committed when it returns, rolled back if it
        raises. Then its `after_commit` callbacks run, on the event loop.

        Raises:
            Unavailable: a passing database failure (full disk, I/O error, lock timeout, lost
                connection, failover; `storage.failures`): rolled back, a retry may succeed.
        """
        try:
            if self._sessions is None:
                return await asyncio.shield(self._write_sqlite(work))
            return await self._finish(self._write_postgres(work))
        except (DBAPIError, PoolTimeout) as exc:
            failure = _passing(exc)
            if failure is None:
                raise
            raise failure from exc

    async def read(self, work: Callable[[Unit], T]) -> T:
        """Run read-only `work`. On PostgreSQL one snapshot for all of it; SQLite readers run in
        autocommit, so each statement sees a consistent snapshot of its own. Raises
        `Unavailable` on a passing database failure, as `write` does."""
        try:
            if self._sessions is None:
                # A SQLite read runs in a reader thread, which a cancelled caller cannot
                # interrupt (and `dispose` waits for the threads): no task of its own needed.
                return await self._read(work)
            return await self._finish(self._read(work))
        except (DBAPIError, PoolTimeout) as exc:
            failure = _passing(exc)
            if failure is None:
                raise
            raise failure from exc

    async def _finish(self, unit_of_work: Coroutine[Any, Any, T]) -> T:
        # The unit runs in its own task: cancelling the caller leaves it to finish (and `dispose`
        # waits for it), so a driver connection is never left half-way through a transaction.
        task = asyncio.get_running_loop().create_task(unit_of_work)
        self._running.add(task)
        task.add_done_callback(self._done)
        return await asyncio.shield(task)

    def _done(self, done: asyncio.Future[Any]) -> None:
        self._running.discard(done)
        if not done.cancelled():
            done.exception()  # retrieved, so that a cancelled caller leaves no warning behind

    async def _write_postgres(self, work: Callable[[Unit], T]) -> T:
        assert self._sessions is not None  # noqa: S101 - PostgreSQL only
        async with self._sessions() as session, session.begin():
            unit = Unit(session.sync_session, on_event_loop=True)
            result = await session.run_sync(lambda _sync: work(unit))
        self._committed(unit)
        return result

    def _write_sqlite(self, work: Callable[[Unit], T]) -> asyncio.Future[T]:
        """Queue the unit for the one writer thread; SQLite has one writer. The thread takes
        every unit queued meanwhile into one transaction, each unit in a savepoint of its own
        (`_UnitBatch`): they run one at a time in the order they were queued, a unit that
        raises is rolled back alone, and one commit (one `fsync`) covers them all. Each caller
        resumes after that commit, its unit's callbacks first, even if the caller was
        cancelled."""
        assert self._writer_thread is not None  # noqa: S101 - SQLite only
        loop = asyncio.get_running_loop()
        pending = _QueuedUnit(work, contextvars.copy_context(), loop.create_future())
        self._running.add(pending.future)
        pending.future.add_done_callback(self._done)
        with self._queue_lock:
            self._queued.append(pending)
            start = not self._draining
            self._draining = True
        if start:
            self._writer_thread.submit(self._drain_queue, loop)
        return pending.future

    def _drain_queue(self, loop: asyncio.AbstractEventLoop) -> None:
        """In the writer thread: write what is queued, batch after batch, until nothing is."""
        while True:
            with self._queue_lock:
                batch = [self._queued.popleft() for _ in range(min(len(self._queued), MAX_UNITS))]
                if not batch:
                    self._draining = False
                    return
            try:
                _UnitBatch(self._writer, batch).run()
            finally:  # every caller is answered, whatever happened here
                loop.call_soon_threadsafe(self._answer, batch)

    def _answer(self, batch: list[_QueuedUnit]) -> None:
        """On the event loop, in queue order: each unit's callbacks, then its caller."""
        for pending in batch:
            if pending.future.done():
                continue
            if pending.error is not None or pending.unit is None:
                pending.future.set_exception(pending.error or RuntimeError("the unit did not run"))
                continue
            self._committed(pending.unit)
            pending.future.set_result(pending.result)

    async def _read(self, work: Callable[[Unit], T]) -> T:
        if self._sessions is not None:
            try:
                return await self._read_postgres(work)
            except DBAPIError as exc:
                if not exc.connection_invalidated:
                    raise
            # The connection was dead (the server restarted, or a proxy dropped it): the pool
            # now replaces its older connections, and a read is safe to run again. A write is
            # not retried here: its caller sees the error and decides.
            return await self._read_postgres(work)
        assert self._reader_threads is not None  # noqa: S101
        reader = self._reader

        def read() -> T:
            with Session(reader, expire_on_commit=False) as session:
                return work(Unit(session))

        return await _in_thread(self._reader_threads, read)

    async def _read_postgres(self, work: Callable[[Unit], T]) -> T:
        assert self._sessions is not None  # noqa: S101 - PostgreSQL only
        async with self._sessions() as session, session.begin():
            unit = Unit(session.sync_session, on_event_loop=True)
            return await session.run_sync(lambda _sync: work(unit))

    async def dispose(self) -> None:
        """Wait for running units, then close every connection. Idempotent."""
        while self._running:
            await asyncio.wait(set(self._running))
        for threads in (self._reader_threads, self._writer_thread):
            if threads is not None:
                threads.shutdown(wait=True)
        self._reader_threads = self._writer_thread = None
        if self.engine is not None:
            await self.engine.dispose()
        else:
            self._reader.dispose()
            self._writer.dispose()


def _passing(exc: BaseException) -> DatabaseUnavailable | None:
    """A passing failure as the 503 it becomes (`storage.failures`); None for any other."""
    failure = unavailable(exc)
    if failure is not None:
        logger.warning("database unavailable: %s", str(exc).splitlines()[0][:300])
    return failure


# Units of one SQLite write transaction at most (their savepoints nest nothing; the cap bounds
# how long the first of them waits for the shared commit).
MAX_UNITS = 128


@dataclass(slots=True)
class _QueuedUnit:
    """A write unit waiting for the writer thread, and then its outcome."""

    work: Callable[[Unit], Any]
    context: contextvars.Context
    future: asyncio.Future[Any]
    unit: Unit | None = None
    result: Any = None
    error: BaseException | None = None


class _UnitBatch:
    """Queued write units in one SQLite transaction, in the writer thread.

    A lone unit is a transaction of its own, exactly as before. Several share one: `BEGIN
    IMMEDIATE`, then each unit in its own session joined to the connection through a savepoint
    (its own identity map and change marks), released when it returns and rolled back to when
    it raises, so a failing unit leaves nothing behind and fails alone; then one `COMMIT`. If
    the commit fails, every unit that had succeeded gets that error: none of them is durable.
    """

    def __init__(self, engine: Engine, batch: list[_QueuedUnit]) -> None:
        self._engine = engine
        self._batch = batch

    def run(self) -> None:
        if len(self._batch) == 1:
            _run_unit(self._batch[0], Session(self._engine, expire_on_commit=False))
            return
        try:
            with self._engine.connect() as connection, connection.begin():
                for pending in self._batch:
                    session = Session(
                        bind=connection,
                        expire_on_commit=False,
                        join_transaction_mode="create_savepoint",
                    )
                    _run_unit(pending, session)
        except Exception as exc:  # BEGIN or COMMIT failed: nothing of the batch is stored
            for pending in self._batch:
                if pending.error is None:
                    pending.error = exc


def _run_unit(pending: _QueuedUnit, session: Session) -> None:
    """`pending`'s work in `session`'s transaction (or savepoint); its result or its error."""
    try:
        with session, session.begin():
            pending.unit = Unit(session)
            pending.result = pending.context.run(pending.work, pending.unit)
    except Exception as exc:
        pending.error = exc
