"""Shared set-up for client tests: a group with a logged-in officer, and a dropping TCP proxy."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

from aiohttp.test_utils import TestClient

from cencomm.client import CencommClient, LocalKey, RetryPolicy
from cencomm.domain.users import Role
from tests.factories import PASSWORD, Member, add_member, make_group, make_member

# Fast retries: the tests exercise the logic, not the waiting.
FAST_RETRY = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05)


_PROBLEM = (
    b'{"type":"urn:cencomm:problem:unavailable","title":"Unavailable","status":503,'
    b'"detail":"try again"}'
)
UNAVAILABLE = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/problem+json\r\n"
    b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(_PROBLEM), _PROBLEM)
)


def server_url(client: TestClient[Any, Any]) -> str:
    return str(client.make_url("")).rstrip("/")


@dataclass
class Scene:
    """An active group with an admin (its owner) and an officer member."""

    admin: Member
    officer: Member
    group: dict[str, Any]

    @property
    def group_id(self) -> str:
        return str(self.group["id"])


async def make_scene(client: TestClient[Any, Any]) -> Scene:
    admin = await make_member(client, Role.ADMIN)
    officer = await make_member(client, Role.OFFICER)
    group = await make_group(client, admin)
    await add_member(client, admin, group, officer)
    return Scene(admin, officer, group)


async def logged_in(
    client: TestClient[Any, Any], member: Member, *, key: bool = True, **options: Any
) -> CencommClient:
    """A `CencommClient` logged in as `member`, with a fresh registered key when `key`."""
    options.setdefault("retry", FAST_RETRY)
    api = CencommClient(server_url(client), **options)
    await api.__aenter__()
    await api.login(member.user.username, PASSWORD)
    if key:
        api.use_key(LocalKey.generate())
        await api.register_key("test")
    return api


class DroppingProxy:
    """A TCP proxy to the test server that loses the answer to chosen requests.

    With `armed_prefix` set, the next request starting with it is forwarded to the server in
    full, the server's answer is read and thrown away, and the client's connection is closed:
    the server acted, the client never heard. With `unavailable_prefix` set, the next request
    starting with it never reaches the server: the proxy answers 503 itself, as a load balancer
    would. Everything else passes through.
    """

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self._upstream = (upstream_host, upstream_port)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.armed_prefix: bytes | None = None
        self.unavailable_prefix: bytes | None = None
        self.dropped = 0
        self.refused = 0

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, OSError):
                await task

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self._upstream)
        drop = asyncio.Event()

        async def to_server() -> None:
            while data := await reader.read(65536):
                if self.unavailable_prefix is not None and data.startswith(self.unavailable_prefix):
                    self.unavailable_prefix = None
                    self.refused += 1
                    writer.write(UNAVAILABLE)
                    await writer.drain()
                    writer.transport.abort()
                    up_writer.transport.abort()
                    return
                if self.armed_prefix is not None and data.startswith(self.armed_prefix):
                    self.armed_prefix = None
                    drop.set()
                up_writer.write(data)
                await up_writer.drain()
            up_writer.close()

        async def to_client() -> None:
            while data := await up_reader.read(65536):
                if drop.is_set():
                    # The server has answered; the client must never see it.
                    self.dropped += 1
                    writer.transport.abort()
                    up_writer.transport.abort()
                    return
                writer.write(data)
                await writer.drain()
            writer.close()

        pump = [asyncio.create_task(to_server()), asyncio.create_task(to_client())]
        self._tasks.update(pump)
        try:
            await asyncio.wait(pump, return_when=asyncio.FIRST_COMPLETED)
            await asyncio.wait(pump, timeout=5)
        finally:
            for task in pump:
                task.cancel()
                self._tasks.discard(task)
            writer.transport.abort()
            up_writer.transport.abort()
