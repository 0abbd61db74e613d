"""Fan-out hub: one bounded queue per WebSocket connection, and publishing never waits.

The hub knows only the sockets of its own process. `Hub.deliver` calls `put_nowait` on each
target queue and returns at once; a full queue belongs to a slow consumer, which is closed
with 4408 and removed (the client resumes from its last seq). See the package docstring of
`cencomm.realtime` for how the dispatcher and the socket writer use it.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Final, TypeAlias

from cencomm.domain.events import ServerFrame
from cencomm.domain.ids import GroupId, OrganizationId, SessionId, UserId

logger = logging.getLogger(__name__)

CLOSE_NORMAL: Final = 1000
CLOSE_GOING_AWAY: Final = 1001  # server shutdown
CLOSE_UNAUTHENTICATED: Final = 4401  # no or bad auth frame, or the session was revoked
CLOSE_SLOW_CONSUMER: Final = 4408  # the client did not keep up; it should resume
CLOSE_ROLE_CHANGED: Final = 4409  # the user's role changed: reconnect (same token) and resume
CLOSE_TOO_MANY_CONNECTIONS: Final = 4429  # suggested code when `TooManyConnections` is raised

DEFAULT_QUEUE_SIZE: Final = 256
DEFAULT_MAX_CONNECTIONS_PER_USER: Final = 16


class TooManyConnections(Exception):
    """The user already has `limit` open connections on this process."""

    def __init__(self, user_id: UserId, limit: int) -> None:
        super().__init__(f"at most {limit} live connections per user")
        self.user_id = user_id
        self.limit = limit


class HubClosed(Exception):
    """The hub is shutting down (`close_all` was called) and takes no new subscriptions."""


@dataclass(frozen=True, slots=True)
class CatchUp:
    """Queued by `Subscription.follow(group, after_seq)`: the writer reads every message of
    `group_id` after `Subscription.last_seq[group_id]` from the database, in queue order."""

    group_id: GroupId


class SeqDecision(enum.Enum):
    """What to do with a `MessageFrame` of seq N, given what this socket has already sent."""

    NEW = "new"  # N is the next seq (or the first one seen): send it
    DUPLICATE = "duplicate"  # N was already sent: skip it
    GAP = "gap"  # seqs between the last sent and N are missing: read them from the db first
    NOT_FOLLOWED = "not_followed"  # the socket does not (or no longer) follow the group: skip


QueueItem: TypeAlias = ServerFrame | CatchUp


class _Closed:
    __slots__ = ()  # the sentinel that wakes a waiting writer once the subscription is closed


_CLOSED: Final = _Closed()


class Subscription:
    """One WebSocket connection's queue, its group interest and its per-group seq position.

    Created by `Hub.subscribe`, never directly. Everything here runs on the event loop
    thread; no method blocks except `next_frame` (and iteration), which waits for the next
    queued item.

    Attributes:
        user_id: The authenticated user.
        session_id: The session of the access token (for revocation).
        organization_id: The user's organisation.
        groups: The groups whose message frames this socket receives (see `follow`).
        last_seq: Per followed group, the highest seq sent on this socket (absent: none yet).
    """

    __slots__ = (
        "__weakref__",
        "_closed_code",
        "_closed_event",
        "_hub",
        "_queue",
        "groups",
        "last_seq",
        "organization_id",
        "session_id",
        "user_id",
    )

    def __init__(
        self,
        hub: Hub,
        user_id: UserId,
        session_id: SessionId,
        organization_id: OrganizationId,
        queue_size: int,
    ) -> None:
        self._hub = hub
        self.user_id = user_id
        self.session_id = session_id
        self.organization_id = organization_id
        self.groups: set[GroupId] = set()
        self.last_seq: dict[GroupId, int] = {}
        self._queue: asyncio.Queue[QueueItem | _Closed] = asyncio.Queue(queue_size)
        self._closed_code: int | None = None
        self._closed_event = asyncio.Event()

    def __repr__(self) -> str:
        return f"<Subscription user={self.user_id} closed={self._closed_code}>"

    @property
    def closed_code(self) -> int | None:
        """The close code once closed (the socket closes with it), else None."""
        return self._closed_code

    closed = property(lambda self: self._closed_code is not None)

    @property
    def pending(self) -> int:  # items waiting in the queue
        return self._queue.qsize()

    async def wait_closed(self) -> None:
        """Return once closed (a writer blocked sending to a stalled client never sees it)."""
        await self._closed_event.wait()

    async def next_frame(self) -> QueueItem | None:
        """Wait for the next queued item; None once the subscription is closed.

        Items queued before a close are discarded: after 4408 the client resumes, after 4401
        or 1001 nothing more may be sent.
        """
        if self._closed_code is not None:
            return None
        item = await self._queue.get()
        return None if isinstance(item, _Closed) else item

    def __aiter__(self) -> AsyncIterator[QueueItem]:
        return self

    async def __anext__(self) -> QueueItem:
        item = await self.next_frame()
        if item is None:
            raise StopAsyncIteration
        return item

    def close(self, code: int = CLOSE_NORMAL) -> bool:
        """Close with `code` (the first close wins), wake the writer and leave the hub.

        Returns:
            True if this call closed it, False if it was already closed.
        """
        if self._closed_code is not None:
            return False
        self._closed_code = code
        self._closed_event.set()
        while not self._queue.empty():  # drop pending frames so the sentinel always fits
            self._queue.get_nowait()
        self._queue.put_nowait(_CLOSED)
        self._hub._forget(self)
        return True

    def offer(self, item: QueueItem) -> bool:
        """Queue `item` without waiting (True); a full queue closes with 4408 (False)."""
        if self._closed_code is not None:
            return False
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            self._hub.dropped_slow_consumers += 1
            logger.info("closing slow consumer: user %s, queue full", self.user_id)
            self.close(CLOSE_SLOW_CONSUMER)
            return False
        return True

    def follow(self, group_id: GroupId, after_seq: int | None = None) -> None:
        """Receive the message frames of `group_id` on this socket.

        Call it only for groups the user may read (the caller checks the policy). With
        `after_seq` (a `resume`), the position is set to it and a `CatchUp` is queued, so the
        writer sends everything after it from the database before later live frames; live
        frames that arrive meanwhile are queued behind it and skipped as duplicates. Without
        it, delivery starts with the next live frame (an already followed group keeps its
        position). Registering interest before reading the database makes resume gap-free.
        """
        if self._closed_code is not None:
            return
        if group_id not in self.groups:
            self.groups.add(group_id)
            self._hub._by_group.setdefault(group_id, set()).add(self)
        if after_seq is not None:
            self.last_seq[group_id] = max(after_seq, 0)
            self.offer(CatchUp(group_id))

    def unfollow(self, group_id: GroupId) -> None:
        """Stop frames of `group_id` at once, including frames already queued (the writer
        skips them as `NOT_FOLLOWED`)."""
        self.groups.discard(group_id)
        self.last_seq.pop(group_id, None)
        subs = self._hub._by_group.get(group_id)
        if subs is not None:
            subs.discard(self)
            if not subs:
                del self._hub._by_group[group_id]

    def check_seq(self, group_id: GroupId, seq: int) -> SeqDecision:
        """Classify a message frame of `group_id` with `seq` against what was sent."""
        if group_id not in self.groups:
            return SeqDecision.NOT_FOLLOWED
        last = self.last_seq.get(group_id)
        if last is None or seq == last + 1:
            return SeqDecision.NEW
        if seq <= last:
            return SeqDecision.DUPLICATE
        return SeqDecision.GAP

    def advance(self, group_id: GroupId, seq: int) -> None:
        """Record that message `seq` of `group_id` was sent (never moves backwards)."""
        if group_id in self.groups:
            self.last_seq[group_id] = max(seq, self.last_seq.get(group_id, seq))


@dataclass(frozen=True, slots=True)
class HubStats:
    connected: int  # open subscriptions (sockets) on this process
    users: int  # distinct users among them
    dropped_slow_consumers: int  # closed with 4408 since start
    rejected_connections: int  # refused by the per-user cap since start
    frames_delivered: int  # frames queued since start


class Hub:
    """The subscriptions of one process, indexed by user, session and followed group.

    Args:
        queue_size: Default bound of each subscription's queue.
        max_connections_per_user: Open subscriptions one user may hold on this process.
    """

    def __init__(
        self,
        *,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        max_connections_per_user: int = DEFAULT_MAX_CONNECTIONS_PER_USER,
    ) -> None:
        if queue_size < 1 or max_connections_per_user < 1:
            raise ValueError("queue_size and max_connections_per_user must be at least 1")
        self.queue_size = queue_size
        self.max_connections_per_user = max_connections_per_user
        self._by_user: dict[UserId, set[Subscription]] = {}
        self._by_session: dict[SessionId, set[Subscription]] = {}
        self._by_group: dict[GroupId, set[Subscription]] = {}
        self._closing = False
        self.dropped_slow_consumers = 0
        self.rejected_connections = 0
        self.frames_delivered = 0

    def subscribe(
        self,
        user_id: UserId,
        session_id: SessionId,
        organization_id: OrganizationId,
        queue_size: int | None = None,
    ) -> Subscription:
        """Register a new connection of an authenticated user.

        Raises:
            TooManyConnections: the user already holds `max_connections_per_user`.
            HubClosed: the hub is shutting down.
        """
        if self._closing:
            raise HubClosed("the server is shutting down")
        mine = self._by_user.setdefault(user_id, set())
        if len(mine) >= self.max_connections_per_user:
            self.rejected_connections += 1
            if not mine:
                del self._by_user[user_id]
            raise TooManyConnections(user_id, self.max_connections_per_user)
        size = self.queue_size if queue_size is None else queue_size
        sub = Subscription(self, user_id, session_id, organization_id, max(1, size))
        mine.add(sub)
        self._by_session.setdefault(session_id, set()).add(sub)
        return sub

    def unsubscribe(self, subscription: Subscription, code: int = CLOSE_NORMAL) -> None:
        """Remove a connection that ended (idempotent: a closed one is already gone)."""
        subscription.close(code)

    def _forget(self, sub: Subscription) -> None:
        mine = self._by_user.get(sub.user_id)
        if mine is not None:
            mine.discard(sub)
            if not mine:
                del self._by_user[sub.user_id]
        same_session = self._by_session.get(sub.session_id)
        if same_session is not None:
            same_session.discard(sub)
            if not same_session:
                del self._by_session[sub.session_id]
        for group_id in tuple(sub.groups):
            sub.unfollow(group_id)

    def deliver(
        self, target: Subscription | Iterable[Subscription | UserId], frame: ServerFrame
    ) -> int:
        """Queue `frame` for a subscription, or for each subscription / every socket of each
        user id in `target`. Never awaits; full queues are closed with 4408.

        Returns:
            How many queues took the frame.
        """
        if isinstance(target, Subscription):
            targets: Iterable[Subscription] = (target,)
        else:
            targets = self._resolve(target)
        delivered = sum(1 for sub in targets if sub.offer(frame))
        self.frames_delivered += delivered
        return delivered

    def deliver_to_group(self, group_id: GroupId, frame: ServerFrame) -> int:
        """Queue `frame` for every subscription that follows `group_id`."""
        return self.deliver(self.subscriptions_for_group(group_id), frame)

    def _resolve(self, target: Iterable[Subscription | UserId]) -> list[Subscription]:
        # A snapshot: offering may close (and so unindex) subscriptions while we iterate.
        seen: dict[Subscription, None] = {}
        for item in target:
            if isinstance(item, Subscription):
                seen[item] = None
            else:
                seen.update(dict.fromkeys(self._by_user.get(item, ())))
        return list(seen)

    def subscriptions(self) -> tuple[Subscription, ...]:
        return tuple(sub for subs in self._by_user.values() for sub in subs)

    def subscriptions_for_user(self, user_id: UserId) -> tuple[Subscription, ...]:
        return tuple(self._by_user.get(user_id, ()))

    def subscriptions_for_group(self, group_id: GroupId) -> tuple[Subscription, ...]:
        return tuple(self._by_group.get(group_id, ()))

    def followed_groups(self) -> tuple[GroupId, ...]:
        """The groups at least one socket here follows."""
        return tuple(self._by_group)

    def connected_users(self, user_ids: Iterable[UserId]) -> set[UserId]:
        """Those of `user_ids` with at least one socket here (skip loading content if none)."""
        return {u for u in user_ids if u in self._by_user}

    def follow_group(self, user_ids: Iterable[UserId], group_id: GroupId) -> int:
        """Make every socket of these users follow `group_id` live (e.g. members added)."""
        subs = self._resolve(user_ids)
        for sub in subs:
            sub.follow(group_id)
        return len(subs)

    def unfollow_group(self, user_ids: Iterable[UserId], group_id: GroupId) -> int:
        """Stop `group_id` at once on every socket of these users (e.g. members removed)."""
        subs = self._resolve(user_ids)
        for sub in subs:
            sub.unfollow(group_id)
        return len(subs)

    def close_user(self, user_id: UserId, code: int) -> int:
        """Close every socket of a user (e.g. their role changed: 4409). Returns how many
        were open."""
        return sum(1 for sub in self.subscriptions_for_user(user_id) if sub.close(code))

    def close_sessions(
        self, session_ids: Iterable[SessionId], code: int = CLOSE_UNAUTHENTICATED
    ) -> int:
        """Close the sockets of these sessions (revocation: 4401). Returns how many."""
        subs = [sub for s in session_ids for sub in tuple(self._by_session.get(s, ()))]
        return sum(1 for sub in subs if sub.close(code))

    def close_all(self, code: int = CLOSE_GOING_AWAY) -> int:
        """Shutdown: refuse new subscriptions and close every socket (1001)."""
        self._closing = True
        return sum(1 for sub in self.subscriptions() if sub.close(code))

    @property
    def connected(self) -> int:
        return sum(len(subs) for subs in self._by_user.values())

    def stats(self) -> HubStats:
        """Counters for /metrics."""
        return HubStats(
            connected=self.connected,
            users=len(self._by_user),
            dropped_slow_consumers=self.dropped_slow_consumers,
            rejected_connections=self.rejected_connections,
            frames_delivered=self.frames_delivered,
        )
