"""Resource limits: requests in progress (in total and per user) and request body deadlines.

What a slow or greedy client may hold in this process, so that it cannot stop others from
being served (docs/deploy.md "Resource limits"):

- `http.max_concurrent_requests` requests in progress in total (503 `server-busy`), and
  `http.max_requests_per_user` per authenticated user (429 `too-many-requests`); both answer at
  once with `Retry-After` rather than queue, so a burst costs the server nothing but the refusal.
  Health, readiness and metrics stay outside (a busy server must still say how it is), and so do
  WebSockets, which `hub.max_connections` counts (`web/ws.py`). The process's slot is taken
  once a JSON body has been read (`web/routes.py`): a client sending its body slowly holds a
  connection, and its user's slot, but none of the slots everyone shares; an upload, read as it
  is processed, holds one throughout.
- A body deadline: `http.body_timeout` seconds plus one for every `http.body_min_rate` bytes
  received. A body still incomplete then fails its reader with `BodyTimedOut`; the request is
  answered 408 `request-timeout` and the connection closed.
- The request head's deadline is aiohttp's keep-alive timer, set to `http.header_timeout`
  (`app.py`): it starts when a connection opens and again when an answer ends, and incoming
  bytes do not push it back, so a client trickling its headers is cut off when it passes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator

from aiohttp import StreamReader, web

from cencomm.appkeys import SETTINGS
from cencomm.domain.errors import RateLimited, Unavailable
from cencomm.domain.ids import UserId

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Seconds a refused caller is asked to wait: a slot frees as soon as any request ends.
RETRY_AFTER = 1
# Never counted: probes and scrapes must see a busy server too; WebSockets count against
# `hub.max_connections` instead.
EXEMPT_PATHS = frozenset({"/health", "/ready", "/metrics", "/api/v1/ws"})


class RequestLimits:
    """Counts of requests in progress; a refusal raises at once instead of waiting.

    Only users with a request in progress have an entry, so the table never holds more than
    `max_total` users.
    """

    def __init__(self, max_total: int, max_per_user: int) -> None:
        self.max_total = max_total
        self.max_per_user = max_per_user
        self.in_progress = 0
        self._per_user: dict[UserId, int] = {}

    def users_in_progress(self) -> int:
        return len(self._per_user)

    def in_progress_of(self, user_id: UserId) -> int:
        return self._per_user.get(user_id, 0)

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        """One of the process's request slots for the duration of the block.

        Raises:
            Unavailable: `server-busy`, all of them are taken.
        """
        if self.in_progress >= self.max_total:
            raise Unavailable(
                f"the server has {self.max_total} requests in progress; retry shortly",
                slug="server-busy",
                retry_after=RETRY_AFTER,
            )
        self.in_progress += 1
        try:
            yield
        finally:
            self.in_progress -= 1

    @contextlib.contextmanager
    def hold_user(self, user_id: UserId) -> Iterator[None]:
        """One of `user_id`'s request slots for the duration of the block.

        Raises:
            RateLimited: `too-many-requests`, the user has all theirs in progress.
        """
        count = self._per_user.get(user_id, 0)
        if count >= self.max_per_user:
            raise RateLimited(
                f"you have {self.max_per_user} requests in progress; wait for one to finish",
                slug="too-many-requests",
                retry_after=RETRY_AFTER,
            )
        self._per_user[user_id] = count + 1
        try:
            yield
        finally:
            left = self._per_user[user_id] - 1
            if left:
                self._per_user[user_id] = left
            else:
                del self._per_user[user_id]


LIMITS: web.AppKey[RequestLimits] = web.AppKey("request_limits", RequestLimits)


class BodyTimedOut(TimeoutError):
    """Set on a request body that missed its deadline. A `TimeoutError`, so that aiohttp's
    lingering read of an unread body after the answer ends on it and closes the connection."""


class BodyDeadline:
    """The deadline of one request body: `timeout` seconds plus 1 s per `min_rate` bytes read.

    One timer per request with a body, re-armed at most once per extension; no work per chunk.
    """

    def __init__(self, payload: StreamReader, timeout: float, min_rate: int) -> None:
        self._payload = payload
        self._loop = asyncio.get_running_loop()
        self._start = self._loop.time()
        self._timeout = timeout
        self._min_rate = min_rate
        self.expired = False
        self._handle: asyncio.TimerHandle | None = self._loop.call_at(
            self._start + timeout, self._check
        )

    def _check(self) -> None:
        self._handle = None
        if self._payload.is_eof():
            return
        allowed = self._start + self._timeout + self._payload.total_bytes / self._min_rate
        if self._loop.time() < allowed:
            self._handle = self._loop.call_at(allowed, self._check)
            return
        self.expired = True
        self._payload.set_exception(BodyTimedOut())

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


@web.middleware
async def body_deadline_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The body deadline of every request that has a body (the request caps need the route and
    the user: `web/routes.py` takes them)."""
    if not request.body_exists:
        return await handler(request)
    http = request.app[SETTINGS].http
    deadline = BodyDeadline(request.content, http.body_timeout, http.body_min_rate)
    try:
        return await handler(request)
    except Exception:
        if deadline.expired:
            # Whatever the handler made of the failed read (a truncated body, a malformed
            # multipart), the cause is the client's slowness.
            raise web.HTTPRequestTimeout() from None
        raise
    finally:
        deadline.cancel()
