"""Attachments: streamed uploads (raw body or one multipart part), listings, safe downloads.

Uploads never go through `request.read()` or `request.post()` (bounded by the 1 MiB JSON limit
and buffering everything): the body is streamed from `request.content` or the multipart reader
straight into the service, which counts, checks and encrypts it as it arrives.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import AsyncIterator
from urllib.parse import quote

from aiohttp import BodyPartReader, MultipartReader, hdrs, web
from aiohttp.http_exceptions import HttpProcessingError
from pydantic import Field

from cencomm.appkeys import REQUEST_ID, SERVICES, SETTINGS
from cencomm.domain.attachments import AttachmentCorrupted, RangeNotSatisfiable
from cencomm.domain.errors import BadRequest, NotFound, TooLarge
from cencomm.domain.wire.attachments import attachment_json
from cencomm.web.auth import caller, principal
from cencomm.web.cursors import decode_time_cursor, encode_cursor
from cencomm.web.handlers.directory import path_uuid
from cencomm.web.problems import problem_body, problem_response
from cencomm.web.schemas import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    QueryModel,
    ResponseModel,
    cursor_field,
)

logger = logging.getLogger(__name__)

READ_CHUNK = 64 * 1024
# Multipart framing (boundaries, part headers) on top of the file itself.
MULTIPART_OVERHEAD = 64 * 1024
DOWNLOAD_CSP = "default-src 'none'; sandbox"
_SHA256_CHARS = frozenset("0123456789abcdef")


class UploadQuery(QueryModel):
    name: str | None = Field(default=None, max_length=4096)


class DownloadQuery(QueryModel):
    preview: bool = False


class AttachmentListQuery(QueryModel):
    after: str | None = cursor_field()
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class AttachmentResponse(ResponseModel):
    sha256: str
    size: int
    type: str
    name: str
    status: str
    uploader_id: str
    created_at: str


class AttachmentList(ResponseModel):
    attachments: list[AttachmentResponse]
    next: str | None


def _truncated() -> BadRequest:
    return BadRequest("the request body ended before it was complete", slug="truncated-body")


def _multipart_invalid(detail: str) -> BadRequest:
    return BadRequest(detail, slug="multipart-invalid")


async def _raw_chunks(request: web.Request) -> AsyncIterator[bytes]:
    try:
        async for chunk in request.content.iter_chunked(READ_CHUNK):
            yield chunk
    except (HttpProcessingError, ConnectionError, EOFError) as exc:
        raise _truncated() from exc


async def _part_chunks(reader: MultipartReader, part: BodyPartReader) -> AsyncIterator[bytes]:
    try:
        while chunk := await part.read_chunk(READ_CHUNK):
            yield chunk
        # Exactly one part: anything after the file part refuses the whole upload.
        if await reader.next() is not None:
            raise _multipart_invalid("send exactly one part, named file")
    except (HttpProcessingError, ConnectionError, EOFError, ValueError, AssertionError) as exc:
        raise _multipart_invalid("the multipart body is truncated or malformed") from exc


async def upload_attachment(request: web.Request, query: UploadQuery) -> web.Response:
    limit = request.app[SETTINGS].attachments.max_bytes
    claimed = request.content_length
    chunks: AsyncIterator[bytes]
    if request.content_type == "multipart/form-data":
        if claimed is not None and claimed > limit + MULTIPART_OVERHEAD:
            raise _too_large(limit)
        try:
            reader = await request.multipart()
            part = await reader.next()
        except (HttpProcessingError, ConnectionError, EOFError, ValueError, AssertionError):
            raise _multipart_invalid("the multipart body is malformed") from None
        if not isinstance(part, BodyPartReader) or part.name != "file":
            raise _multipart_invalid("the first part must be the file, named file")
        content_type = part.headers.get(hdrs.CONTENT_TYPE)
        name = part.filename if part.filename is not None else query.name
        chunks = _part_chunks(reader, part)
    else:
        if claimed is not None and claimed > limit:
            raise _too_large(limit)  # refused before reading a byte
        content_type = request.headers.get(hdrs.CONTENT_TYPE)
        name = query.name
        chunks = _raw_chunks(request)
    result = await request.app[SERVICES].attachments.upload(
        caller(request), path_uuid(request), content_type, name, chunks
    )
    return web.json_response(
        attachment_json(result.attachment), status=201 if result.created else 200
    )


def _too_large(limit: int) -> TooLarge:
    return TooLarge(
        f"attachments are limited to {limit} bytes",
        slug="attachment-too-large",
    )


async def list_attachments(request: web.Request, query: AttachmentListQuery) -> web.Response:
    before = decode_time_cursor(query.after)
    items, _ = await request.app[SERVICES].attachments.list_attachments(
        principal(request), path_uuid(request), before, query.limit
    )
    next_cursor = None
    if len(items) == query.limit:
        last = items[-1]
        next_cursor = encode_cursor(f"{last.created_at.isoformat()}|{last.id}")
    return web.json_response(
        {"attachments": [attachment_json(a) for a in items], "next": next_cursor}
    )


def content_disposition(name: str) -> str:
    """RFC 6266: an ASCII fallback `filename` and the exact name as RFC 8187 `filename*`."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    ascii_name = "".join(c if c.isprintable() and c not in '"\\' else "_" for c in ascii_name)
    if not ascii_name.strip(" ._"):
        ascii_name = "attachment"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def _sha256(request: web.Request) -> str:
    value = request.match_info["sha256"].lower()
    if len(value) != 64 or not set(value) <= _SHA256_CHARS:
        raise NotFound("no such attachment")
    return value


async def download_attachment(request: web.Request, query: DownloadQuery) -> web.StreamResponse:
    try:
        download = await request.app[SERVICES].attachments.download(
            caller(request),
            path_uuid(request),
            _sha256(request),
            request.headers.get(hdrs.RANGE),
            query.preview,
        )
    except RangeNotSatisfiable as exc:
        body = problem_body(
            416,
            "range-not-satisfiable",
            title=exc.title,
            detail=exc.detail,
            instance=request.path,
            request_id=request.get(REQUEST_ID),
        )
        return problem_response(body, {"Content-Range": f"bytes */{exc.size}"})
    attachment = download.attachment
    name = attachment.name
    if query.preview:
        stem = name.rsplit(".", 1)[0]
        name = f"{stem}.preview.{'png' if download.content_type == 'image/png' else 'jpg'}"
    headers = {
        "Content-Type": download.content_type,
        "Content-Disposition": content_disposition(name),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": DOWNLOAD_CSP,
        "Accept-Ranges": "bytes",
        "ETag": f'"{attachment.sha256}{"-preview" if query.preview else ""}"',
    }
    if download.body is not None:
        return web.Response(body=download.body, headers=headers)
    assert download.stream is not None  # noqa: S101 - body or stream, never neither
    span = download.span
    first, last = span if span else (0, download.size - 1)
    if span is not None:
        headers["Content-Range"] = f"bytes {first}-{last}/{download.size}"
    stream = download.stream
    try:
        # The first piece is read (and authenticated) before the headers go out, so a blob
        # damaged there still gets a proper problem answer.
        first_piece = await anext(stream, b"")
        response = web.StreamResponse(status=206 if span else 200, headers=headers)
        response.content_length = last - first + 1
        await response.prepare(request)
        try:
            await response.write(first_piece)
            async for piece in stream:
                await response.write(piece)
        except AttachmentCorrupted:
            # Headers and part of the body are out: the only honest signal left is to cut the
            # connection, so the client sees a short body, never a complete-looking file.
            if request.transport is not None:
                request.transport.abort()
            raise ConnectionResetError("attachment failed its integrity check") from None
    finally:
        await stream.aclose()
    await response.write_eof()
    return response
