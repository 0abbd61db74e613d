"""Redis going away and coming back while a socket follows a group and posts go on: the
socket on another process still receives every message, in order, once each (polled from the
database while Redis is down, then from Redis notices again); an alert raised meanwhile reaches
the sockets of the process that raised it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
from aiohttp import ClientWebSocketResponse
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from cencomm.app import create_app
from cencomm.domain.users import Role
from cencomm.settings import BusSettings, Settings
from cencomm.web.live_poll import BUS_POLLER, BusPoller
from tests.factories import Member, add_member, make_group, make_member, post_message
from tests.faults.redis_server import PrivateRedis
from tests.processes import unavailable
from tests.web.live_helpers import connect, live_settings, next_of, send_alert

WAIT = 20.0  # an upper bound for one frame, never a timing assumption


@pytest.fixture
async def redis() -> AsyncIterator[PrivateRedis]:
    server = PrivateRedis()
    try:
        await server.start()
    except (RuntimeError, OSError, TimeoutError) as exc:  # no redis-server binary here
        unavailable("a private redis-server", exc)
    yield server
    await server.kill()


async def receive_seqs(ws: ClientWebSocketResponse, count: int) -> list[int]:
    return [(await next_of(ws, "message", WAIT))["seq"] for _ in range(count)]


def _apps_settings(settings: Settings, redis: PrivateRedis) -> Settings:
    bus = BusSettings(url=redis.url, channel=f"faults:{uuid.uuid4().hex}", poll_interval=0.05)
    return replace(live_settings(settings), bus=bus)


async def test_live_delivery_survives_redis_going_away_and_coming_back(
    aiohttp_client: AiohttpClient, settings: Settings, redis: PrivateRedis
) -> None:
    """Two server processes' worth of app on one database and Redis: the reader's socket on
    one, the posts through the other, so what Redis does not carry must come from the
    database."""
    both = _apps_settings(settings, redis)
    client: TestClient[Any, Any] = await aiohttp_client(create_app(both))
    other: TestClient[Any, Any] = await aiohttp_client(create_app(both))
    poller: BusPoller = client.app[BUS_POLLER]
    admin = await make_member(client, Role.ADMIN)
    poster = await make_member(client, Role.OFFICER, with_key=True)
    reader: Member = await make_member(client, Role.OFFICER)
    group = await make_group(client, admin)
    await add_member(client, admin, group, poster)
    await add_member(client, admin, group, reader)
    ws = await connect(client, reader)
    received: list[int] = []

    async def post(count: int) -> None:
        for _ in range(count):
            await post_message(other, poster, group)

    await post(2)
    received += await receive_seqs(ws, 2)
    assert poller.notices == 0  # Redis carried them

    await redis.kill()
    await post(3)  # each answered 201: the posts do not wait for the bus
    received += await receive_seqs(ws, 3)
    assert poller.degraded and poller.notices >= 1  # they came through the database

    await redis.start()
    async with asyncio.timeout(WAIT):  # the bus is back and the poller has seen it
        await poller.following_bus.wait()
    assert poller.bus.connected
    notices = poller.notices
    await post(2)
    received += await receive_seqs(ws, 2)
    # One more: the frame after it would show a duplicate or a gap before it.
    await post(1)
    received += await receive_seqs(ws, 1)
    assert received == list(range(1, 9))
    assert poller.notices == notices  # Redis again
    await ws.close()
    await other.close()
    await client.close()


async def test_an_alert_raised_while_redis_is_down_reaches_the_sockets_of_its_process(
    aiohttp_client: AiohttpClient, settings: Settings, redis: PrivateRedis
) -> None:
    client: TestClient[Any, Any] = await aiohttp_client(create_app(_apps_settings(settings, redis)))
    admin = await make_member(client, Role.ADMIN)
    moderator = await make_member(client, Role.MODERATOR, with_key=True)
    reader = await make_member(client, Role.OFFICER)
    group = await make_group(client, admin)
    await add_member(client, admin, group, reader)
    ws = await connect(client, reader)

    await redis.kill()
    sent = await send_alert(client, moderator, {"groups": [group["id"]]})
    frame = await next_of(ws, "alert", WAIT)  # its publish failed: delivered here all the same
    assert frame["alert"]["id"] == sent["id"]
    await ws.close()
    await client.close()
