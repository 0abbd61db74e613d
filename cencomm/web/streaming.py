"""Streamed downloads (evidence bundles, CSV): bytes go out as they are made, and a failure
after the status line cuts the connection rather than leaving a complete-looking file."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator

from aiohttp import web

logger = logging.getLogger(__name__)

FLUSH_BYTES = 256 * 1024  # small pieces (headers, JSON lines, CSV pages) are sent in batches


async def stream_download(
    request: web.Request,
    response: web.StreamResponse,
    pieces: AsyncGenerator[bytes, None],
    what: str,
) -> web.StreamResponse:
    """Send `pieces` as the body of `response`, batching small ones; `what` names it in logs."""
    try:
        await response.prepare(request)
        pending: list[bytes] = []
        buffered = 0
        async for piece in pieces:
            pending.append(piece)
            buffered += len(piece)
            if buffered >= FLUSH_BYTES:
                await response.write(b"".join(pending))
                pending, buffered = [], 0
        await response.write(b"".join(pending))
    except ConnectionError:
        raise  # the client went away: nothing to report
    except Exception:
        # The status line is out: cutting the connection is the only honest signal left, so
        # nobody holds a complete-looking file with parts missing.
        logger.exception("%s of %s failed mid-stream", what, request.path)
        if request.transport is not None:
            request.transport.abort()
        raise ConnectionResetError(f"{what} failed") from None
    finally:
        await pieces.aclose()
    await response.write_eof()
    return response
