"""The evidence export of a group, streamed as a zip (`GET /groups/{id}/export`)."""

from __future__ import annotations

from aiohttp import web

from cencomm.appkeys import SERVICES
from cencomm.web.auth import caller
from cencomm.web.handlers.directory import path_uuid
from cencomm.web.schemas import QueryModel
from cencomm.web.streaming import stream_download


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
    return await stream_download(request, response, export.pieces, "evidence export")
