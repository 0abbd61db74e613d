"""Query plans on the test database: which index a store's statement uses.

`plans(db, work)` runs `work` in a read unit, records the statements it sends to the driver,
and returns each one's plan (EXPLAIN QUERY PLAN on SQLite; EXPLAIN on PostgreSQL with
sequential scans priced out, so a plan that still scans the table shows that no index can
answer the statement, whatever the table's size).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event

from cencomm.storage.db import Database
from cencomm.storage.unit import Unit


async def plans(db: Database, work: Callable[[Unit], object]) -> list[list[str]]:
    """The plan of every statement `work` runs, in order, each as its lines."""
    sent: list[tuple[Any, str, Any]] = []

    def record(conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if not statement.lstrip().upper().startswith(("EXPLAIN", "SET")):
            sent.append((conn, statement, parameters))

    def explain(unit: Unit) -> list[list[str]]:
        work(unit)
        connection = unit._session.connection()  # raw SQL: EXPLAIN has no store
        # Only this unit's statements: a background job may use the engine meanwhile.
        seen = [(s, p) for conn, s, p in sent if conn is connection]
        if db.dialect == "sqlite":
            return [
                [str(row[-1]) for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {s}", p)]
                for s, p in seen
            ]
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        return [
            [str(row[0]) for row in connection.exec_driver_sql(f"EXPLAIN {s}", p)] for s, p in seen
        ]

    for engine in db.sync_engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        return await db.read(explain)
    finally:
        for engine in db.sync_engines:
            event.remove(engine, "before_cursor_execute", record)


def assert_searches(db: Database, plan: list[str], table: str, postgres_index: str) -> None:
    """`plan` reads `table` only through an index (on PostgreSQL: the one named), never by
    scanning every row."""
    text = "\n".join(plan)
    if db.dialect == "sqlite":
        # "SEARCH message USING INDEX ..." / "USING PRIMARY KEY"; a full scan is "SCAN message".
        assert f"SEARCH {table} USING" in text, text
        assert f"SCAN {table}" not in text, text
        return
    assert f"Seq Scan on {table}" not in text, text
    assert any(
        f"Index Scan using {postgres_index} on {table}" in line
        or f"Index Only Scan using {postgres_index} on {table}" in line
        or f"Bitmap Index Scan on {postgres_index}" in line
        for line in plan
    ), text
