"""Links between the worker processes of one host (`serve --workers N`).

The supervising parent creates one socket pair per worker after the first and hands the ends out
by file descriptor: worker 0, the hub, holds one end of every pair, and every other worker (a
spoke) holds the other end of its own. Nothing else can reach these sockets: they have no
address, so only our own processes, started by the same parent from the same code, are at either
end. That is why frames are pickled tuples `(kind, ...)` (the posts they carry are typed domain
values) with a 4-byte length in front, and no version: both ends always run the same code.

What crosses them: the spokes' verified posts to the hub's group-commit writer and its answers
(`services/remote_writer.py`), and the bus notices of every process (`realtime/link_bus.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import pickle
import socket
from collections.abc import Callable
from typing import Any, Final, TypeAlias

logger = logging.getLogger(__name__)

# A post is at most a 1 MiB JSON body; its frame carries it once more as columns.
MAX_FRAME: Final = 8 << 20
# Bytes a link may hold unsent before notices to that process are dropped (posts wait instead).
MAX_BACKLOG: Final = 4 << 20
_LENGTH: Final = 4

Frame: TypeAlias = tuple[Any, ...]
FrameHandler: TypeAlias = Callable[["Link", Frame], None]


class LinkLost(Exception):
    """The process at the other end of a link is gone."""


class Link:
    """One stream to another worker process: framed tuples, in order, both ways."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self.open = False

    async def connect(self) -> None:
        self._reader, self._writer = await asyncio.open_connection(sock=self._sock)
        self.open = True

    def send(self, frame: Frame) -> None:
        """Queue `frame` for sending (never waits; `drain` waits for the buffer to empty)."""
        if not self.open or self._writer is None:
            raise LinkLost("the link is closed")
        data = pickle.dumps(frame, protocol=pickle.HIGHEST_PROTOCOL)
        if len(data) > MAX_FRAME:
            raise ValueError(f"a frame of {len(data)} bytes is over the link's limit")
        self._writer.write(len(data).to_bytes(_LENGTH, "big") + data)

    @property
    def backlog(self) -> int:
        """Bytes queued and not yet taken by the other process."""
        if self._writer is None or self._writer.transport.is_closing():
            return 0
        return int(self._writer.transport.get_write_buffer_size())

    async def drain(self) -> None:
        if self._writer is None:
            raise LinkLost("the link is closed")
        try:
            await self._writer.drain()
        except (ConnectionError, OSError) as exc:
            raise LinkLost(str(exc)) from None

    async def receive(self) -> Frame | None:
        """The next frame, or None once the other end has closed."""
        if self._reader is None:
            return None
        try:
            head = await self._reader.readexactly(_LENGTH)
            size = int.from_bytes(head, "big")
            if size > MAX_FRAME:
                raise LinkLost(f"a frame of {size} bytes is over the link's limit")
            frame = pickle.loads(await self._reader.readexactly(size))  # noqa: S301 (see module)
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            return None
        if not isinstance(frame, tuple) or not frame:
            raise LinkLost("a malformed frame")
        return frame

    async def close(self) -> None:
        self.open = False
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await self._writer.wait_closed()
        else:
            self._sock.close()


class WorkerLinks:
    """This process's links: to every spoke (in the hub) or to the hub (in a spoke).

    Received frames go to the handler registered for their kind (`on`); when a link ends, every
    `on_lost` callback is told which one. Handlers run on the event loop and must not block.
    """

    def __init__(self, hub: bool, sockets: list[socket.socket]) -> None:
        self.hub = hub
        self.links = [Link(sock) for sock in sockets]
        self._handlers: dict[str, FrameHandler] = {}
        self._lost: list[Callable[[Link], None]] = []
        self._readers: list[asyncio.Task[None]] = []
        self._all_closed = asyncio.Event()

    @classmethod
    def from_fds(cls, hub: bool, fds: tuple[int, ...]) -> WorkerLinks:
        return cls(hub, [socket.socket(fileno=fd) for fd in fds])

    def on(self, kind: str, handler: FrameHandler) -> None:
        self._handlers[kind] = handler

    def on_lost(self, callback: Callable[[Link], None]) -> None:
        self._lost.append(callback)

    @property
    def to_hub(self) -> Link:
        """A spoke's one link."""
        return self.links[0]

    async def start(self) -> None:
        for link in self.links:
            await link.connect()
            self._readers.append(asyncio.create_task(self._read(link), name="cencomm-link"))
        if not self.links:
            self._all_closed.set()

    def broadcast(self, frame: Frame, *, skip: Link | None = None) -> int:
        """Send `frame` to every open link but `skip` unless its backlog is full; the number
        of links that were skipped for a full backlog (the frame is lost for them)."""
        dropped = 0
        for link in self.links:
            if link is skip or not link.open:
                continue
            if link.backlog > MAX_BACKLOG:
                dropped += 1
                continue
            link.send(frame)
        return dropped

    async def wait_closed(self) -> None:
        """Return once the other end of every link has closed it (bound it with a timeout)."""
        await self._all_closed.wait()

    async def _read(self, link: Link) -> None:
        try:
            while (frame := await link.receive()) is not None:
                handler = self._handlers.get(str(frame[0]))
                if handler is None:
                    logger.error("a link frame of unknown kind %r: ignored", frame[0])
                    continue
                try:
                    handler(link, frame)
                except Exception:
                    logger.exception("a link frame of kind %r failed", frame[0])
        except LinkLost as exc:
            logger.error("a link to another worker process failed: %s", exc)
        finally:
            link.open = False
            for callback in self._lost:
                callback(link)
            if not any(other.open for other in self.links):
                self._all_closed.set()

    async def close(self) -> None:
        for link in self.links:
            await link.close()
        for task in self._readers:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._readers.clear()
