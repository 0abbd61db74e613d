"""A client that stops reading is closed with 4408 and delays nobody else."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import struct
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from cencomm.appkeys import HUB
from cencomm.domain.users import Role
from cencomm.settings import Settings
from tests.factories import add_member, make_group, make_member, post_message
from tests.web.live_helpers import WAIT, connect, frame, live_settings

BIG_TEXT = "x" * 60_000  # a large frame fills the stalled socket's buffers quickly


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return live_settings(settings, queue_size=8)


class RawSocket:
    """A minimal WebSocket client over a small receive buffer that can stop reading."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, host: str, port: int) -> RawSocket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, (host, port))
        reader, writer = await asyncio.open_connection(sock=sock, limit=16 * 1024)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            (
                f"GET /api/v1/ws HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), WAIT)
        assert head.startswith(b"HTTP/1.1 101"), head
        return cls(reader, writer)

    def send_json(self, data: dict[str, Any]) -> None:
        payload = json.dumps(data).encode()
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        assert len(payload) < 65536
        header = struct.pack("!BBH", 0x81, 0x80 | 126, len(payload))
        self.writer.write(header + mask + masked)

    async def read_frame(self) -> tuple[int, bytes]:
        first, second = await asyncio.wait_for(self.reader.readexactly(2), WAIT)
        length = second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", await self.reader.readexactly(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", await self.reader.readexactly(8))
        return first & 0x0F, await asyncio.wait_for(self.reader.readexactly(length), WAIT)


async def test_a_stalled_consumer_gets_4408_while_another_receives_everything(
    client: TestClient[Any, Any],
) -> None:
    mod = await make_member(client, Role.MODERATOR)
    group = await make_group(client, mod)
    officer = await make_member(client, Role.OFFICER, with_key=True)
    await add_member(client, mod, group, officer)
    slow_member = await make_member(client, Role.OFFICER)
    await add_member(client, mod, group, slow_member)

    assert client.port is not None
    slow = await RawSocket.open(client.host, client.port)
    slow.send_json({"type": "auth", "token": slow_member.access_token})
    opcode, ready = await slow.read_frame()
    assert opcode == 1 and json.loads(ready)["type"] == "ready"
    slow.send_json({"type": "resume", "groups": {}})  # ... and from now on it reads nothing

    fast = await connect(client, mod)
    received: list[int] = []

    async def read_fast_up_to(seq: int) -> None:
        while not received or received[-1] < seq:
            data = await frame(fast)
            if data["type"] == "message":
                received.append(data["seq"])

    # The other client reads each message before the next is posted: it keeps up by
    # construction, however slowly a loaded machine runs this test (server and client share
    # one event loop), while the stalled one reads nothing until it is dropped.
    hub = client.app[HUB]
    posted = 0
    while hub.dropped_slow_consumers == 0:
        assert posted < 400, "the stalled socket was never dropped"
        posted = (await post_message(client, officer, group, body={"text": BIG_TEXT}))["seq"]
        await read_fast_up_to(posted)
    posted = (await post_message(client, officer, group))["seq"]  # and life goes on
    await read_fast_up_to(posted)
    assert received == list(range(1, posted + 1))
    assert hub.dropped_slow_consumers == 1  # the stalled socket only

    # The stalled client, reading at last, finds in-order frames and then the close: 4408.
    seqs = []
    while True:
        opcode, payload = await slow.read_frame()
        if opcode == 8:
            assert struct.unpack("!H", payload[:2])[0] == 4408
            break
        if opcode == 1:
            seqs.append(json.loads(payload)["seq"])
    assert seqs == list(range(1, len(seqs) + 1))
    assert len(seqs) < posted
    slow.writer.close()
