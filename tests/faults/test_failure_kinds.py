"""Which database failures are passing (503 with Retry-After) and which are not, for the
exceptions the real drivers raise, wrapped as SQLAlchemy wraps them."""

from __future__ import annotations

import errno
import sqlite3

import asyncpg.exceptions as pg
import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from cencomm.storage.failures import (
    RETRY_LATER_SECONDS,
    RETRY_SOON_SECONDS,
    disk_unavailable,
    retry_after,
)
from tests.faults.seam import DISK_FULL, IO_ERROR, LOCKED, sqlite_error

SOON, LATER = RETRY_SOON_SECONDS, RETRY_LATER_SECONDS


def wrapped(orig: BaseException, cls: type[DBAPIError] = OperationalError) -> DBAPIError:
    return cls("INSERT INTO audit_entry ...", {}, orig)


@pytest.mark.parametrize(
    ("error", "seconds"),
    [
        (sqlite_error(DISK_FULL), LATER),
        (sqlite_error(IO_ERROR), LATER),
        (sqlite_error(LOCKED), SOON),
        # Without the error code (an older driver): known by its message.
        (sqlite3.OperationalError("database or disk is full"), LATER),
        (sqlite3.OperationalError("database is locked"), SOON),
        (sqlite3.OperationalError("no such table: message"), None),
        (pg.DiskFullError("could not extend file"), LATER),
        (pg.TooManyConnectionsError("too many clients"), LATER),
        (pg.PostgresIOError("could not read block"), LATER),
        (pg.LockNotAvailableError("canceling statement due to lock timeout"), SOON),
        (pg.DeadlockDetectedError("deadlock detected"), SOON),
        (pg.SerializationError("could not serialize access"), SOON),
        (pg.AdminShutdownError("terminating connection due to administrator command"), SOON),
        (pg.CannotConnectNowError("the database system is starting up"), SOON),
        (pg.ConnectionDoesNotExistError("connection was closed"), SOON),
        (pg.QueryCanceledError("canceling statement due to statement timeout"), SOON),
        (ConnectionResetError(errno.ECONNRESET, "reset"), SOON),
        (pg.PostgresSyntaxError("syntax error"), None),
        (pg.UndefinedTableError("relation does not exist"), None),
    ],
)
def test_passing_failures_are_told_from_the_others(
    error: BaseException, seconds: int | None
) -> None:
    assert retry_after(wrapped(error)) == seconds


def test_the_driver_error_is_found_under_the_adapter() -> None:
    """SQLAlchemy's asyncpg adapter raises its own class *from* the driver's exception."""
    try:
        try:
            raise pg.DiskFullError("could not extend file")
        except pg.DiskFullError as driver:
            raise RuntimeError("adapted") from driver
    except RuntimeError as adapted:
        assert retry_after(wrapped(adapted)) == LATER


def test_integrity_and_programming_errors_stay_what_they_are() -> None:
    assert retry_after(wrapped(pg.UniqueViolationError("duplicate key"), IntegrityError)) is None
    assert retry_after(wrapped(sqlite_error(LOCKED), IntegrityError)) is None
    assert retry_after(wrapped(pg.PostgresSyntaxError("syntax"), ProgrammingError)) is None
    assert retry_after(ValueError("not a database error")) is None


def test_a_connection_the_driver_saw_die_and_an_exhausted_pool_are_passing() -> None:
    dead = DBAPIError("SELECT 1", {}, Exception("gone"), connection_invalidated=True)
    assert retry_after(dead) == SOON
    assert retry_after(PoolTimeout("QueuePool limit reached")) == SOON


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS])
def test_a_full_or_failing_disk_is_a_503(code: int) -> None:
    failure = disk_unavailable(OSError(code, "disk"))
    assert failure is not None and failure.retry_after == LATER


def test_other_os_errors_are_not_a_503() -> None:
    assert disk_unavailable(PermissionError(errno.EACCES, "denied")) is None
    assert disk_unavailable(FileNotFoundError(errno.ENOENT, "gone")) is None
