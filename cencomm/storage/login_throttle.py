"""LoginThrottleStore: login attempts per budget within a sliding window, counted atomically."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from cencomm.domain.throttle import Tally, ThrottleScope
from cencomm.storage.tables import LoginAttemptRow, LoginThrottleRow


class LoginThrottleStore:
    def __init__(self, session: Session) -> None:
        self._session = session

    def count_attempt(
        self, scope: ThrottleScope, key: str, now: datetime, window: timedelta
    ) -> Tally:
        """Record one attempt in the budget and count the budget's attempts within the window
        that ends now, this one included.

        The budget's row is upserted first: its row lock (PostgreSQL; SQLite has one writer
        anyway) is held until the transaction ends, so concurrent attempts on one budget take
        turns, and each counts after the previous one committed: none can miss another.
        """
        lock_values = {"scope": scope.value, "key": key, "last_attempt_at": now}
        upsert: Any = (
            sqlite_insert(LoginThrottleRow)
            if self._session.get_bind().dialect.name == "sqlite"
            else pg_insert(LoginThrottleRow)
        )
        self._session.execute(
            upsert.values(lock_values).on_conflict_do_update(
                index_elements=["scope", "key"], set_={"last_attempt_at": now}
            )
        )
        attempt_id = (
            self._session.execute(
                insert(LoginAttemptRow)
                .values(scope=scope.value, key=key, at=now)
                .returning(LoginAttemptRow.id)
            )
        ).scalar_one()
        count, oldest = (
            self._session.execute(
                select(func.count(), func.min(LoginAttemptRow.at)).where(
                    LoginAttemptRow.scope == scope.value,
                    LoginAttemptRow.key == key,
                    LoginAttemptRow.at > now - window,
                )
            )
        ).one()
        # `min` keeps the column's type (aware UTC); this attempt is in the window, so never None.
        return Tally(scope, key, int(count), oldest or now, int(attempt_id))

    def take_back(self, tally: Tally) -> None:
        """Uncount an attempt that succeeded."""
        self._session.execute(delete(LoginAttemptRow).where(LoginAttemptRow.id == tally.attempt_id))

    def forget_before(self, cutoff: datetime) -> None:
        """Drop attempts (and idle budgets) at or before `cutoff`: they no longer count.

        Rows another transaction holds are skipped (PostgreSQL `SKIP LOCKED`; SQLite has one
        writer and renders no clause), so this never waits on a login and takes no part in a
        deadlock.
        """
        old_attempts = (
            select(LoginAttemptRow.id)
            .where(LoginAttemptRow.at <= cutoff)
            .with_for_update(skip_locked=True)
        )
        self._session.execute(delete(LoginAttemptRow).where(LoginAttemptRow.id.in_(old_attempts)))
        idle = (
            select(LoginThrottleRow.scope, LoginThrottleRow.key)
            .where(LoginThrottleRow.last_attempt_at <= cutoff)
            .with_for_update(skip_locked=True)
        )
        self._session.execute(
            delete(LoginThrottleRow).where(
                tuple_(LoginThrottleRow.scope, LoginThrottleRow.key).in_(idle)
            )
        )
