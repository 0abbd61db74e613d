"""The hub: bounded queues, slow consumers dropped with 4408, caps, closing, seq decisions."""

from __future__ import annotations

import asyncio
import inspect

import pytest

from cencomm.domain.events import MembershipChange, MembershipFrame, MessageFrame
from cencomm.realtime.hub import (
    CLOSE_GOING_AWAY,
    CLOSE_SLOW_CONSUMER,
    CLOSE_UNAUTHENTICATED,
    CatchUp,
    Hub,
    HubClosed,
    SeqDecision,
    Subscription,
    TooManyConnections,
)
from tests.realtime.helpers import group, message, org, session, user, within


def _subscribe(hub: Hub, queue_size: int | None = None) -> Subscription:
    return hub.subscribe(user(), session(), org(), queue_size=queue_size)


async def test_slow_consumer_is_closed_with_4408_while_a_fast_one_gets_everything() -> None:
    hub = Hub(queue_size=4)
    g = group()
    fast, slow = _subscribe(hub), _subscribe(hub)
    fast.follow(g)
    slow.follow(g)
    received: list[int] = []
    for seq in range(1, 101):
        hub.deliver_to_group(g, message(g, seq))
        item = await within(fast.next_frame())
        assert isinstance(item, MessageFrame)
        received.append(item.seq)
    assert received == list(range(1, 101))
    assert slow.closed_code == CLOSE_SLOW_CONSUMER
    assert hub.subscriptions_for_group(g) == (fast,)
    assert await within(slow.next_frame()) is None  # the writer sees the close at once
    assert hub.stats().dropped_slow_consumers == 1
    assert hub.connected == 1


async def test_a_waiting_writer_wakes_up_when_its_queue_overflows() -> None:
    hub = Hub(queue_size=1)
    sub = _subscribe(hub)
    g = group()
    sub.follow(g)
    writer_done = asyncio.Event()

    async def writer() -> list[object]:
        got: list[object] = [item async for item in sub]
        writer_done.set()
        return got

    task = asyncio.create_task(writer())
    hub.deliver(sub, message(g, 1))
    hub.deliver(sub, message(g, 2))  # full before the writer ran: dropped
    assert await within(task) == []
    assert writer_done.is_set()
    assert sub.closed_code == CLOSE_SLOW_CONSUMER


async def test_publishing_to_a_thousand_subscriptions_never_blocks() -> None:
    hub = Hub(queue_size=2)
    g = group()
    subs = [_subscribe(hub) for _ in range(1000)]
    for sub in subs:
        sub.follow(g)
    # Half of them have a writer waiting; none of them ever reads a frame.
    waiting = [asyncio.create_task(sub.next_frame()) for sub in subs[:500]]
    await asyncio.sleep(0)  # let the writers reach their wait (an ordering yield, not timing)
    assert not inspect.iscoroutinefunction(hub.deliver)
    assert hub.deliver_to_group(g, message(g, 1)) == 1000
    assert hub.deliver_to_group(g, message(g, 2)) == 1000
    assert hub.deliver_to_group(g, message(g, 3)) == 0  # every queue was full: all dropped
    assert all(sub.closed_code == CLOSE_SLOW_CONSUMER for sub in subs)
    assert hub.connected == 0
    assert hub.subscriptions_for_group(g) == ()
    assert hub.stats().dropped_slow_consumers == 1000
    # The waiting writers wake up and learn that their socket must close.
    assert await within(asyncio.gather(*waiting)) == [None] * 500


async def test_connections_per_user_are_capped() -> None:
    hub = Hub(max_connections_per_user=2)
    alice, s = user(), session()
    first = hub.subscribe(alice, s, org())
    hub.subscribe(alice, s, org())
    with pytest.raises(TooManyConnections) as raised:
        hub.subscribe(alice, s, org())
    assert raised.value.limit == 2
    assert raised.value.user_id == alice
    _subscribe(hub)  # another user is not affected
    hub.unsubscribe(first)
    hub.subscribe(alice, s, org())  # a slot was freed
    assert hub.stats().rejected_connections == 1
    assert len(hub.subscriptions_for_user(alice)) == 2


async def test_revoking_a_session_closes_only_its_sockets_with_4401() -> None:
    hub = Hub()
    alice = user()
    revoked, kept = session(), session()
    a1 = hub.subscribe(alice, revoked, org())
    a2 = hub.subscribe(alice, revoked, org())
    a3 = hub.subscribe(alice, kept, org())
    waiting = asyncio.create_task(a1.next_frame())
    await asyncio.sleep(0)
    assert hub.close_sessions([revoked]) == 2
    assert await within(waiting) is None
    assert (a1.closed_code, a2.closed_code, a3.closed_code) == (4401, 4401, None)
    frame = MembershipFrame(group(), MembershipChange.ADDED)
    assert hub.deliver([alice], frame) == 1
    assert await within(a3.next_frame()) == frame
    assert hub.close_sessions([revoked]) == 0  # idempotent


async def test_close_user_closes_every_socket_of_that_user() -> None:
    hub = Hub()
    alice = user()
    subs = [hub.subscribe(alice, session(), org()) for _ in range(3)]
    other = _subscribe(hub)
    assert hub.close_user(alice, CLOSE_UNAUTHENTICATED) == 3
    assert all(s.closed_code == CLOSE_UNAUTHENTICATED for s in subs)
    assert hub.subscriptions_for_user(alice) == ()
    assert not other.closed


async def test_shutdown_closes_everything_with_1001_and_refuses_new_sockets() -> None:
    hub = Hub()
    subs = [_subscribe(hub) for _ in range(5)]
    g = group()
    subs[0].follow(g)
    hub.deliver(subs, message(g, 1))  # pending frames are discarded on close
    iterators = [asyncio.create_task(_drain(s)) for s in subs]
    assert hub.close_all() == 5
    assert await within(asyncio.gather(*iterators)) == [[]] * 5
    assert all(s.closed_code == CLOSE_GOING_AWAY for s in subs)
    assert hub.connected == 0
    assert hub.subscriptions_for_group(g) == ()
    with pytest.raises(HubClosed):
        _subscribe(hub)


async def _drain(sub: Subscription) -> list[object]:
    return [item async for item in sub]


async def test_close_discards_pending_frames_and_the_first_code_wins() -> None:
    hub = Hub()
    sub = _subscribe(hub)
    g = group()
    sub.follow(g)
    hub.deliver(sub, message(g, 1))
    assert sub.pending == 1
    assert sub.close(CLOSE_UNAUTHENTICATED)
    assert not sub.close(CLOSE_GOING_AWAY)
    assert sub.closed_code == CLOSE_UNAUTHENTICATED
    assert await within(sub.next_frame()) is None
    assert hub.deliver(sub, message(g, 2)) == 0


def test_seq_decisions_against_what_was_sent() -> None:
    hub = Hub()
    sub = _subscribe(hub)
    g, other = group(), group()
    sub.follow(g, after_seq=5)  # resume: last seen 5
    assert sub.check_seq(g, 5) is SeqDecision.DUPLICATE
    assert sub.check_seq(g, 3) is SeqDecision.DUPLICATE
    assert sub.check_seq(g, 6) is SeqDecision.NEW
    assert sub.check_seq(g, 8) is SeqDecision.GAP
    assert sub.check_seq(other, 1) is SeqDecision.NOT_FOLLOWED
    sub.advance(g, 6)
    assert sub.last_seq[g] == 6
    sub.advance(g, 4)  # never backwards
    assert sub.last_seq[g] == 6
    sub.follow(other)  # live only: the first frame sets the position
    assert sub.check_seq(other, 40) is SeqDecision.NEW
    sub.advance(other, 40)
    assert sub.check_seq(other, 42) is SeqDecision.GAP
    sub.unfollow(g)
    assert sub.check_seq(g, 7) is SeqDecision.NOT_FOLLOWED


async def test_resume_queues_a_catch_up_and_indexes_the_group() -> None:
    hub = Hub()
    sub = _subscribe(hub)
    g = group()
    sub.follow(g, after_seq=3)
    assert hub.subscriptions_for_group(g) == (sub,)
    assert await within(sub.next_frame()) == CatchUp(g)
    hub.unfollow_group([sub.user_id], g)
    assert hub.subscriptions_for_group(g) == ()
    assert hub.follow_group([sub.user_id], g) == 1
    assert sub.groups == {g}
    sub.close()
    assert hub.subscriptions_for_group(g) == ()


def test_deliver_to_user_ids_reaches_every_socket_of_each_user_once() -> None:
    hub = Hub()
    alice, bob = user(), user()
    a = [hub.subscribe(alice, session(), org()) for _ in range(2)]
    b = hub.subscribe(bob, session(), org())
    frame = MembershipFrame(group(), MembershipChange.REMOVED)
    assert hub.deliver([alice, bob, alice, user()], frame) == 3
    assert [s.pending for s in (*a, b)] == [1, 1, 1]
    assert hub.connected_users([alice, user()]) == {alice}
    assert hub.stats().frames_delivered == 3
