"""Live delivery while the bus is down: read from the database what its notices would say.

Redis carries only notices ("group G reached seq N"); content is always read from the
database. When Redis goes away (`RedisBus.connected` false) or a publish fails, notices are
lost; so every pass of this job, while that lasts, asks the database for the last message of
each group that sockets of this process follow and hands the dispatcher a `message.posted`
notice for each group that moved. The socket writer (`realtime/writer.py`) turns such a
notice into the missing messages, in seq order, from the database, and skips what a socket
already has: so no event is lost and none is sent twice. When Redis is back, one more pass
covers what was published before the listener subscribed again; then notices take over.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from aiohttp import web

from cencomm.domain.events import MessagePosted
from cencomm.domain.ids import GroupId, MessageId
from cencomm.realtime.bus import EventHandler
from cencomm.realtime.hub import Hub
from cencomm.services.background import Every, Job
from cencomm.services.live import LiveService

logger = logging.getLogger(__name__)


class WatchedBus(Protocol):
    """What the poller watches of a bus (`RedisBus`)."""

    @property
    def connected(self) -> bool: ...

    @property
    def publish_failures(self) -> int: ...


class BusPoller:
    """Polls the database for new messages while `bus` is down; counts what it did."""

    def __init__(
        self, bus: WatchedBus, hub: Hub, live: LiveService, handle: EventHandler, interval: float
    ) -> None:
        self.bus = bus
        self._hub = hub
        self._live = live
        self._handle = handle
        self._interval = interval
        self._failures = bus.publish_failures
        self._degraded = False
        self._notified: dict[GroupId, int] = {}  # the last seq handed on, per group
        self.polls = 0
        self.notices = 0
        # Set while notices flow, cleared while polling: what tests and the fault bench wait on.
        self.following_bus = asyncio.Event()
        self.following_bus.set()

    @property
    def degraded(self) -> bool:
        """Whether live delivery is polling the database (the bus is down or losing)."""
        return self._degraded

    def job(self) -> Job:
        return Job("bus-poller", Every(self._interval), self.run_once)

    async def run_once(self) -> None:
        failures, self._failures = self._failures, self.bus.publish_failures
        if not self.bus.connected or failures != self._failures:
            if not self._degraded:
                logger.warning("bus down: live delivery polls the database")
            self._degraded = True
            self.following_bus.clear()
            await self.poll()
        elif self._degraded:
            await self.poll()  # published while the listener was not yet subscribed again
            self._degraded = False
            self._notified.clear()
            self.following_bus.set()
            logger.info("bus back: live delivery follows its notices again")

    async def poll(self) -> None:
        """One look at the database: a notice for each followed group that moved."""
        groups = self._hub.followed_groups()
        if not groups:
            return
        self.polls += 1
        latest = await self._live.latest_messages(groups)
        for group_id, (seq, message_id) in latest.items():
            if self._notified.get(group_id, 0) >= seq:
                continue
            try:
                await self._handle(MessagePosted(group_id, seq, MessageId(message_id)))
            except Exception:  # one group failing must not hold back the others
                logger.exception("polled delivery failed for group %s; retried next poll", group_id)
                continue
            self._notified[group_id] = seq  # only once handed on: a failure is polled again
            self.notices += 1


BUS_POLLER: web.AppKey[BusPoller] = web.AppKey("bus_poller")
