"""The group-commit writer's idempotency lookup: only the asked (sender, cid) pairs, through the
unique (sender_id, cid) index rather than a scan of every message."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import event

from cencomm.appkeys import SERVICES
from cencomm.domain.users import Role
from cencomm.storage.unit import Unit
from tests.factories import add_member, make_group, make_member, post_message


async def _two_senders(client: TestClient[Any, Any]) -> tuple[uuid.UUID, uuid.UUID]:
    """Sender A used cids c1 and c2, sender B cid c1 only."""
    owner = await make_member(client, Role.MODERATOR)
    group = await make_group(client, owner)
    a = await make_member(client, with_key=True)
    b = await make_member(client, with_key=True)
    for member in (a, b):
        await add_member(client, owner, group, member)
    await post_message(client, a, group, cid="00000000-0000-4000-8000-0000000000c1")
    await post_message(client, a, group, cid="00000000-0000-4000-8000-0000000000c2")
    await post_message(client, b, group, cid="00000000-0000-4000-8000-0000000000c1")
    return uuid.UUID(a.id), uuid.UUID(b.id)


C1 = "00000000-0000-4000-8000-0000000000c1"
C2 = "00000000-0000-4000-8000-0000000000c2"


async def test_only_the_asked_pairs_are_found(client: TestClient[Any, Any]) -> None:
    a, b = await _two_senders(client)
    db = client.app[SERVICES].db
    # The senders and cids asked for also make (a, c1) and (b, c1): both stored, neither asked.
    asked = {(a, C2), (b, C2)}
    found = await db.read(lambda unit: unit.message_batch.find_by_cids(asked))
    assert set(found) == {(a, C2)}
    everything = {(a, C1), (a, C2), (b, C1)}
    found = await db.read(lambda unit: unit.message_batch.find_by_cids(everything))
    assert set(found) == everything
    assert len({f.id for f in found.values()}) == 3


async def test_the_lookup_uses_the_sender_cid_index(client: TestClient[Any, Any]) -> None:
    db = client.app[SERVICES].db
    if db.dialect != "sqlite":
        pytest.skip("the query plan is SQLite's")
    a, b = await _two_senders(client)
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "jws_sha256" in statement:
            seen.append((statement, parameters))

    def plan(unit: Unit) -> list[str]:
        unit.message_batch.find_by_cids({(a, C1), (b, C2)})
        statement, parameters = seen[0]
        connection = unit._session.connection()  # raw SQL: EXPLAIN has no store
        rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
        return [str(row[-1]) for row in rows]

    for engine in db.sync_engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        steps = await db.read(plan)
    finally:
        for engine in db.sync_engines:
            event.remove(engine, "before_cursor_execute", record)
    message_steps = [s for s in steps if " message " in f"{s} "]
    assert message_steps, steps
    assert all("USING" in s and "INDEX" in s for s in message_steps), steps
