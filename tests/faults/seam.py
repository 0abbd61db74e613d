"""The fault seam: real driver failures injected into a running server's database statements.

A `FaultPlan` is attached to an application's `Database` by the test (or `bench.faults`) that
owns that application, in the same process; it listens to SQLAlchemy's `before_cursor_execute`
on the database's engines and, when armed, fails the next statement that matches:

- SQLite: the `sqlite3.OperationalError` the driver raises for a full disk (SQLITE_FULL), a
  failing disk (SQLITE_IOERR) or a lock not had in time (SQLITE_BUSY), with its error code;
- PostgreSQL: the server itself ends the writing connection mid-transaction, or every
  connection to the database at once, that one last (`pg_terminate_backend`: the admin shutdown
  a failover or a killed backend gives, asyncpg's `AdminShutdownError` /
  `ConnectionDoesNotExistError`).

How it stays out of production: the seam lives under `tests/`, which the `cencomm` package
never imports (tests/test_architecture.py); no setting, environment variable or request can
arm it; only code holding the `Database` object in the server's own process can attach it.
"""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, event

from cencomm.storage.db import Database

# Kinds of injected database faults (counted in `FaultPlan.injected`).
DISK_FULL = "disk-full"
IO_ERROR = "io-error"
LOCKED = "locked"
DROPPED = "dropped-connection"
FAILOVER = "failover"
POSTGRES_FAULTS = {
    # The server ends the connection that is writing.
    DROPPED: "SELECT pg_terminate_backend(pg_backend_pid())",
    # Every connection to the database ends at once, the writing one included: what the
    # server's pool sees when the primary goes away.
    FAILOVER: "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
    "WHERE datname = current_database() ORDER BY pid = pg_backend_pid()",
}

SQLITE_FAULTS = {
    DISK_FULL: (sqlite3.SQLITE_FULL, "SQLITE_FULL", "database or disk is full"),
    IO_ERROR: (sqlite3.SQLITE_IOERR, "SQLITE_IOERR", "disk I/O error"),
    LOCKED: (sqlite3.SQLITE_BUSY, "SQLITE_BUSY", "database is locked"),
}
# Statements of a write: the audit entry comes after the rows it records, so a fault there
# tests that what the unit already wrote is rolled back with it.
AUDIT_INSERT = r"^\s*INSERT INTO audit_entry\b"


def sqlite_error(kind: str) -> sqlite3.OperationalError:
    """The exception `sqlite3` raises for `kind`, error code and name included."""
    code, name, message = SQLITE_FAULTS[kind]
    error = sqlite3.OperationalError(message)
    error.sqlite_errorcode = code
    error.sqlite_errorname = name
    return error


@dataclass
class _Armed:
    kind: str
    pattern: re.Pattern[str]
    times: int


class FaultPlan:
    """Faults armed on one `Database`; `close()` detaches it."""

    def __init__(self, db: Database) -> None:
        self.dialect = db.dialect
        self.injected: Counter[str] = Counter()
        self._armed: list[_Armed] = []
        self._engines: tuple[Engine, ...] = db.sync_engines
        for engine in self._engines:
            event.listen(engine, "before_cursor_execute", self._before, retval=True)

    def arm(self, kind: str, match: str = AUDIT_INSERT, times: int = 1) -> None:
        """Fail the next `times` statements matching `match` (a regex) with fault `kind`."""
        if kind in POSTGRES_FAULTS and self.dialect != "postgresql":
            raise ValueError(f"{kind} is injected on PostgreSQL")
        if kind in SQLITE_FAULTS and self.dialect != "sqlite":
            raise ValueError(f"{kind} is injected on SQLite")
        self._armed.append(_Armed(kind, re.compile(match, re.IGNORECASE), times))

    @property
    def pending(self) -> int:
        return sum(armed.times for armed in self._armed)

    def disarm(self) -> int:
        """Forget what is still armed (a scenario that failed before reaching it); how many."""
        left = self.pending
        self._armed.clear()
        return left

    def close(self) -> None:
        for engine in self._engines:
            event.remove(engine, "before_cursor_execute", self._before)

    def _before(
        self,
        _connection: Any,
        cursor: Any,
        statement: str,
        parameters: Any,
        _context: Any,
        _executemany: bool,
    ) -> tuple[str, Any]:
        for armed in self._armed:
            if armed.pattern.search(statement):
                armed.times -= 1
                if armed.times <= 0:
                    self._armed.remove(armed)
                self.injected[armed.kind] += 1
                self._inject(armed.kind, cursor)
        return statement, parameters

    @staticmethod
    def _inject(kind: str, cursor: Any) -> None:
        if kind in POSTGRES_FAULTS:
            # The server ends this very connection; the driver raises what it raises then.
            cursor.execute(POSTGRES_FAULTS[kind])
            raise AssertionError("pg_terminate_backend returned on its own connection")
        raise sqlite_error(kind)
