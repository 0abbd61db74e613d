"""The SQL statements requests run, for tests that compare the work of two requests."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import event

from cencomm.appkeys import DATABASE
from cencomm.web.middlewares import CURRENT_REQUEST_ID


@contextlib.contextmanager
def recorded_statements(client: TestClient[Any, Any]) -> Iterator[list[str]]:
    """The SQL statements (text, not parameters) run on behalf of requests while recording.

    A statement belongs to a request when the request's context is current where it runs: in the
    request's own tasks and, since the database copies the caller's context into its threads, in
    the work those tasks hand to the database threads. Background work (tree-head signing,
    senders, sweepers, the message writer) runs without a request context and is left out, even
    when it runs on the same threads or in helper tasks during the recording."""
    db = client.app[DATABASE]
    engines = set(db.sync_engines)
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if CURRENT_REQUEST_ID.get() is not None:
            statements.append(statement)

    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)
