"""LoginThrottleStore: attempts per budget and window, counted atomically before the check."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, literal, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from cencomm.domain.throttle import Tally, ThrottleScope
from cencomm.storage.tables import LoginThrottleRow, UtcDateTime


class LoginThrottleStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def count_attempt(
        self, scope: ThrottleScope, key: str, now: datetime, window: timedelta
    ) -> Tally:
        """Count one attempt in the budget's current window (a window that has passed starts
        again at 1) and return the count including it.

        One upsert: the row lock it takes (PostgreSQL) or SQLite's single writer makes
        concurrent attempts on one budget take turns, so each sees the others' counts.
        """
        row = LoginThrottleRow.__table__.c
        at = literal(now, UtcDateTime())
        passed = row.window_start <= literal(now - window, UtcDateTime())
        values = {"scope": scope.value, "key": key, "window_start": now, "count": 1}
        changes = {
            # SET expressions all read the row as it was, so both see the old window_start.
            "count": case((passed, 1), else_=row.count + 1),
            "window_start": case((passed, at), else_=row.window_start),
        }
        statement: Any
        if self._session.get_bind().dialect.name == "sqlite":
            statement = sqlite_insert(LoginThrottleRow).values(values)
        else:
            statement = pg_insert(LoginThrottleRow).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=["scope", "key"], set_=changes
        ).returning(LoginThrottleRow.count, LoginThrottleRow.window_start)
        count, window_start = (await self._session.execute(statement)).one()
        return Tally(scope, key, int(count), window_start)

    async def take_back(self, tally: Tally) -> None:
        """Uncount an attempt that succeeded (unless its window has started again since)."""
        await self._session.execute(
            update(LoginThrottleRow)
            .where(
                LoginThrottleRow.scope == tally.scope.value,
                LoginThrottleRow.key == tally.key,
                LoginThrottleRow.window_start == tally.window_start,
                LoginThrottleRow.count > 0,
            )
            .values(count=LoginThrottleRow.count - 1)
        )

    async def forget_before(self, cutoff: datetime) -> None:
        """Drop budgets whose window started at or before `cutoff` (they no longer count).

        Rows another transaction holds are skipped (PostgreSQL `SKIP LOCKED`), so this never
        waits on a login and can take no part in a deadlock.
        """
        stale = (
            select(LoginThrottleRow.scope, LoginThrottleRow.key)
            .where(LoginThrottleRow.window_start <= cutoff)
            .with_for_update(skip_locked=True)  # SQLite has one writer and renders no clause
        )
        await self._session.execute(
            delete(LoginThrottleRow).where(
                tuple_(LoginThrottleRow.scope, LoginThrottleRow.key).in_(stale)
            )
        )
