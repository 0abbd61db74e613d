"""Request and answer bodies moved with progress reports (uploads, downloads)."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp
from aiohttp.abc import AbstractStreamWriter
from aiohttp.payload import BytesPayload

# `progress(bytes so far, total or None)`: called as a request body is written or an answer's
# body is read (again from 0 when a try is repeated).
ProgressHook = Callable[[int, int | None], None]
CHUNK = 256 * 1024


class ProgressPayload(BytesPayload):
    """Bytes sent in chunks, reporting each one written to the connection."""

    def __init__(self, data: bytes, media_type: str, progress: ProgressHook) -> None:
        super().__init__(data, content_type=media_type)
        self._progress = progress

    async def write(self, writer: AbstractStreamWriter) -> None:
        await self.write_with_length(writer, None)

    async def write_with_length(
        self, writer: AbstractStreamWriter, content_length: int | None
    ) -> None:
        data = self._value if content_length is None else self._value[:content_length]
        total = len(data)
        self._progress(0, total)
        for start in range(0, total, CHUNK):
            await writer.write(data[start : start + CHUNK])
            self._progress(min(start + CHUNK, total), total)


async def read_reporting(resp: aiohttp.ClientResponse, progress: ProgressHook) -> bytes:
    """The answer's whole body, reporting each chunk (total: its Content-Length, if any)."""
    total = resp.content_length
    parts: list[bytes] = []
    done = 0
    progress(0, total)
    async for chunk in resp.content.iter_chunked(CHUNK):
        parts.append(chunk)
        done += len(chunk)
        progress(done, total)
    return b"".join(parts)
