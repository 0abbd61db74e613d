"""Worker links in one process: real socket pairs between a hub and its spokes.

The processes themselves are tested end to end in tests/test_workers.py; here each rule of the
link protocol is shown on its own: outcomes and refusals cross, a lost link answers 503 with
`Retry-After`, and the hub relays every notice to the other processes exactly once.
"""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import cast

import pytest

from cencomm.domain.audit import AuditRecord
from cencomm.domain.clock import SystemClock
from cencomm.domain.errors import CencommError, Conflict, Unavailable
from cencomm.domain.events import LiveEvent, MessagePosted
from cencomm.domain.ids import GroupId, MessageId
from cencomm.domain.messages import PostOutcome
from cencomm.domain.posts import NewMessage
from cencomm.realtime.link_bus import LinkBus
from cencomm.realtime.links import WorkerLinks
from cencomm.services.audit import AuditTrail
from cencomm.services.events import LocalEvents
from cencomm.services.message_writer import MessageWriter, PendingPost
from cencomm.services.remote_writer import RemoteWriter, WriterEndpoint
from cencomm.storage.db import Database

STORED = PostOutcome(uuid.uuid4(), 7, datetime(2020, 4, 1, tzinfo=UTC), created=True)


class ScriptedWriter(MessageWriter):
    """The hub's writer without a database: answers each post as the test says."""

    def __init__(self) -> None:
        clock = SystemClock()
        super().__init__(cast(Database, None), clock, AuditTrail(clock), LocalEvents())
        self.answer: PostOutcome | Exception = STORED
        self.hold = False
        self.received = asyncio.Event()

    async def submit(self, post: PendingPost) -> PostOutcome:
        self.received.set()
        if self.hold:
            await asyncio.Event().wait()  # never answered: the link goes first
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


@pytest.fixture
async def star() -> AsyncIterator[tuple[WorkerLinks, list[WorkerLinks]]]:
    """A hub and two spokes, linked as `serve --workers 3` links them."""
    pairs = [socket.socketpair() for _ in range(2)]
    hub = WorkerLinks(True, [a for a, _ in pairs])
    spokes = [WorkerLinks(False, [b]) for _, b in pairs]
    for links in (hub, *spokes):
        await links.start()
    yield hub, spokes
    for links in (*spokes, hub):
        await links.close()


def _post() -> PendingPost:
    return PendingPost(cast(NewMessage, None), AuditRecord(action="message.post"))


async def test_a_spoke_gets_the_outcome_of_its_post_from_the_hubs_writer(
    star: tuple[WorkerLinks, list[WorkerLinks]],
) -> None:
    hub, spokes = star
    WriterEndpoint(hub, ScriptedWriter())
    outcome = await asyncio.wait_for(RemoteWriter(spokes[0]).submit(_post()), 5)
    assert outcome == STORED


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (Conflict("the group is not active", slug="group-not-active"), "group-not-active"),
        (Conflict("this cid was already used", slug="duplicate-cid"), "duplicate-cid"),
        (RuntimeError("message write failed"), "unavailable"),
        (ConnectionAbortedError("server shutting down"), "unavailable"),
    ],
)
async def test_the_hubs_refusal_is_raised_in_the_spoke(
    star: tuple[WorkerLinks, list[WorkerLinks]], raised: Exception, expected: str
) -> None:
    hub, spokes = star
    writer = ScriptedWriter()
    writer.answer = raised
    WriterEndpoint(hub, writer)
    with pytest.raises(CencommError) as caught:
        await asyncio.wait_for(RemoteWriter(spokes[0]).submit(_post()), 5)
    assert caught.value.slug == expected
    assert type(caught.value) is (Conflict if isinstance(raised, Conflict) else Unavailable)
    if expected == "unavailable":
        assert cast(Unavailable, caught.value).retry_after == 1


async def test_a_post_in_flight_when_the_hub_goes_is_answered_503_and_later_ones_at_once(
    star: tuple[WorkerLinks, list[WorkerLinks]],
) -> None:
    hub, spokes = star
    writer = ScriptedWriter()
    writer.hold = True
    WriterEndpoint(hub, writer)
    remote = RemoteWriter(spokes[0])
    in_flight = asyncio.ensure_future(remote.submit(_post()))
    await asyncio.wait_for(writer.received.wait(), 5)
    await hub.close()  # the hub process died
    with pytest.raises(Unavailable) as caught:
        await asyncio.wait_for(in_flight, 5)
    assert caught.value.retry_after == 1
    with pytest.raises(Unavailable):
        await remote.submit(_post())


async def test_every_process_delivers_each_notice_exactly_once(
    star: tuple[WorkerLinks, list[WorkerLinks]],
) -> None:
    hub, spokes = star
    buses = [LinkBus(links) for links in (hub, *spokes)]
    seen: list[asyncio.Queue[tuple[int, LiveEvent]]] = [asyncio.Queue() for _ in buses]
    for index, bus in enumerate(buses):

        async def handler(event: LiveEvent, index: int = index) -> None:
            seen[index].put_nowait((index, event))

        await bus.start(handler)
    try:
        for origin, bus in enumerate(buses):  # a spoke's notice is relayed by the hub
            event = MessagePosted(GroupId(uuid.uuid4()), origin + 1, MessageId(uuid.uuid4()))
            bus.publish_nowait(event)
            for index, queue in enumerate(seen):
                assert await asyncio.wait_for(queue.get(), 5) == (index, event)
        # Exactly once: a marker sent last arrives next everywhere, with nothing in between.
        marker = MessagePosted(GroupId(uuid.uuid4()), 99, MessageId(uuid.uuid4()))
        buses[1].publish_nowait(marker)
        for index, queue in enumerate(seen):
            assert await asyncio.wait_for(queue.get(), 5) == (index, marker)
            assert queue.empty()
    finally:
        for bus in buses:
            await bus.close()
