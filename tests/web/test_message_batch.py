"""The group-commit writer's idempotency lookup: only the asked (sender, cid) pairs, through the
unique (sender_id, cid) index rather than a scan of every message (and the alerts' lookup, on
both databases)."""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp.test_utils import TestClient

from cencomm.appkeys import SERVICES
from cencomm.domain.users import Role
from tests.factories import add_member, make_group, make_member, post_message
from tests.query_plans import assert_searches, plans


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
    a, b = await _two_senders(client)
    [plan] = await plans(db, lambda unit: unit.message_batch.find_by_cids({(a, C1), (b, C2)}))
    assert_searches(db, plan, "message", "uq_message_sender_cid")


async def test_the_alert_lookup_uses_the_sender_cid_index(client: TestClient[Any, Any]) -> None:
    db = client.app[SERVICES].db
    a, _ = await _two_senders(client)
    [plan] = await plans(db, lambda unit: unit.alerts.find_by_cid(a, C1))
    assert_searches(db, plan, "alert", "uq_alert_sender_cid")
