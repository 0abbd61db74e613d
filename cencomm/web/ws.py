"""`GET /api/v1/ws`: live events over a WebSocket (API.md "Live events", docs/websocket.md).

One socket = one hub subscription, one reader task (client frames: `resume`) and one writer
task (`realtime.writer.run_writer`: frames in seq order per group, gaps and resumes filled
from the database through the messaging service).

The principal of the auth frame is never trusted for long: every `resume` and every read from
the database first re-reads the user's session and role (`LiveSocket.recheck`), exactly as
each HTTP request does. A socket whose session ended closes with 4401; one whose user's role
changed closes with 4409 (the bus notice of a role change closes it at once; the re-read
catches a notice that was lost), and the client reconnects with the new role.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Sequence
from typing import Any, Final

from aiohttp import WSMsgType, web

from cencomm.appkeys import HUB, SERVICES, SETTINGS, SOCKETS
from cencomm.domain.errors import Forbidden, Unauthenticated, Unavailable
from cencomm.domain.events import MessageFrame, ServerFrame
from cencomm.domain.ids import MAX_SEQUENCE, GroupId
from cencomm.domain.users import Principal
from cencomm.domain.wire.messages import message_json
from cencomm.realtime.hub import (
    CLOSE_GOING_AWAY,
    CLOSE_NORMAL,
    CLOSE_ROLE_CHANGED,
    CLOSE_TOO_MANY_CONNECTIONS,
    CLOSE_UNAUTHENTICATED,
    HubClosed,
    Subscription,
    TooManyConnections,
)
from cencomm.realtime.writer import run_writer
from cencomm.web.limits import RETRY_AFTER
from cencomm.web.live import LIVE
from cencomm.web.problems import problem_body

logger = logging.getLogger(__name__)

MAX_CLIENT_FRAME = 64 * 1024
MAX_TOKEN_CHARS = 8192
MAX_RESUME_GROUPS = 10_000
CLOSE_FORBIDDEN: Final = 4403  # authenticated, but the role must enrol in MFA first
CLOSE_TIMEOUT: Final = 5.0  # seconds a closing handshake may take before the socket is dropped


def _error(status: int, slug: str, detail: str) -> dict[str, Any]:
    return {"type": "error", "problem": problem_body(status, slug, detail=detail)}


def check_origin(request: web.Request) -> None:
    """Browsers send `Origin`: only the server's own and `http.allowed_origins` may connect
    (so another site cannot ride a user's session). Clients without `Origin` are not browsers.

    Raises:
        Forbidden: `origin-not-allowed`.
    """
    origin = request.headers.get("Origin")
    if origin is None:
        return
    allowed = request.app[SETTINGS].http.allowed_origins
    same = {f"{scheme}://{request.host}" for scheme in ("http", "https")}
    if origin.rstrip("/") in same or origin.rstrip("/") in allowed:
        return
    raise Forbidden(
        "this origin may not open live connections",
        slug="origin-not-allowed",
    )


async def live_events(request: web.Request) -> web.StreamResponse:
    """Upgrade to a WebSocket, authenticate by first frame, then stream live events."""
    check_origin(request)
    settings = request.app[SETTINGS].hub
    ws = web.WebSocketResponse(
        heartbeat=settings.heartbeat, max_msg_size=MAX_CLIENT_FRAME, timeout=CLOSE_TIMEOUT
    )
    if not ws.can_prepare(request).ok:
        raise web.HTTPBadRequest()  # rendered as a problem by the middleware
    sockets = request.app[SOCKETS]
    if len(sockets) >= settings.max_connections:
        # Refused before the upgrade, as an HTTP problem the client can read and retry on.
        raise Unavailable(
            f"the server has {settings.max_connections} live connections open; retry shortly",
            slug="server-busy",
            retry_after=RETRY_AFTER,
        )
    await ws.prepare(request)
    sockets.add(ws)
    try:
        principal = await _authenticate(request, ws)
        if principal is not None:
            await _serve(request, ws, principal)
    finally:
        sockets.discard(ws)
    return ws


async def _close(ws: web.WebSocketResponse, code: int, error: dict[str, Any] | None = None) -> None:
    with contextlib.suppress(ConnectionError, RuntimeError):
        if error is not None and not ws.closed:
            await ws.send_json(error)
        await ws.close(code=code)


async def _authenticate(request: web.Request, ws: web.WebSocketResponse) -> Principal | None:
    """The first frame must be `{"type": "auth", "token": ...}` within `hub.auth_timeout`."""
    try:
        msg = await ws.receive(timeout=request.app[SETTINGS].hub.auth_timeout)
    except TimeoutError:
        await _close(
            ws, CLOSE_UNAUTHENTICATED, _error(401, "auth-timeout", "no auth frame in time")
        )
        return None
    if msg.type != WSMsgType.TEXT:
        await _close(ws, CLOSE_UNAUTHENTICATED)
        return None
    try:
        data = json.loads(msg.data)
    except ValueError:
        data = None
    token = data.get("token") if isinstance(data, dict) and data.get("type") == "auth" else None
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
        detail = 'the first frame must be {"type": "auth", "token": <access token>}'
        await _close(ws, CLOSE_UNAUTHENTICATED, _error(401, "unauthenticated", detail))
        return None
    try:
        principal = await request.app[SERVICES].auth.authenticate(token)
    except Unauthenticated as exc:
        await _close(ws, CLOSE_UNAUTHENTICATED, _error(401, exc.slug, exc.detail or exc.title))
        return None
    if principal.needs_mfa_enrolment:
        detail = "your role requires two-factor authentication: enrol with /auth/otp/setup"
        await _close(ws, CLOSE_FORBIDDEN, _error(403, "mfa-enrolment-required", detail))
        return None
    return principal


async def _serve(request: web.Request, ws: web.WebSocketResponse, principal: Principal) -> None:
    hub = request.app[HUB]
    try:
        sub = hub.subscribe(principal.user_id, principal.session_id, principal.organization_id)
    except TooManyConnections as exc:
        detail = f"at most {exc.limit} live connections per user"
        await _close(ws, CLOSE_TOO_MANY_CONNECTIONS, _error(429, "too-many-connections", detail))
        return
    except HubClosed:
        await _close(ws, CLOSE_GOING_AWAY)
        return
    request.app[LIVE].sockets.add(ws)
    try:
        await LiveSocket(request, ws, sub, principal).run()
    finally:
        hub.unsubscribe(sub)


class LiveSocket:
    """The two tasks of one authenticated socket and how they end."""

    def __init__(
        self,
        request: web.Request,
        ws: web.WebSocketResponse,
        sub: Subscription,
        principal: Principal,
    ) -> None:
        self.request = request
        self.ws = ws
        self.sub = sub
        self.principal = principal
        self.settings = request.app[SETTINGS].hub
        self.dispatcher = request.app[LIVE]
        self.following = False
        # Each readable group's latest seq when `ready` was sent: groups the client does not
        # resume are followed from here, so nothing posted after `ready` is missed.
        self.ready_positions: dict[GroupId, int] = {}

    async def send(self, frame: ServerFrame) -> None:
        await self.ws.send_str(self.dispatcher.encode(frame))

    async def recheck(self) -> bool:
        """Whether the socket may go on reading with `principal`: its session is live and its
        user's role unchanged, read from the database now. Otherwise the subscription closes:
        4401 (session ended, user disabled) or 4409 (role changed), and False is returned."""
        current = await self.dispatcher.live.current(self.principal)
        if current is None:
            self.sub.close(CLOSE_UNAUTHENTICATED)
        elif current != self.principal:
            self.sub.close(CLOSE_ROLE_CHANGED)
        return not self.sub.closed

    async def load(
        self, group_id: GroupId, after: int, up_to: int | None
    ) -> Sequence[MessageFrame]:
        """Catch-up and gap reads (the writer's `LoadMessages`), after `recheck`."""
        if not await self.recheck():
            return []
        live = self.dispatcher.live
        messages = await live.load_messages(self.principal, group_id, after, up_to)
        return [MessageFrame(group_id, m.message.seq, message_json(m)) for m in messages]

    async def run(self) -> None:
        self.ready_positions = await self.dispatcher.live.positions(self.principal)
        await self.ws.send_json({"type": "ready", "user_id": str(self.principal.user_id)})
        writer = asyncio.create_task(run_writer(self.sub, self.send, self.load))
        reader = asyncio.create_task(self.read())
        closed = asyncio.create_task(self.sub.wait_closed())
        tasks = {writer, reader, closed}
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            if reader.done() and not self.sub.closed:
                self.sub.close(CLOSE_NORMAL)  # the client went away
            # Closed: the writer sends nothing more, and may be stuck sending to a client that
            # stopped reading (4408), so it is stopped rather than awaited.
            writer.cancel()
            code = self.sub.closed_code or CLOSE_NORMAL
            try:
                async with asyncio.timeout(CLOSE_TIMEOUT):
                    await _close(self.ws, code)
            except TimeoutError:
                # A stalled client: the close frame waits in the buffer; the transport flushes
                # what it can and closes.
                transport = self.request.transport
                if transport is not None:
                    transport.close()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def read(self) -> None:
        """Client frames: `resume`. Until the first one (or `hub.resume_wait`), live messages
        are held back, so a resume right after `ready` is gap-free and duplicate-free."""
        try:
            first = await self.ws.receive(timeout=self.settings.resume_wait)
        except TimeoutError:
            await self._follow_all({})
        else:
            if not await self._handle(first):
                return
        async for msg in self.ws:
            if not await self._handle(msg):
                return

    async def _handle(self, msg: Any) -> bool:
        """One client frame; False once the socket is closing."""
        if msg.type != WSMsgType.TEXT:
            if not self.following:
                await self._follow_all({})
            return msg.type not in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED)
        try:
            data = json.loads(msg.data)
        except ValueError:
            data = None
        groups = data.get("groups") if isinstance(data, dict) else None
        if (
            not isinstance(data, dict)
            or data.get("type") != "resume"
            or not isinstance(groups, dict)
        ):
            if not self.following:
                await self._follow_all({})
            await self.ws.send_json(
                _error(400, "invalid-frame", 'expected {"type": "resume", "groups": {...}}')
            )
            return True
        positions = self._positions(groups)
        if positions is None:
            await self.ws.send_json(
                _error(400, "invalid-frame", "groups maps group ids to seqs (integers >= 0)")
            )
            if not self.following:
                await self._follow_all({})
            return True
        await self._follow_all(positions)
        return True

    @staticmethod
    def _positions(groups: dict[str, object]) -> dict[GroupId, int] | None:
        if len(groups) > MAX_RESUME_GROUPS:
            return None
        positions: dict[GroupId, int] = {}
        for key, seq in groups.items():
            # Past 64 bits the database cannot hold it: refused here, not a failed read later.
            if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq <= MAX_SEQUENCE:
                return None
            try:
                positions[GroupId(uuid.UUID(key))] = seq
            except ValueError:
                return None
        return positions

    async def _follow_all(self, positions: dict[GroupId, int]) -> None:
        """First call: follow every readable group (from `positions` where given, else live).
        Later calls: resume the named groups. Each call first `recheck`s the user, then reads
        which groups they may read now (as `GET /groups/{id}` decides)."""
        if not await self.recheck():
            return
        live = self.dispatcher.live
        readable = await live.readable_group_ids(self.principal)
        may_read = set(readable)
        unknown = []
        for group_id, seq in positions.items():
            if group_id in may_read:
                self.sub.follow(group_id, seq)
            else:
                unknown.append(str(group_id))  # absent or not visible: the same answer
        if not self.following:
            self.following = True
            for group_id in readable:
                if group_id not in positions:
                    # From `ready` on (a group that became readable since: from now on).
                    self.sub.follow(group_id, self.ready_positions.get(group_id))
        if unknown:
            detail = "no such group: " + ", ".join(unknown[:20])
            await self.ws.send_json(_error(404, "not-found", detail))


async def close_sockets(app: web.Application) -> None:
    """Shutdown (`app.on_shutdown`): every socket closes with 1001. Subscribed sockets close
    themselves once the hub closes them; those still before their auth frame are closed here."""
    if HUB not in app:
        return
    app[HUB].close_all()
    subscribed = app[LIVE].sockets
    sockets = app[SOCKETS]
    for ws in [w for w in tuple(sockets) if not w.closed and w not in subscribed]:
        with contextlib.suppress(ConnectionError, RuntimeError, TimeoutError):
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await ws.close(code=CLOSE_GOING_AWAY)
