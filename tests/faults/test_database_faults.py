"""Database failures during writes: 503 `unavailable` with Retry-After, nothing half-written
stored, and the same request sent again stored exactly once (a real server on a socket, the
real database, real driver errors: tests/faults/seam.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from cencomm.app import create_app
from cencomm.appkeys import DATABASE
from cencomm.domain.users import Role
from cencomm.settings import Settings
from tests.conftest import PG_URL
from tests.factories import Member, add_member, make_group, make_member
from tests.faults.scenarios import (
    post_fails_then_is_stored_once,
    post_meets_a_held_lock,
)
from tests.faults.seam import DROPPED, FAILOVER, SQLITE_FAULTS, FaultPlan

# Each kind the database under test can meet (the SQLite ones are the file's; PostgreSQL's are
# connections the server ends).
KINDS = [DROPPED] if PG_URL else sorted(SQLITE_FAULTS)


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


@pytest.mark.parametrize("kind", KINDS)
async def test_a_fault_during_a_post_is_a_503_and_the_retry_is_stored_once(
    world: World, database_url: str, kind: str
) -> None:
    world.faults.arm(kind)
    await post_fails_then_is_stored_once(
        world.client, world.officer, world.group, database_url, kind
    )
    assert world.faults.injected[kind] == 1 and world.faults.pending == 0


async def test_a_lock_not_had_in_time_is_a_503(world: World, database_url: str) -> None:
    """Another connection holds the lock a post needs (SQLite: the file's write lock;
    PostgreSQL: the group's row): the wait ends at the lock timeout, not never."""
    await post_meets_a_held_lock(world.client, world.officer, world.group, database_url)


@pytest.mark.skipif(not PG_URL, reason="a failover is PostgreSQL's")
async def test_a_failover_mid_write_ends_every_connection_and_the_retry_succeeds(
    world: World, database_url: str
) -> None:
    """Every connection of the server is ended while a post is being written (a primary going
    away): 503; the pool replaces its connections and the same post then goes through."""
    await asyncio.gather(*(world.client.get("/ready") for _ in range(3)))  # a pool in use
    world.faults.arm(FAILOVER)
    await post_fails_then_is_stored_once(
        world.client, world.officer, world.group, database_url, "failover"
    )
