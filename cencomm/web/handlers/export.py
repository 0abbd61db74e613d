"""The evidence export of a group, streamed as a zip (`GET /groups/{id}/export`)."""

from __future__ import annotations

import logging

from aiohttp import web

from cencomm.appkeys import SERVICES
from cencomm.web.auth import caller
from cencomm.web.handlers.directory import path_uuid
from cencomm.web.schemas import QueryModel

logger = logging.getLogger(__name__)

FLUSH_BYTES = 256 * 1024  # small pieces (headers, JSON lines) are sent in batches


class ExportQuery(QueryModel):
    blobs: bool = False


async def export_group(request: web.Request, query: ExportQuery) -> web.StreamResponse:
    # Access, the size limit, the audit entry and the tree head are all settled here, before
    # any header goes out, so a refusal is an ordinary problem answer.
    export = await request.app[SERVICES].export.export(
        caller(request), path_uuid(request), query.blobs
    )
    response = web.StreamResponse(
        headers={
            "Content-Type": "application/zip",
            "Content-Disposition": f'attachment; filename="{export.filename}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
            "X-Cencomm-Tree-Size": str(export.tree_size),
        }
    )
    pieces = export.pieces
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
        # The status line is out: the only honest signal left is to cut the connection, so
        # the client never holds a complete-looking bundle (its verification fails anyway).
        logger.exception("evidence export of group %s failed mid-stream", request.path)
        if request.transport is not None:
            request.transport.abort()
        raise ConnectionResetError("evidence export failed") from None
    finally:
        await pieces.aclose()
    await response.write_eof()
    return response
