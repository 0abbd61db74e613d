"""The bad-input corpus: every hostile upload is refused or neutralised, leaving no file behind
(no temporary file, nothing outside the blob store, nothing named from user input)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from cencomm.app import create_app
from cencomm.appkeys import SERVICES
from cencomm.domain.users import Caller
from cencomm.settings import Settings
from tests.data.attachments import build
from tests.problems import assert_problem
from tests.web.attachment_helpers import (
    REQUEST_TIMEOUT,
    TIMEOUT,
    GroupWorld,
    attachment_settings,
    blob_files,
    group_world,
    unexpected_files,
    upload,
    upload_multipart,
)

CAP = 64 * 1024


@pytest.fixture
async def capped(
    aiohttp_client: AiohttpClient, settings: Settings
) -> AsyncIterator[TestClient[Any, Any]]:
    """A server whose attachment cap is 64 KiB."""
    yield await aiohttp_client(create_app(attachment_settings(settings, max_bytes=CAP)))


@pytest.fixture
async def world(capped: TestClient[Any, Any]) -> GroupWorld:
    return await group_world(capped)


def _nothing_left(data_dir: Path) -> None:
    assert unexpected_files(data_dir) == []
    assert blob_files(data_dir) == []


async def _refused(
    client: TestClient[Any, Any],
    world: GroupWorld,
    data_dir: Path,
    data: bytes,
    media: str,
    name: str,
    status: int,
    slug: str,
) -> None:
    resp = await upload(client, world.officer, world.gid, data, media, name)
    await assert_problem(resp, status, slug)
    resp = await upload_multipart(client, world.officer, world.gid, data, media, name)
    await assert_problem(resp, status, slug)
    _nothing_left(data_dir)


UNSAFE = 422, "unsafe-attachment"
MISMATCH = 415, "attachment-type-mismatch"
NOT_ALLOWED = 415, "unsupported-attachment-type"


@pytest.mark.parametrize(
    ("builder", "media", "name", "expected"),
    [
        (build.zip_bomb, build.DOCX, "bomb.docx", UNSAFE),
        (build.overlapping_zip, build.DOCX, "overlap.docx", UNSAFE),
        (build.symlink_zip, build.DOCX, "link.docx", UNSAFE),
        (build.traversal_zip, build.DOCX, "slip.docx", UNSAFE),
        (build.png, "application/pdf", "photo.pdf", MISMATCH),
        (build.pdf, "image/png", "awb.png", MISMATCH),
        (build.docx, build.XLSX, "report.xlsx", MISMATCH),
        (build.gif_js_polyglot, "image/gif", "x.gif", NOT_ALLOWED),
        (build.gif_js_polyglot, "text/plain", "x.txt", MISMATCH),
        (build.gif_js_polyglot, "image/png", "x.png", MISMATCH),
        (build.pdf_with_javascript, "text/plain", "notes.txt", MISMATCH),
        (build.pdf_with_javascript, "application/pdf", "awb.pdf", UNSAFE),
        (build.pdf_with_escaped_javascript, "application/pdf", "awb.pdf", UNSAFE),
        (build.jpeg_html_polyglot, "image/jpeg", "photo.jpg", MISMATCH),
        (lambda: build.SVG_WITH_SCRIPT, "image/svg+xml", "x.svg", NOT_ALLOWED),
        (lambda: build.SVG_WITH_SCRIPT, "text/plain", "x.txt", MISMATCH),
        (lambda: build.SVG_WITH_SCRIPT, "image/png", "x.png", MISMATCH),
        (lambda: build.HTML, "text/html", "x.html", NOT_ALLOWED),
        (lambda: build.HTML, "text/csv", "x.csv", MISMATCH),
        (lambda: b"MZ\x90\x00" + b"\x00" * 60, "application/pdf", "x.pdf", MISMATCH),
        (lambda: b"#!/bin/sh\nrm -rf /\n", "text/plain", "run.txt", MISMATCH),
        (lambda: b"caf\xe9 latin-1\n", "text/plain", "latin1.txt", MISMATCH),
        (lambda: b"text with a \x00 NUL\n", "text/csv", "nul.csv", MISMATCH),
        (lambda: b"x" * 1000 + b"%PDF-1.4", "text/plain", "pdf.txt", MISMATCH),
        (build.pixel_flood_png, "image/png", "flood.png", UNSAFE),
        (build.png, "image/png", "photo.exe", MISMATCH),
    ],
)
async def test_hostile_content_is_refused(
    capped: TestClient[Any, Any],
    world: GroupWorld,
    settings: Settings,
    builder: Callable[[], bytes],
    media: str,
    name: str,
    expected: tuple[int, str],
) -> None:
    await _refused(capped, world, settings.data.dir, builder(), media, name, *expected)


async def test_a_hundred_thousand_zip_entries_are_refused(
    aiohttp_client: AiohttpClient,
    settings: Settings,
) -> None:
    client = await aiohttp_client(create_app(settings))  # the default 50 MiB cap
    world = await group_world(client)
    data = await asyncio.to_thread(build.many_entries_zip, 100_000)
    resp = await upload(client, world.officer, world.gid, data, build.DOCX, "many.docx")
    body = await assert_problem(resp, 422, "unsafe-attachment")
    assert "zip64" in body["detail"] or "entries" in body["detail"]
    data = await asyncio.to_thread(build.many_entries_zip, 12_000)
    resp = await upload(client, world.officer, world.gid, data, build.DOCX, "many.docx")
    body = await assert_problem(resp, 422, "unsafe-attachment")
    assert "12002 entries" in body["detail"]
    _nothing_left(settings.data.dir)


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("../../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\windows\\win.txt", "win.txt"),
        ("%2e%2e%2f%2e%2e%2fetc.txt", "%2e%2e%2f%2e%2e%2fetc.txt"),
        ("/abs/path/x.txt", "x.txt"),
        ("C:\\Users\\x\\report.txt", "report.txt"),
        ("na\x00me.txt", "name.txt"),
        ("ev\u202eil.txt", "evil.txt"),
        ("\u202ereport\u2066.txt", "report.txt"),
        ("e\u0301te\u0301.txt", "\u00e9t\u00e9.txt"),  # NFC
        ("  ..hidden.txt  ", "hidden.txt"),
    ],
)
async def test_names_are_reduced_to_a_safe_base_name(
    capped: TestClient[Any, Any], world: GroupWorld, settings: Settings, raw: str, stored: str
) -> None:
    resp = await upload(capped, world.officer, world.gid, build.TEXT, "text/plain", raw)
    assert resp.status in (200, 201), await resp.text()
    listing = await capped.get(
        f"/api/v1/groups/{world.gid}/attachments", headers=world.officer.auth
    )
    names = [a["name"] for a in (await listing.json())["attachments"]]
    assert stored in names
    assert unexpected_files(settings.data.dir) == []
    for path in settings.data.dir.rglob("*"):
        assert "passwd" not in path.name and "hidden" not in path.name


async def test_multipart_file_names_are_reduced_too(
    capped: TestClient[Any, Any], world: GroupWorld, settings: Settings
) -> None:
    body = _multipart([("file", "../../x/..\\seized.txt", build.TEXT)])
    resp = await capped.post(
        f"/api/v1/groups/{world.gid}/attachments",
        data=body,
        headers={**world.officer.auth, "Content-Type": "multipart/form-data; boundary=XyZ"},
        timeout=REQUEST_TIMEOUT,
    )
    assert resp.status == 201, await resp.text()
    assert (await resp.json())["name"] == "seized.txt"
    assert unexpected_files(settings.data.dir) == []


async def test_a_1000_byte_name_keeps_255_bytes_and_its_extension(
    capped: TestClient[Any, Any], world: GroupWorld
) -> None:
    name = "é" * 499 + "x.txt"  # 1,003 bytes of UTF-8
    resp = await upload(capped, world.officer, world.gid, build.TEXT, "text/plain", name)
    stored = (await resp.json())["name"]
    assert len(stored.encode()) <= 255 and stored.endswith(".txt")
    assert stored.startswith("éé")


async def test_a_right_to_left_override_cannot_disguise_an_extension(
    capped: TestClient[Any, Any], world: GroupWorld
) -> None:
    resp = await upload(
        capped, world.officer, world.gid, build.png(), "image/png", "photo\u202egnp.exe"
    )
    await assert_problem(resp, 415, "attachment-type-mismatch")


async def test_names_with_nothing_left_are_refused(
    capped: TestClient[Any, Any], world: GroupWorld
) -> None:
    for raw in ("../..", "\u202e\u200f", "..\\"):
        resp = await upload(capped, world.officer, world.gid, build.TEXT, "text/plain", raw)
        await assert_problem(resp, 422, "invalid-attachment-name")


async def test_cap_plus_one_byte_is_413(
    capped: TestClient[Any, Any], world: GroupWorld, settings: Settings
) -> None:
    await _refused(
        capped,
        world,
        settings.data.dir,
        b"a" * (CAP + 1),
        "text/plain",
        "a.txt",
        413,
        "attachment-too-large",
    )
    exact = await upload(capped, world.officer, world.gid, b"a" * CAP, "text/plain", "a.txt")
    assert exact.status == 201


async def test_streamed_body_without_length_is_cut_at_the_cap(
    capped: TestClient[Any, Any], world: GroupWorld, settings: Settings
) -> None:
    async def body() -> AsyncIterator[bytes]:
        for _ in range(1000):  # 16 MiB if nobody stopped it
            yield b"b" * 16384

    resp = await capped.post(
        f"/api/v1/groups/{world.gid}/attachments",
        params={"name": "endless.txt"},
        data=body(),
        headers={**world.officer.auth, "Content-Type": "text/plain"},
        timeout=REQUEST_TIMEOUT,
    )
    await assert_problem(resp, 413, "attachment-too-large")
    _nothing_left(settings.data.dir)


async def _raw_request(
    client: TestClient[Any, Any], head: bytes, body: bytes, *, half_close: bool
) -> bytes:
    """Send bytes as they are; return the first response (status line, headers and body)."""
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(client.server.host, client.server.port), TIMEOUT
    )
    try:
        writer.write(head + body)
        await writer.drain()
        if half_close:
            writer.write_eof()
        try:
            headers = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
        except asyncio.IncompleteReadError as exc:
            return exc.partial  # the server closed without answering
        length = 0
        for line in headers.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        return headers + await asyncio.wait_for(reader.readexactly(length), TIMEOUT)
    finally:
        writer.close()


def _head(world: GroupWorld, content_type: str, length: int, name: str = "a.txt") -> bytes:
    return (
        f"POST /api/v1/groups/{world.gid}/attachments?name={name} HTTP/1.1\r\n"
        f"Host: test\r\nAuthorization: Bearer {world.officer.access_token}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


async def test_a_content_length_over_the_cap_is_refused_before_reading(
    capped: TestClient[Any, Any], world: GroupWorld, settings: Settings
) -> None:
    answer = await _raw_request(
        capped, _head(world, "text/plain", 10**12), b"a" * 100, half_close=False
    )
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"attachment-too-large" in answer
    _nothing_left(settings.data.dir)


async def test_a_lying_content_length_never_completes_an_upload(
    capped: TestClient[Any, Any], world: GroupWorld, settings: Settings
) -> None:
    # Claims 60,000 bytes, sends 1,000 and closes its side: no upload is answered.
    answer = await _raw_request(
        capped, _head(world, "text/plain", 60_000), b"a" * 1000, half_close=True
    )
    assert answer == b"", answer[:200]
    # Claims 10 bytes and sends more than the cap: the body is the 10 declared bytes, and what
    # follows is parsed as the next request (and refused), never as more of the file.
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(capped.server.host, capped.server.port), TIMEOUT
    )
    try:
        writer.write(_head(world, "text/plain", 10) + b"b" * 10)
        answer = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
        assert answer.startswith(b"HTTP/1.1 201"), answer[:200]
        writer.write(b"b" * (CAP + 10))
        answer = await asyncio.wait_for(reader.read(), TIMEOUT)
        assert b" 400 Bad Request\r\n" in answer, answer[:400]
    finally:
        writer.close()
    listing = await capped.get(
        f"/api/v1/groups/{world.gid}/attachments", headers=world.officer.auth
    )
    assert [a["size"] for a in (await listing.json())["attachments"]] == [10]


async def test_an_interrupted_upload_leaves_no_temporary_file(
    capped: TestClient[Any, Any], world: GroupWorld, settings: Settings
) -> None:
    """What the server does when a body stops short (the test awaits the service itself, so
    the clean-up is over when it looks)."""

    async def stops_short() -> AsyncIterator[bytes]:
        yield b"a" * 40_000
        raise ConnectionResetError("client went away")

    principal = await capped.app[SERVICES].auth.authenticate(world.officer.access_token)
    with pytest.raises(ConnectionResetError):
        await capped.app[SERVICES].attachments.upload(
            Caller(principal=principal, ip=None),
            uuid.UUID(world.gid),
            "text/plain",
            "a.txt",
            stops_short(),
        )
    _nothing_left(settings.data.dir)


def _multipart(
    parts: list[tuple[str, str, bytes]], boundary: str = "XyZ", close: bool = True
) -> bytes:
    out = b""
    for field, filename, data in parts:
        out += (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
                f'filename="{filename}"\r\nContent-Type: text/plain\r\n\r\n'
            ).encode()
            + data
            + b"\r\n"
        )
    if close:
        out += f"--{boundary}--\r\n".encode()
    return out


async def test_two_file_parts_are_refused(
    capped: TestClient[Any, Any], world: GroupWorld, settings: Settings
) -> None:
    body = _multipart([("file", "a.txt", b"first\n"), ("file", "b.txt", b"second\n")])
    resp = await capped.post(
        f"/api/v1/groups/{world.gid}/attachments",
        data=body,
        headers={**world.officer.auth, "Content-Type": "multipart/form-data; boundary=XyZ"},
        timeout=REQUEST_TIMEOUT,
    )
    await assert_problem(resp, 400, "multipart-invalid")
    _nothing_left(settings.data.dir)


async def test_a_part_not_named_file_is_refused(
    capped: TestClient[Any, Any], world: GroupWorld
) -> None:
    body = _multipart([("document", "a.txt", b"first\n")])
    resp = await capped.post(
        f"/api/v1/groups/{world.gid}/attachments",
        data=body,
        headers={**world.officer.auth, "Content-Type": "multipart/form-data; boundary=XyZ"},
        timeout=REQUEST_TIMEOUT,
    )
    await assert_problem(resp, 400, "multipart-invalid")


async def test_a_truncated_multipart_body_is_refused(
    capped: TestClient[Any, Any], world: GroupWorld, settings: Settings
) -> None:
    body = _multipart([("file", "a.txt", b"the start of a file " * 100)], close=False)[:-200]
    resp = await capped.post(
        f"/api/v1/groups/{world.gid}/attachments",
        data=body,
        headers={**world.officer.auth, "Content-Type": "multipart/form-data; boundary=XyZ"},
        timeout=REQUEST_TIMEOUT,
    )
    await assert_problem(resp, 400, "multipart-invalid")
    _nothing_left(settings.data.dir)
