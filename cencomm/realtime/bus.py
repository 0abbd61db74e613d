"""Cross-process notices: in-process (the default) or Redis pub/sub.

Only small notices cross the bus (`event.to_notice()`: ids and numbers, "group G reached
seq N", "alert A for these users"), never content. Every process reads content from the
database when it delivers, so the bus may lose a notice without losing data: a lost
`message.posted` only delays delivery until the next notice of that group (the socket writer
sees the seq gap and reads the missing messages) or until the client resumes. Notices are not
persisted and not replayed; anything that must not be lost (alert deadlines, e-mail) lives in
the database and is swept there.

Wiring (`app.py`): `bus = make_bus(settings_url)`; `await bus.start(dispatcher)` in a
`cleanup_ctx` before serving and `await bus.close()` after; services publish only after
their transaction commits, with `await bus.publish(event.to_notice())` or, through the
synchronous `Publisher` seam, `EventPublisher(bus).publish(event)` (never waits).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final, Protocol, TypeAlias

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from cencomm.domain.event_base import InvalidNotice
from cencomm.domain.events import LiveEvent, event_from_notice

logger = logging.getLogger(__name__)

EventHandler: TypeAlias = Callable[[LiveEvent], Awaitable[None]]
"""Called once per notice, in order, with the decoded event; its exceptions are logged."""

DEFAULT_CHANNEL: Final = "cencomm:events"
MAX_NOTICE_BYTES: Final = 1 << 20
MAX_OUTBOX: Final = 10_000


class Bus(Protocol):
    """The seam between services (which publish) and every process's hub (which delivers)."""

    async def publish(self, notice: Mapping[str, object]) -> None:
        """Send a notice to every process, this one included.

        Raises:
            InvalidNotice: `notice` is not a valid `event.to_notice()` (a programming error).
        Transport failures are logged and the notice is dropped: never raised to a service
        whose transaction has already committed.
        """
        ...

    def publish_nowait(self, event: LiveEvent) -> None:
        """`publish(event.to_notice())` without waiting: queued, sent in order by the bus.

        For callers that must not await (the services' synchronous `Publisher` seam, see
        `EventPublisher`). Raises `InvalidNotice` like `publish`; otherwise never raises.
        """
        ...

    async def start(self, handler: EventHandler) -> None:
        """Start delivering received notices, decoded, to `handler` (one at a time, in order)."""
        ...

    async def close(self) -> None:
        """Stop the listener task (cancelled and awaited) and release connections."""
        ...


def encode_notice(notice: Mapping[str, object]) -> str:
    """Validate a notice and render it as compact JSON.

    Raises:
        InvalidNotice: unknown event, bad field, or not JSON-serialisable.
    """
    event_from_notice(notice)
    try:
        return json.dumps(dict(notice), separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidNotice(f"not JSON-serialisable: {exc}") from None


class _Receiver:
    """Counters and the decode-then-dispatch step shared by both buses."""

    def __init__(self) -> None:
        self.notices_received = 0
        self.notices_dropped = 0  # malformed
        self.handler_errors = 0

    async def _dispatch(self, handler: EventHandler, raw: bytes | str) -> None:
        try:
            if len(raw) > MAX_NOTICE_BYTES:
                raise InvalidNotice(f"notice of {len(raw)} bytes is too large")
            event = event_from_notice(json.loads(raw))
        except (InvalidNotice, ValueError) as exc:  # JSONDecodeError and UnicodeError too
            self.notices_dropped += 1
            logger.warning("dropped a malformed bus notice: %s", exc)
            return
        self.notices_received += 1
        try:
            await handler(event)
        except Exception:
            # Task boundary: one failing delivery must not stop the listener.
            self.handler_errors += 1
            logger.exception("bus handler failed for %s", event.name)


class InProcessBus(_Receiver):
    """Single-process bus: `publish` queues the notice; a listener task hands it to the handler.

    Notices go through the same JSON encoding as on Redis, so a notice that works here works
    across processes. `publish` returns without waiting for delivery, like the Redis bus.
    """

    def __init__(self) -> None:
        super().__init__()
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    async def publish(self, notice: Mapping[str, object]) -> None:
        self._put(encode_notice(notice))

    def publish_nowait(self, event: LiveEvent) -> None:
        self._put(encode_notice(event.to_notice()))

    def _put(self, data: str) -> None:
        if not self._closed:
            self._queue.put_nowait(data)

    async def start(self, handler: EventHandler) -> None:
        if self._task is not None or self._closed:
            raise RuntimeError("the bus was already started")
        self._task = asyncio.create_task(self._run(handler), name="cencomm-bus-in-process")

    async def _run(self, handler: EventHandler) -> None:
        while True:
            await self._dispatch(handler, await self._queue.get())

    async def close(self) -> None:
        self._closed = True
        await _cancel(self._task)
        self._task = None


class RedisBus(_Receiver):
    """Redis pub/sub on one channel, with a listener task that reconnects by itself.

    `start` subscribes before returning (and raises if Redis cannot be reached then, so a
    misconfigured server fails at startup). Afterwards a lost connection is logged and
    retried with exponential backoff; a notice whose publish fails meanwhile is delivered to
    this process's own handler only (other processes miss it: see module docstring, and
    `web/live_poll.py` for messages). `connected` and the counters serve metrics and readiness.

    Args:
        url: `redis://` or `rediss://` URL.
        channel: The pub/sub channel shared by all processes of one deployment.
        client_name: `CLIENT SETNAME` of the connections (visible in `CLIENT LIST`).
        reconnect_delay: First wait after a lost connection, in seconds; doubles each try.
        max_reconnect_delay: Upper bound of that wait.
        publish_timeout: Seconds a publish may take before its notice is dropped.
    """

    def __init__(
        self,
        url: str,
        channel: str = DEFAULT_CHANNEL,
        *,
        client_name: str = "cencomm-bus",
        reconnect_delay: float = 0.1,
        max_reconnect_delay: float = 5.0,
        publish_timeout: float = 2.0,
    ) -> None:
        super().__init__()
        self.url = url
        self.channel = channel
        self.client_name = client_name
        self.reconnect_delay = reconnect_delay
        self.max_reconnect_delay = max_reconnect_delay
        self.publish_timeout = publish_timeout
        self.connected = False
        self.reconnects = 0
        self.publish_failures = 0
        self._publisher: Redis | None = None
        self._task: asyncio.Task[None] | None = None
        # publish_nowait's queue; bounded, since a notice may be lost but memory may not grow.
        self._outbox: asyncio.Queue[str] = asyncio.Queue(MAX_OUTBOX)
        self._sender: asyncio.Task[None] | None = None
        self._handler: EventHandler | None = None

    def _client(self) -> Redis:
        # The listener reconnects in its own loop, so redis-py's retries stay off there.
        return Redis.from_url(
            self.url,
            client_name=self.client_name,
            socket_connect_timeout=5,
            retry=Retry(NoBackoff(), 0),
        )

    async def publish(self, notice: Mapping[str, object]) -> None:
        data = encode_notice(notice)
        if self._publisher is None:
            raise RuntimeError("the bus is not started")
        await self._send(data)

    def publish_nowait(self, event: LiveEvent) -> None:
        data = encode_notice(event.to_notice())
        try:
            self._outbox.put_nowait(data)
        except asyncio.QueueFull:
            self.publish_failures += 1
            logger.warning("bus outbox full; notice %s dropped", event.name)

    async def _drain_outbox(self) -> None:
        while True:
            await self._send(await self._outbox.get())

    async def _send(self, data: str) -> None:
        publisher = self._publisher
        if publisher is None:
            raise RuntimeError("the bus is not started")
        try:
            async with asyncio.timeout(self.publish_timeout):
                await publisher.publish(self.channel, data)
        except TimeoutError:
            # It may have reached Redis (and come back here): not delivered twice.
            self.publish_failures += 1
            logger.warning("bus publish timed out; notice dropped")
        except (RedisError, OSError) as exc:
            self.publish_failures += 1
            logger.warning("bus publish failed (%s); delivered here only", type(exc).__name__)
            # Redis never had it: this process's own sockets get it as if it had come back
            # (other processes learn of new messages by polling, `web/live_poll.py`).
            if self._handler is not None:
                await self._dispatch(self._handler, data)

    async def start(self, handler: EventHandler) -> None:
        if self._task is not None:
            raise RuntimeError("the bus was already started")
        client, pubsub = await self._subscribe()
        self._handler = handler
        self._publisher = Redis.from_url(
            self.url, client_name=self.client_name, socket_connect_timeout=5
        )
        self.connected = True
        self._task = asyncio.create_task(
            self._listen(handler, client, pubsub), name="cencomm-bus-redis"
        )
        self._sender = asyncio.create_task(self._drain_outbox(), name="cencomm-bus-outbox")

    async def _subscribe(self) -> tuple[Redis, PubSub]:
        client = self._client()
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(self.channel)
        except BaseException:
            await _close_quietly(client, pubsub)
            raise
        return client, pubsub

    async def _listen(self, handler: EventHandler, client: Redis, pubsub: PubSub) -> None:
        delay = self.reconnect_delay
        current: tuple[Redis, PubSub] | None = (client, pubsub)
        try:
            while True:
                try:
                    if current is None:
                        current = await self._subscribe()
                        self.reconnects += 1
                        self.connected = True
                        logger.info("bus reconnected to channel %s", self.channel)
                        delay = self.reconnect_delay
                    async for message in current[1].listen():
                        if message.get("type") == "message":
                            await self._dispatch(handler, _data(message))
                    raise RedisError("the subscription ended")
                except (RedisError, OSError) as exc:
                    self.connected = False
                    logger.warning(
                        "bus connection lost (%s); reconnecting in %.1fs",
                        type(exc).__name__,
                        delay,
                    )
                    if current is not None:
                        await _close_quietly(*current)
                        current = None
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, self.max_reconnect_delay)
        finally:
            self.connected = False
            if current is not None:
                await _close_quietly(*current)

    async def close(self) -> None:
        await _cancel(self._sender)
        await _cancel(self._task)
        self._task = self._sender = None
        if self._publisher is not None:
            await self._publisher.aclose()
            self._publisher = None


class EventPublisher:
    """Adapts a bus to the services' synchronous `Publisher` seam: `publish(event)` queues
    the event's notice and returns at once (call it only after the transaction commits)."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus

    def publish(self, event: LiveEvent) -> None:
        self.bus.publish_nowait(event)


def make_bus(url: str | None, channel: str = DEFAULT_CHANNEL) -> Bus:
    """`InProcessBus` when `url` is empty, `RedisBus` for `redis://` / `rediss://` URLs.

    Raises:
        ValueError: any other URL scheme.
    """
    if not url:
        return InProcessBus()
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisBus(url, channel)
    raise ValueError("bus URL must start with redis://, rediss:// or unix://")


def _data(message: Mapping[str, Any]) -> bytes | str:
    data = message.get("data")
    return data if isinstance(data, bytes | str) else b""


async def _cancel(task: asyncio.Task[None] | None) -> None:
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _close_quietly(client: Redis, pubsub: PubSub) -> None:
    # Closing a dead connection may raise again; it is being discarded either way.
    with contextlib.suppress(RedisError, OSError):
        await pubsub.aclose()
    with contextlib.suppress(RedisError, OSError):
        await client.aclose()
