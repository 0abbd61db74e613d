"""Buses: in-process round trip, and Redis pub/sub between two buses on the local Redis."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from cencomm.domain.event_base import InvalidNotice
from cencomm.domain.events import LiveEvent, MessagePosted, SessionRevoked
from cencomm.domain.ids import MessageId
from cencomm.realtime.bus import EventPublisher, InProcessBus, RedisBus, make_bus
from tests.realtime.helpers import group, session, user, within

REDIS_URL = os.environ.get("CENCOMM_TEST_REDIS_URL") or "redis://127.0.0.1:6379/0"


class Inbox:
    """A bus handler that keeps what it receives, to be awaited with a timeout."""

    def __init__(self) -> None:
        self.events: asyncio.Queue[LiveEvent] = asyncio.Queue()

    async def __call__(self, event: LiveEvent) -> None:
        self.events.put_nowait(event)

    async def next(self, seconds: float = 5.0) -> LiveEvent:
        return await within(self.events.get(), seconds)


def _posted(seq: int = 1) -> MessagePosted:
    return MessagePosted(group(), seq, MessageId(uuid.uuid4()))


async def test_in_process_bus_delivers_notices_in_order() -> None:
    bus, inbox = InProcessBus(), Inbox()
    await bus.start(inbox)
    events = [_posted(seq) for seq in range(1, 6)] + [SessionRevoked((session(),), user())]
    for event in events:
        await bus.publish(event.to_notice())
    assert [await inbox.next() for _ in events] == events
    await bus.close()


async def test_in_process_bus_refuses_malformed_notices_and_survives_handler_errors() -> None:
    bus = InProcessBus()
    inbox = Inbox()
    failures = 0

    async def handler(event: LiveEvent) -> None:
        nonlocal failures
        if isinstance(event, SessionRevoked):
            failures += 1
            raise RuntimeError("boom")
        await inbox(event)

    await bus.start(handler)
    with pytest.raises(InvalidNotice):
        await bus.publish({"event": "message.posted", "seq": 1})
    await bus.publish(SessionRevoked((session(),), user()).to_notice())
    event = _posted()
    await bus.publish(event.to_notice())
    assert await inbox.next() == event
    assert failures == 1
    assert bus.handler_errors == 1
    await bus.close()


async def test_publish_nowait_keeps_order_on_both_buses(redis_admin: Redis, channel: str) -> None:
    for bus in (InProcessBus(), _redis_bus(channel, "test-nowait")):
        inbox = Inbox()
        await bus.start(inbox)
        try:
            events = [_posted(seq) for seq in range(1, 21)]
            publisher = EventPublisher(bus)
            for event in events:
                publisher.publish(event)  # synchronous: returns before anything is sent
            assert [await inbox.next() for _ in events] == events
            with pytest.raises(InvalidNotice):
                bus.publish_nowait(MessagePosted(group(), -1, MessageId(uuid.uuid4())))
        finally:
            await bus.close()


def test_make_bus_picks_the_implementation_from_the_url() -> None:
    assert isinstance(make_bus(None), InProcessBus)
    assert isinstance(make_bus("redis://127.0.0.1:6379/0"), RedisBus)
    with pytest.raises(ValueError, match="bus URL"):
        make_bus("amqp://x")


# -- Redis ---------------------------------------------------------------------------------


@pytest.fixture
async def redis_admin() -> AsyncIterator[Redis]:
    """A plain client on the test Redis; in CI an unreachable Redis fails, elsewhere it skips."""
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await within(client.ping(), 5)
    except (RedisError, OSError, TimeoutError) as exc:
        await client.aclose()
        reason = f"Redis at {REDIS_URL} is unreachable: {type(exc).__name__}: {exc}"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI requires it; set CENCOMM_TEST_REDIS_URL)")
        pytest.skip(reason)
    yield client
    await client.aclose()


@pytest.fixture
def channel() -> str:
    # One channel per test: other suites may share this Redis.
    return f"cencomm:test:{uuid.uuid4()}"


def _redis_bus(channel: str, name: str) -> RedisBus:
    return RedisBus(REDIS_URL, channel, client_name=name, reconnect_delay=0.01)


async def test_a_notice_published_on_one_process_reaches_the_other(
    redis_admin: Redis, channel: str
) -> None:
    a, b = _redis_bus(channel, "test-a"), _redis_bus(channel, "test-b")
    inbox_a, inbox_b = Inbox(), Inbox()
    await a.start(inbox_a)
    await b.start(inbox_b)
    try:
        event = _posted(seq=17)
        await a.publish(event.to_notice())
        assert await inbox_b.next() == event
        assert await inbox_a.next() == event  # the publishing process hears it too
        assert a.connected and b.connected
    finally:
        await a.close()
        await b.close()
    assert not b.connected


async def test_malformed_notices_on_the_channel_are_dropped(
    redis_admin: Redis, channel: str
) -> None:
    bus, inbox = _redis_bus(channel, "test-malformed"), Inbox()
    await bus.start(inbox)
    try:
        for raw in (b"not json", b"\xff\xfe", b"[]", b'{"event": "message.exploded"}', b"{}"):
            await redis_admin.publish(channel, raw)
        event = _posted()
        await redis_admin.publish(channel, json.dumps(event.to_notice()))
        assert await inbox.next() == event
        assert bus.notices_dropped == 5
        assert inbox.events.empty()
    finally:
        await bus.close()


async def test_the_listener_reconnects_after_its_connection_is_killed(
    redis_admin: Redis, channel: str
) -> None:
    name = f"test-kill-{uuid.uuid4().hex[:12]}"
    publisher, listener = _redis_bus(channel, "test-publisher"), _redis_bus(channel, name)
    inbox = Inbox()
    await publisher.start(Inbox())
    await listener.start(inbox)
    try:
        before = _posted(seq=1)
        await publisher.publish(before.to_notice())
        assert await inbox.next() == before
        # Kill only this test's subscriber connection (CLIENT KILL TYPE pubsub would also
        # disconnect other suites sharing this Redis).
        clients = await redis_admin.client_list()
        ids = [c["id"] for c in clients if c.get("name") == name and "P" in c.get("flags", "")]
        assert ids, "the listener's pub/sub connection should be visible in CLIENT LIST"
        for client_id in ids:
            await redis_admin.client_kill_filter(_id=client_id)
        # Notices published while it reconnects may be lost (by design): publish until one
        # arrives, each wait bounded, the whole loop bounded too.
        async with asyncio.timeout(10):
            seq = 2
            while True:
                after = _posted(seq=seq)
                await publisher.publish(after.to_notice())
                try:
                    got = await inbox.next(seconds=0.2)
                except TimeoutError:
                    seq += 1
                    continue
                if got == after:
                    break
        assert listener.reconnects >= 1
        assert listener.connected
    finally:
        await listener.close()
        await publisher.close()
