"""The database failing: which failures are passing, and the 503 they become.

`commands` turns `DatabaseFailure` into a one-line reason for the operator; docs/design.md
keeps SQLAlchemy out of it, so the class it catches is named here, where SQL is spoken.

A request that meets a *transient* failure (a full disk, an I/O error, a lock it could not
get in time, a dropped connection, a server shutting down or failing over) gets 503
`unavailable` with `Retry-After` instead of a 500: the transaction was rolled back, nothing of
it is stored, and the same request sent again (the same `cid` for a post) may succeed.
Integrity errors and programming errors are not transient and stay what they are.
"""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Iterator

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from cencomm.domain.errors import Unavailable

# What a driver raises through SQLAlchemy: unreachable server, refused login, missing database,
# a lost connection, a locked SQLite file. SQLAlchemy's OperationalError is one of these.
DatabaseFailure = DBAPIError

# Seconds a client should wait: a lock or a connection frees up soon; a full or failing disk
# needs an operator, so clients should not hammer it.
RETRY_SOON_SECONDS = 1
RETRY_LATER_SECONDS = 30

# SQLite primary result codes of a passing failure: busy/locked (a lock not had in time), full
# disk, I/O error, cannot open (the file or its directory unreachable for now).
_SQLITE_LOCK = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}
_SQLITE_DISK = {sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN}
_SQLITE_MESSAGES = {
    "database is locked": RETRY_SOON_SECONDS,
    "database table is locked": RETRY_SOON_SECONDS,
    "database or disk is full": RETRY_LATER_SECONDS,
    "disk i/o error": RETRY_LATER_SECONDS,
    "unable to open database file": RETRY_LATER_SECONDS,
}
# PostgreSQL SQLSTATE classes of a passing failure: 08 connection exception, 40 transaction
# rollback (serialization, deadlock), 53 insufficient resources (disk full, out of memory,
# too many connections), 57 operator intervention (admin shutdown, crash shutdown, cannot
# connect now, query cancelled), 58 system error (I/O error); and 55P03 lock not available
# (`lock_timeout`), 25P03 idle-in-transaction timeout.
_PG_SOON_CLASSES = {"08", "40", "57"}
_PG_LATER_CLASSES = {"53", "58"}
_PG_SOON_STATES = {"55P03", "25P03"}


def retry_after(exc: BaseException) -> int | None:
    """Seconds after which a retry may succeed if `exc` is a passing database failure, else
    None (an integrity error, a programming error, anything we do not know)."""
    if isinstance(exc, PoolTimeout):
        return RETRY_SOON_SECONDS  # every pooled connection busy for the pool's whole timeout
    if not isinstance(exc, DBAPIError) or isinstance(exc, IntegrityError):
        return None
    if exc.connection_invalidated:
        return RETRY_SOON_SECONDS  # the driver saw the connection die
    for error in _causes(exc.orig):
        seconds = _sqlite_retry_after(error) if isinstance(error, sqlite3.Error) else None
        seconds = seconds or _postgres_retry_after(error)
        if seconds is not None:
            return seconds
        if isinstance(error, OSError | TimeoutError):
            return RETRY_SOON_SECONDS  # the socket to the server failed
        if "connection is closed" in str(error) or "connection was closed" in str(error):
            return RETRY_SOON_SECONDS  # asyncpg's InterfaceError on a dead connection
    return None


class DatabaseUnavailable(Unavailable):
    """A passing database failure as a 503, raised from the driver's error (`__cause__`)."""


def unavailable(exc: BaseException) -> DatabaseUnavailable | None:
    """The 503 a passing database failure becomes, or None to let `exc` propagate."""
    seconds = retry_after(exc)
    if seconds is None:
        return None
    return DatabaseUnavailable(
        "The database cannot take this request now; nothing of it was stored. "
        "Retry after the Retry-After delay (a post with the same cid).",
        retry_after=seconds,
    )


def _causes(error: BaseException | None) -> Iterator[BaseException]:
    """`error` and what it was raised from (SQLAlchemy's asyncpg adapter wraps the driver's)."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield error
        error = error.__cause__ or error.__context__


def _sqlite_retry_after(error: sqlite3.Error) -> int | None:
    code = getattr(error, "sqlite_errorcode", None)
    if isinstance(code, int):
        primary = code & 0xFF
        if primary in _SQLITE_LOCK:
            return RETRY_SOON_SECONDS
        if primary in _SQLITE_DISK:
            return RETRY_LATER_SECONDS
        return None
    return _SQLITE_MESSAGES.get(str(error).strip().lower())


def _postgres_retry_after(error: BaseException) -> int | None:
    state = getattr(error, "sqlstate", None)
    if not isinstance(state, str) or len(state) != 5:
        return None
    if state[:2] in _PG_SOON_CLASSES or state in _PG_SOON_STATES:
        return RETRY_SOON_SECONDS
    if state[:2] in _PG_LATER_CLASSES:
        return RETRY_LATER_SECONDS
    return None


# A disk that is full (or over quota) or failing: a blob could not be written, for now.
_DISK_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS}


def disk_unavailable(exc: OSError) -> Unavailable | None:
    """The 503 a full or failing disk becomes while a blob is written, or None for any other
    `OSError` (a programming error, a permission we should have had)."""
    if exc.errno not in _DISK_ERRNOS:
        return None
    return Unavailable(
        f"The server cannot store files now ({errno.errorcode.get(exc.errno or 0, 'disk')}); "
        "nothing of this upload was kept. Retry after the Retry-After delay.",
        retry_after=RETRY_LATER_SECONDS,
    )
