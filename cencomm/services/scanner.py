"""Malware scanning of attachment blobs: a Scanner seam with "none" and ClamAV (clamd) behind it.

clamd's INSTREAM command takes the plaintext in length-prefixed chunks over a Unix or TCP socket
and answers `stream: OK`, `stream: <signature> FOUND` or `... ERROR`. Anything but a clear OK or
FOUND (refused connection, timeout, size limit, garbage) is a ScannerUnavailable: the blob stays
pending and is retried later, never served on a guess (fail closed).
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol


class ScannerUnavailable(RuntimeError):
    """The scanner could not give a verdict (down, too slow, refused the stream)."""


@dataclass(frozen=True, slots=True)
class Verdict:
    clean: bool
    signature: str | None = None


class Scanner(Protocol):
    enabled: bool

    async def scan(self, chunks: AsyncIterator[bytes]) -> Verdict:
        """Scan the plaintext `chunks` yields.

        Raises:
            ScannerUnavailable: no verdict could be had.
        """
        ...


class NoScanner:
    """`attachments.scanner = "none"`: every blob is clean as soon as it is stored."""

    enabled = False

    async def scan(self, chunks: AsyncIterator[bytes]) -> Verdict:
        return Verdict(clean=True)


def parse_address(address: str) -> tuple[str, int] | str:
    """`tcp://host:port` → (host, port); an absolute path → a Unix socket path.

    Raises:
        ValueError: anything else.
    """
    if address.startswith("tcp://"):
        host, _, port = address.removeprefix("tcp://").rpartition(":")
        if host and port.isdigit() and 0 < int(port) < 65536:
            return host.strip("[]"), int(port)
        raise ValueError(f"not a tcp://host:port address: {address!r}")
    if address.startswith("/"):
        return address
    raise ValueError(
        f"clamd address must be tcp://host:port or an absolute socket path: {address!r}"
    )


class ClamdScanner:
    """clamd INSTREAM over a Unix or TCP socket; every I/O step is bounded by `timeout`."""

    enabled = True

    def __init__(self, address: str, timeout: float) -> None:
        self._address = parse_address(address)
        self._timeout = timeout

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if isinstance(self._address, str):
            return await asyncio.open_unix_connection(self._address)
        host, port = self._address
        return await asyncio.open_connection(host, port)

    async def scan(self, chunks: AsyncIterator[bytes]) -> Verdict:
        try:
            async with asyncio.timeout(self._timeout):
                reader, writer = await self._connect()
                try:
                    return await self._instream(reader, writer, chunks)
                finally:
                    writer.close()
                    with contextlib.suppress(OSError):
                        await writer.wait_closed()
        except (OSError, TimeoutError, asyncio.IncompleteReadError) as exc:
            raise ScannerUnavailable(f"clamd: {type(exc).__name__}: {exc}") from None

    async def _instream(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        chunks: AsyncIterator[bytes],
    ) -> Verdict:
        writer.write(b"zINSTREAM\0")
        async for chunk in chunks:
            if chunk:
                writer.write(struct.pack(">I", len(chunk)) + chunk)
                await writer.drain()
        writer.write(struct.pack(">I", 0))
        await writer.drain()
        try:
            reply = await reader.readuntil(b"\0")
        except asyncio.LimitOverrunError:
            raise ScannerUnavailable("clamd: reply too long") from None
        text = reply.rstrip(b"\0").decode("utf-8", "replace").strip()
        _, _, result = text.partition(": ")
        if result == "OK":
            return Verdict(clean=True)
        if result.endswith(" FOUND"):
            return Verdict(clean=False, signature=result.removesuffix(" FOUND")[:150])
        raise ScannerUnavailable(f"clamd: {text[:200]}")


def make_scanner(kind: str, address: str, timeout: float) -> Scanner:
    if kind == "clamd":
        return ClamdScanner(address, timeout)
    return NoScanner()
