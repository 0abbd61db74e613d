"""Database failures during writes: 503 `unavailable` with Retry-After, nothing half-written
stored, and the same request sent again stored exactly once (a real server on a socket, the
real database, real driver errors: tests/faults/seam.py)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient
from sqlalchemy.engine import make_url

from cencomm.app import create_app
from cencomm.appkeys import DATABASE
from cencomm.domain.users import Role
from cencomm.settings import Settings
from tests.conftest import PG_URL
from tests.factories import Member, add_member, make_group, make_member
from tests.faults.helpers import (
    assert_unavailable,
    audit_count,
    messages_with_cid,
    send_post,
    signed_post,
)
from tests.faults.seam import DROPPED, SQLITE_FAULTS, FaultPlan

# Each kind the database under test can meet (the SQLite ones are the file's; PostgreSQL's are
# connections the server ends).
KINDS = [DROPPED] if PG_URL else sorted(SQLITE_FAULTS)
FAILOVER = r"^\s*INSERT INTO audit_entry\b"


class World:
    def __init__(self, client: TestClient[Any, Any], officer: Member, group: dict[str, Any]):
        self.client = client
        self.officer = officer
        self.group = group
        self.faults = FaultPlan(client.app[DATABASE])


@pytest.fixture
async def world(aiohttp_client: AiohttpClient, settings: Settings) -> AsyncIterator[World]:
    fast_locks = replace(
        settings.database, sqlite_busy_timeout_ms=200, postgres_lock_timeout_ms=200
    )
    client = await aiohttp_client(create_app(replace(settings, database=fast_locks)))
    admin = await make_member(client, Role.ADMIN)
    officer = await make_member(client, Role.OFFICER, with_key=True)
    group = await make_group(client, admin)
    await add_member(client, admin, group, officer)
    made = World(client, officer, group)
    yield made
    made.faults.close()
    await client.close()


async def fails_then_succeeds(world: World, database_url: str, label: str) -> None:
    """A post meets the armed fault: 503, nothing stored; the same JWS again: stored once."""
    cid, jws = signed_post(world.officer, world.group, label)
    audit_before = await audit_count(database_url)
    await assert_unavailable(await send_post(world.client, world.officer, world.group, jws))
    assert await messages_with_cid(database_url, cid) == 0
    assert await audit_count(database_url) == audit_before  # no entry without its write

    retried = await send_post(world.client, world.officer, world.group, jws)
    assert retried.status == 201, await retried.text()
    assert await messages_with_cid(database_url, cid) == 1
    assert await audit_count(database_url) == audit_before + 1
    again = await send_post(world.client, world.officer, world.group, jws)
    assert again.status == 200, await again.text()  # the repeat returns the stored post
    assert await messages_with_cid(database_url, cid) == 1


@pytest.mark.parametrize("kind", KINDS)
async def test_a_fault_during_a_post_is_a_503_and_the_retry_is_stored_once(
    world: World, database_url: str, kind: str
) -> None:
    world.faults.arm(kind)
    await fails_then_succeeds(world, database_url, kind)
    assert world.faults.injected[kind] == 1 and world.faults.pending == 0


async def test_a_lock_not_had_in_time_is_a_503(world: World, database_url: str) -> None:
    """Another connection holds the lock a post needs (SQLite: the file's write lock;
    PostgreSQL: the group's row): the wait ends at the lock timeout, not never."""
    if PG_URL:
        holder = await asyncpg.connect(
            make_url(PG_URL).set(drivername="postgresql").render_as_string(hide_password=False)
        )
        transaction = holder.transaction()
        await transaction.start()
        await holder.execute("SELECT 1 FROM op_group WHERE id = $1 FOR UPDATE", world.group["id"])
        release = transaction.rollback
        close = holder.close
    else:
        path = make_url(database_url).database
        assert path is not None
        lock = sqlite3.connect(path, isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")

        async def release() -> None:
            lock.execute("ROLLBACK")

        async def close() -> None:
            lock.close()

    cid, jws = signed_post(world.officer, world.group, "locked out")
    try:
        await assert_unavailable(await send_post(world.client, world.officer, world.group, jws))
    finally:
        await release()
        await close()
    assert await messages_with_cid(database_url, cid) == 0
    retried = await send_post(world.client, world.officer, world.group, jws)
    assert retried.status == 201, await retried.text()
    assert await messages_with_cid(database_url, cid) == 1


@pytest.mark.skipif(not PG_URL, reason="a failover is PostgreSQL's")
async def test_a_failover_mid_write_ends_every_connection_and_the_retry_succeeds(
    world: World, database_url: str
) -> None:
    """Every connection of the server is ended while a post is being written (a primary going
    away): 503; the pool replaces its connections and the same post then goes through."""
    world.faults.arm(DROPPED)
    # The other pooled connections die too, as they would in a failover.
    admin = await asyncpg.connect(
        make_url(PG_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    )
    try:
        await asyncio.gather(*(world.client.get("/ready") for _ in range(3)))
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await admin.close()
    await fails_then_succeeds(world, database_url, "failover")
