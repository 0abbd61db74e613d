"""Resource limits: slow clients, large bodies and one user's burst do not stop others.

Real server on a real socket; the misbehaving clients are raw sockets. Nothing here measures
time: the deadlines are short in these settings, each test waits for the server to act (a
closed connection, an answer, a count of requests in progress) and meanwhile checks that
another user is served. Latency under such load is measured in bench/limits_bench.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from cencomm.app import create_app
from cencomm.appkeys import SOCKETS
from cencomm.domain.users import Role
from cencomm.settings import AttachmentsSettings, HttpSettings, HubSettings, Settings
from cencomm.web.limits import LIMITS
from tests.conftest import with_settings
from tests.factories import Member, add_member, make_group, make_member
from tests.problems import assert_problem

WAIT = 30.0  # upper bound for the server to act; never a timing assertion
MAX_ATTACHMENT = 64 * 1024


@pytest.fixture
def settings(settings: Settings) -> Settings:
    http = replace(
        HttpSettings(),
        header_timeout=1.0,
        body_timeout=1.0,
        # Trickled bytes must not buy time in these tests.
        body_min_rate=10_000_000,
        max_concurrent_requests=64,
        max_requests_per_user=3,
    )
    return with_settings(
        settings,
        http=http,
        hub=replace(HubSettings(), max_connections=2),
        attachments=replace(AttachmentsSettings(), max_bytes=MAX_ATTACHMENT),
    )


@pytest.fixture
async def client(
    aiohttp_client: AiohttpClient, app: web.Application
) -> AsyncIterator[TestClient[Any, Any]]:
    # A new connection per request: the short header_timeout closes idle keep-alive
    # connections, and a request sent on one just as it closes would fail for that reason alone.
    test_client = await aiohttp_client(app, connector=aiohttp.TCPConnector(force_close=True))
    yield test_client
    await test_client.close()


@dataclass
class RawClient:
    """A client that sends exactly the bytes it is told to, when it is told to."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    @classmethod
    async def open(cls, client: TestClient[Any, Any]) -> RawClient:
        reader, writer = await asyncio.open_connection(client.host, client.port)
        return cls(reader, writer)

    def send(self, data: bytes) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            self.writer.write(data)

    async def answer(self) -> tuple[str, dict[str, Any]]:
        """The status line and the JSON body of the one answer, then the server's close."""
        head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), WAIT)
        status_line, *header_lines = head.decode().split("\r\n")
        headers = dict(line.split(": ", 1) for line in header_lines if line)
        body = await asyncio.wait_for(self.reader.readexactly(int(headers["Content-Length"])), WAIT)
        assert await asyncio.wait_for(self.reader.read(), WAIT) == b"", "connection left open"
        return status_line, json.loads(body)

    async def cut_off(self) -> bytes:
        """What the server sent before closing the connection (a reset if it closed while our
        bytes were still coming in)."""
        try:
            return await asyncio.wait_for(self.reader.read(), WAIT)
        except ConnectionResetError:
            return b""

    def close(self) -> None:
        self.writer.close()


def request_head(method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [
        f"{method} {path} HTTP/1.1",
        "Host: localhost",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def served(client: TestClient[Any, Any], member: Member) -> None:
    """One request of a well-behaved user, answered in full."""
    resp = await client.get("/api/v1/me", headers=member.auth)
    assert resp.status == 200, await resp.text()
    await resp.read()


async def until(condition: Any, client: TestClient[Any, Any], member: Member) -> int:
    """Serve `member` again and again until `condition()` holds; returns how many were served."""
    count = 0
    async with asyncio.timeout(WAIT):
        while not condition():
            await served(client, member)
            count += 1
    return count


async def test_slow_headers_are_cut_off_while_others_are_served(
    client: TestClient[Any, Any],
) -> None:
    other = await make_member(client)
    slow = [await RawClient.open(client) for _ in range(5)]
    for raw in slow:
        raw.send(b"GET /api/v1/me HTTP/1.1\r\nHost: localhost\r\n")
    closed = [asyncio.ensure_future(raw.cut_off()) for raw in slow]
    trickle = b"X-Slow: " + b"a" * 10_000
    position = 0

    def all_closed() -> bool:
        nonlocal position
        # A byte of header at a time on every slow connection, between two good requests.
        for raw, done in zip(slow, closed, strict=True):
            if not done.done():
                raw.send(trickle[position : position + 1])
        position += 1
        return all(done.done() for done in closed)

    assert await until(all_closed, client, other) > 0
    # Cut off without an answer: the request never began.
    assert [done.result() for done in closed] == [b""] * len(slow)
    for raw in slow:
        raw.close()
    await served(client, other)


async def test_a_body_that_never_completes_gets_408_and_the_connection_closes(
    client: TestClient[Any, Any],
) -> None:
    other = await make_member(client)
    head = {"Content-Type": "application/json", "Content-Length": "1000"}
    start = request_head("POST", "/api/v1/auth/login", head) + b'{"username": '
    # One that stops sending, whose answer is read whole.
    stalled = await RawClient.open(client)
    stalled.send(start)
    answer = asyncio.ensure_future(stalled.answer())
    # Others that trickle a byte of body at a time (it buys nothing at this minimum rate); they
    # may see a reset instead of the answer, as the server closes while their bytes come in.
    trickling = [await RawClient.open(client) for _ in range(3)]
    for raw in trickling:
        raw.send(start)
    closed = [asyncio.ensure_future(raw.cut_off()) for raw in trickling]

    def all_answered() -> bool:
        for raw, done in zip(trickling, closed, strict=True):
            if not done.done():
                raw.send(b" ")
        return answer.done() and all(done.done() for done in closed)

    assert await until(all_answered, client, other) > 0
    status_line, body = answer.result()
    assert status_line.startswith("HTTP/1.1 408"), status_line
    assert body["type"] == "urn:cencomm:problem:request-timeout"
    for done in closed:
        assert done.result() in (b"",) or done.result().startswith(b"HTTP/1.1 408")
    for raw in [stalled, *trickling]:
        raw.close()


async def test_oversized_bodies_are_refused_before_they_are_sent(
    client: TestClient[Any, Any],
) -> None:
    other = await make_member(client)
    uploader = await make_member(client)
    moderator = await make_member(client, Role.MODERATOR)
    group = await make_group(client, moderator)
    await add_member(client, moderator, group, uploader)
    path = f"/api/v1/groups/{group['id']}/attachments?name=big.txt"
    flood = []
    for index in range(10):
        raw = await RawClient.open(client)
        if index % 2:
            head = {**uploader.auth, "Content-Type": "text/plain"}
            head["Content-Length"] = str(MAX_ATTACHMENT + 1)
            raw.send(request_head("POST", path, head))
        else:
            head = {"Content-Type": "application/json", "Content-Length": str(2**21)}
            raw.send(request_head("POST", "/api/v1/auth/login", head))
        flood.append(raw)
    # Not a byte of any body was sent, and every one is answered.
    for raw in flood:
        status_line, body = await raw.answer()
        assert status_line.startswith("HTTP/1.1 413"), status_line
        assert body["type"] in {
            "urn:cencomm:problem:attachment-too-large",
            "urn:cencomm:problem:body-too-large",
        }
        raw.close()
    await served(client, other)


async def test_a_flood_of_large_uploads_does_not_stop_another_user(
    client: TestClient[Any, Any],
) -> None:
    other = await make_member(client)
    moderator = await make_member(client, Role.MODERATOR)
    group = await make_group(client, moderator)
    uploaders = [await make_member(client) for _ in range(4)]
    for uploader in uploaders:
        await add_member(client, moderator, group, uploader)
    path = f"/api/v1/groups/{group['id']}/attachments"

    async def upload(uploader: Member, index: int) -> int:
        data = bytes([65 + index % 26]) * (MAX_ATTACHMENT - index)
        headers = {**uploader.auth, "Content-Type": "text/plain"}
        resp = await client.post(f"{path}?name=f{index}.txt", data=data, headers=headers)
        await resp.read()
        return resp.status

    # Each uploader within their own cap (3), twelve uploads in flight.
    flood = asyncio.gather(
        *(upload(uploader, 3 * n + i) for n, uploader in enumerate(uploaders) for i in range(3))
    )

    async def good() -> None:
        for _ in range(20):
            await served(client, other)

    statuses, _ = await asyncio.wait_for(asyncio.gather(flood, good()), WAIT)
    assert set(statuses) == {201}


async def hold_requests(
    client: TestClient[Any, Any],
    count: int,
    headers: dict[str, str],
    path: str,
    content_type: str = "application/json",
) -> list[RawClient]:
    """`count` requests kept in progress by a body that is never finished."""
    held = []
    for _ in range(count):
        raw = await RawClient.open(client)
        head = {**headers, "Content-Type": content_type, "Content-Length": "1000"}
        raw.send(request_head("POST", path, head) + b"{")
        held.append(raw)
    return held


async def test_one_users_burst_gets_429_while_another_is_served(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    settings = with_settings(settings, http=replace(settings.http, body_timeout=WAIT))
    client = await aiohttp_client(
        create_app(settings), connector=aiohttp.TCPConnector(force_close=True)
    )
    greedy = await make_member(client)
    other = await make_member(client)
    limits = client.app[LIMITS]
    held = await hold_requests(client, 3, greedy.auth, "/api/v1/keys")
    await until(lambda: limits.in_progress_of(greedy.user.id) == 3, client, other)
    # Bodies still coming in hold their user's slots, none of the shared ones.
    assert limits.in_progress == 0

    resp = await client.get("/api/v1/me", headers=greedy.auth)
    await assert_problem(resp, 429, "too-many-requests")
    assert resp.headers["Retry-After"] == "1"
    # The other user's requests, up to their own cap at once, all succeed.
    for _ in range(5):
        await asyncio.gather(*(served(client, other) for _ in range(3)))

    for raw in held:
        raw.close()
    await until(lambda: limits.users_in_progress() == 0, client, other)
    await served(client, greedy)
    await client.close()


async def test_the_total_cap_gives_503_but_health_still_answers(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    http = replace(settings.http, body_timeout=WAIT, max_concurrent_requests=4)
    settings = with_settings(settings, http=http)
    client = await aiohttp_client(
        create_app(settings), connector=aiohttp.TCPConnector(force_close=True)
    )
    other = await make_member(client)
    moderator = await make_member(client, Role.MODERATOR)
    group = await make_group(client, moderator)
    path = f"/api/v1/groups/{group['id']}/attachments?name=slow.txt"
    limits = client.app[LIMITS]
    # Two users' uploads, each within its user's cap, that never finish: an upload is read as
    # it is processed, so it holds one of the shared slots throughout.
    held = []
    for _ in range(2):
        uploader = await make_member(client)
        await add_member(client, moderator, group, uploader)
        held += await hold_requests(client, 2, uploader.auth, path, "text/plain")
    async with asyncio.timeout(WAIT):
        while limits.in_progress < 4:
            assert (await client.get("/health")).status == 200  # exempt from the cap

    resp = await client.get("/api/v1/me", headers=other.auth)
    await assert_problem(resp, 503, "server-busy")
    assert resp.headers["Retry-After"] == "1"
    assert (await client.get("/ready")).status == 200

    for raw in held:
        raw.close()
    async with asyncio.timeout(WAIT):
        while limits.in_progress:
            assert (await client.get("/health")).status == 200
    await served(client, other)
    await client.close()


async def test_the_websocket_total_cap_refuses_the_upgrade_with_503(
    client: TestClient[Any, Any],
) -> None:
    member = await make_member(client)
    first = await client.ws_connect("/api/v1/ws")
    second = await client.ws_connect("/api/v1/ws")
    upgrade = {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "13",
    }
    resp = await client.get("/api/v1/ws", headers=upgrade)
    await assert_problem(resp, 503, "server-busy")
    assert resp.headers["Retry-After"] == "1"
    await served(client, member)  # HTTP is not affected

    await first.close()
    sockets = client.app[SOCKETS]
    await until(lambda: len(sockets) < 2, client, member)
    third = await client.ws_connect("/api/v1/ws")
    await third.send_json({"type": "auth", "token": member.access_token})
    assert (await third.receive_json(timeout=WAIT))["type"] == "ready"
    await third.close()
    await second.close()


async def test_the_openapi_document_names_the_limits_answers(client: TestClient[Any, Any]) -> None:
    document = await (await client.get("/api/openapi.json")).json()
    responses = document["components"]["responses"]
    assert set(responses) >= {"TooManyRequests", "ServerBusy", "RequestTimeout"}
    assert "Retry-After" in responses["ServerBusy"]["headers"]
    me = document["paths"]["/api/v1/me"]["get"]["responses"]
    assert me["429"] == {"$ref": "#/components/responses/TooManyRequests"}
    assert me["503"] == {"$ref": "#/components/responses/ServerBusy"}
    login = document["paths"]["/api/v1/auth/login"]["post"]["responses"]
    assert login["408"] == {"$ref": "#/components/responses/RequestTimeout"}
    assert "503" not in document["paths"]["/health"]["get"]["responses"]
