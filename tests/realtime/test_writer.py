"""The socket writer: resume and live frames in seq order, no gap, no duplicate."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Sequence

from cencomm.domain.events import (
    MembershipChange,
    MembershipFrame,
    MessageFrame,
    MessageHiddenFrame,
    ServerFrame,
)
from cencomm.domain.ids import GroupId, MessageId
from cencomm.realtime.hub import CLOSE_SLOW_CONSUMER, Hub, Subscription
from cencomm.realtime.writer import run_writer
from tests.realtime.helpers import group, message, org, session, user, within


class FakeGroupLog:
    """Stands in for the messages table: seq-numbered rows per group, read in pages."""

    def __init__(self, page_size: int = 1000) -> None:
        self.rows: dict[GroupId, list[MessageFrame]] = {}
        self.page_size = page_size
        self.reads = 0

    def post(self, group_id: GroupId) -> MessageFrame:
        rows = self.rows.setdefault(group_id, [])
        frame = message(group_id, len(rows) + 1)
        rows.append(frame)
        return frame

    async def load(
        self, group_id: GroupId, after: int, up_to: int | None
    ) -> Sequence[MessageFrame]:
        self.reads += 1
        await asyncio.sleep(0)  # a database read yields to the loop; posts go on meanwhile
        rows = [
            f
            for f in self.rows.get(group_id, [])
            if f.seq > after and (up_to is None or f.seq <= up_to)
        ]
        return rows[: self.page_size]


class Socket:
    def __init__(self) -> None:
        self.sent: list[ServerFrame] = []
        self._changed = asyncio.Event()

    async def send(self, frame: ServerFrame) -> None:
        self.sent.append(frame)
        self._changed.set()

    async def wait_until(self, condition: Callable[[], bool]) -> None:
        """Wait for sends until `condition()` holds (callers bound it with a timeout)."""
        while not condition():
            self._changed.clear()
            await self._changed.wait()

    async def wait_for_last_seq(self, group_id: GroupId, seq: int) -> None:
        await self.wait_until(lambda: self.seqs(group_id)[-1:] == [seq])

    def seqs(self, group_id: GroupId) -> list[int]:
        return [f.seq for f in self.sent if isinstance(f, MessageFrame) and f.group_id == group_id]


def _subscribe(hub: Hub) -> Subscription:
    return hub.subscribe(user(), session(), org(), queue_size=10_000)


async def test_resume_sends_history_then_live_without_gap_or_duplicate() -> None:
    hub, log, socket = Hub(), FakeGroupLog(page_size=3), Socket()
    g = group()
    for _ in range(10):
        log.post(g)
    sub = _subscribe(hub)
    sub.follow(g, after_seq=3)  # the client saw 1..3
    for _ in range(2):  # posted after the resume, before the writer read the database
        hub.deliver_to_group(g, log.post(g))
    writer = asyncio.create_task(run_writer(sub, socket.send, log.load))
    await within(socket.wait_for_last_seq(g, 12))
    hub.deliver_to_group(g, log.post(g))  # live again
    await within(socket.wait_for_last_seq(g, 13))
    hub.close_all()
    assert await within(writer) == 1001
    assert socket.seqs(g) == list(range(4, 14))
    assert log.reads >= 4  # history came in pages of 3


async def test_resume_is_gap_free_while_posts_keep_arriving() -> None:
    rng = random.Random(7)
    hub, log = Hub(), FakeGroupLog(page_size=5)
    g = group()
    for _ in range(50):
        log.post(g)
    clients = [(_subscribe(hub), Socket(), rng.randint(0, 50)) for _ in range(20)]
    writers = [asyncio.create_task(run_writer(s, k.send, log.load)) for s, k, _ in clients]

    async def poster() -> None:
        for _ in range(500):
            frame = log.post(g)
            if rng.random() < 0.1:
                continue  # the notice was lost on the bus
            hub.deliver_to_group(g, frame)
            # Yield a varying number of times (ordering, not timing), so the writers are
            # sometimes still reading history and sometimes idle and taking live frames.
            for _ in range(rng.randint(0, 4)):
                await asyncio.sleep(0)

    async def resume_all() -> None:
        for sub, _, last_seen in clients:
            sub.follow(g, after_seq=last_seen)
            await asyncio.sleep(0)

    await within(asyncio.gather(poster(), resume_all()))
    # The last post may have lost its notice: the next one (or a resume) would carry it.
    hub.deliver_to_group(g, log.post(g))
    for sub, socket, _ in clients:
        await within(socket.wait_for_last_seq(g, 551))
        sub.close()
    await within(asyncio.gather(*writers))
    for _, socket, last_seen in clients:
        assert socket.seqs(g) == list(range(last_seen + 1, 552))


async def test_a_lost_notice_is_filled_from_the_database() -> None:
    hub, log, socket = Hub(), FakeGroupLog(), Socket()
    g = group()
    sub = _subscribe(hub)
    sub.follow(g)  # live only
    hub.deliver_to_group(g, log.post(g))  # 1
    log.post(g)  # 2: its notice never arrives
    log.post(g)  # 3: neither
    hub.deliver_to_group(g, log.post(g))  # 4
    hub.deliver_to_group(g, log.rows[g][3])  # 4 again (duplicate notice)
    writer = asyncio.create_task(run_writer(sub, socket.send, log.load))
    await within(socket.wait_for_last_seq(g, 4))
    sub.close(CLOSE_SLOW_CONSUMER)
    assert await within(writer) == CLOSE_SLOW_CONSUMER
    assert socket.seqs(g) == [1, 2, 3, 4]


async def test_frames_of_a_group_left_are_not_sent_even_if_already_queued() -> None:
    hub, log, socket = Hub(), FakeGroupLog(), Socket()
    g = group()
    sub = _subscribe(hub)
    sub.follow(g)
    hub.deliver_to_group(g, log.post(g))
    hub.deliver_to_group(g, MessageHiddenFrame(g, MessageId(g)))
    hub.unfollow_group([sub.user_id], g)  # removed from the group
    removed = MembershipFrame(g, MembershipChange.REMOVED)
    hub.deliver([sub.user_id], removed)
    writer = asyncio.create_task(run_writer(sub, socket.send, log.load))
    await within(socket.wait_until(lambda: bool(socket.sent)))
    sub.close()
    await within(writer)
    assert socket.sent == [removed]
