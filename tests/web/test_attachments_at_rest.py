"""Acceptance: nothing of an upload's plaintext at rest, tampering detected, keys rotate."""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from cencomm.commands import keys_rotate
from cencomm.settings import Settings
from cencomm.storage.tables import Base, BlobRow
from tests.data.attachments import build
from tests.problems import assert_problem
from tests.web.attachment_helpers import (
    REQUEST_TIMEOUT,
    GroupWorld,
    blob_files,
    group_world,
    upload,
)

WINDOW = 32


def _windows(data: bytes) -> set[bytes]:
    return {data[i : i + WINDOW] for i in range(len(data) - WINDOW + 1)}


def _leaks(haystack: bytes, windows: set[bytes]) -> int:
    return next(
        (i for i in range(len(haystack) - WINDOW + 1) if haystack[i : i + WINDOW] in windows), -1
    )


async def _database_bytes(settings: Settings) -> list[tuple[str, bytes]]:
    """The database as bytes: the SQLite files, or every PostgreSQL row rendered."""
    url = settings.database_url
    if url.startswith("sqlite"):
        path = Path(url.split("///", 1)[1])
        return [(p.name, p.read_bytes()) for p in path.parent.glob(path.name + "*")]
    engine = create_async_engine(url)
    out = []
    try:
        async with engine.connect() as conn:
            for table in Base.metadata.sorted_tables:
                for row in await conn.execute(table.select()):
                    for value in row:
                        if isinstance(value, bytes):
                            out.append((table.name, value))
                        elif value is not None:
                            out.append((table.name, str(value).encode()))
    finally:
        await engine.dispose()
    return out


async def test_no_32_byte_window_of_any_upload_is_at_rest(
    client: TestClient[Any, Any], settings: Settings
) -> None:
    world = await group_world(client)
    marker = secrets.token_hex(2048).encode()  # unique text nobody else could have written
    uploads = [
        (marker + b"\n" + build.CSV, "text/csv", "leak.csv"),
        (build.png(), "image/png", "photo.png"),
        (build.pdf(b"/Title (" + marker[:200] + b")"), "application/pdf", "awb.pdf"),
        (build.docx(marker[:300]), build.DOCX, "report.docx"),
    ]
    windows: set[bytes] = set()
    for data, media, name in uploads:
        resp = await upload(client, world.officer, world.gid, data, media, name)
        assert resp.status == 201, await resp.text()
        windows |= _windows(data)
    haystacks = [
        (p.relative_to(settings.data.dir).as_posix(), p.read_bytes())
        for p in settings.data.dir.rglob("*")
        if p.is_file()
    ]
    haystacks += await _database_bytes(settings)
    assert len(blob_files(settings.data.dir)) == len(uploads)
    leaks = [name for name, data in haystacks if _leaks(data, windows) >= 0]
    assert leaks == []


async def _stored(client: TestClient[Any, Any], world: GroupWorld, data: bytes, name: str) -> str:
    resp = await upload(client, world.officer, world.gid, data, "text/csv", name)
    assert resp.status == 201, await resp.text()
    return str((await resp.json())["sha256"])


def _flip(path: Path, offset: int) -> None:
    with path.open("r+b") as handle:
        handle.seek(offset)
        byte = handle.read(1)
        handle.seek(offset)
        handle.write(bytes([byte[0] ^ 0x01]))


async def test_a_tampered_small_blob_is_refused_with_a_clear_error(
    client: TestClient[Any, Any], settings: Settings
) -> None:
    world = await group_world(client)
    sha = await _stored(client, world, build.CSV * 100, "small.csv")
    (blob,) = blob_files(settings.data.dir)
    _flip(blob, blob.stat().st_size // 2)
    url = f"/api/v1/groups/{world.gid}/attachments/{sha}"
    body = await assert_problem(
        await client.get(url, headers=world.officer.auth), 500, "attachment-corrupted"
    )
    assert "integrity" in body["detail"]
    resp = await client.get(url, headers={**world.officer.auth, "Range": "bytes=0-10"})
    await assert_problem(resp, 500, "attachment-corrupted")


async def test_a_truncated_blob_is_refused_before_any_byte(
    client: TestClient[Any, Any], settings: Settings
) -> None:
    world = await group_world(client)
    sha = await _stored(client, world, b"x" * 9_000_000, "big.csv")
    (blob,) = blob_files(settings.data.dir)
    os.truncate(blob, blob.stat().st_size - 1)
    resp = await client.get(
        f"/api/v1/groups/{world.gid}/attachments/{sha}", headers=world.officer.auth
    )
    await assert_problem(resp, 500, "attachment-corrupted")


async def test_a_large_blob_tampered_in_the_middle_aborts_the_stream(
    client: TestClient[Any, Any], settings: Settings
) -> None:
    world = await group_world(client)
    data = b"".join(b"%09d," % n for n in range(900_000))  # 9 MB: streamed, not verified first
    sha = await _stored(client, world, data, "big.csv")
    (blob,) = blob_files(settings.data.dir)
    _flip(blob, blob.stat().st_size * 3 // 4)
    resp = await client.get(
        f"/api/v1/groups/{world.gid}/attachments/{sha}",
        headers=world.officer.auth,
        timeout=REQUEST_TIMEOUT,
    )
    assert resp.status == 200  # the headers went out before the damage was reached
    with pytest.raises(aiohttp.ClientPayloadError):
        await resp.read()  # ... but the body never ends cleanly


async def test_rotation_rewraps_every_blob_key_and_downloads_still_work(
    client: TestClient[Any, Any], settings: Settings
) -> None:
    world = await group_world(client)
    samples = [build.CSV, build.TEXT + b"1", build.TEXT + b"2"]
    shas = [await _stored(client, world, data, f"f{n}.csv") for n, data in enumerate(samples)]
    before = {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in blob_files(settings.data.dir)
    }
    kids_before = await _master_kids(settings)
    assert await keys_rotate(settings) == 0
    kids_after = await _master_kids(settings)
    assert len(set(kids_after.values())) == 1
    assert set(kids_after.values()).isdisjoint(kids_before.values())
    after = {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in blob_files(settings.data.dir)
    }
    assert after == before  # blob bytes untouched
    assert len(list((settings.data.dir / "keys" / "master").iterdir())) == 2
    for sha, data in zip(shas, samples, strict=True):
        resp = await client.get(
            f"/api/v1/groups/{world.gid}/attachments/{sha}", headers=world.officer.auth
        )
        assert resp.status == 200 and await resp.read() == data
    # New uploads after the rotation are wrapped with the new key.
    sha = await _stored(client, world, build.TEXT + b"3", "f3.csv")
    assert (await _master_kids(settings))[sha] == next(iter(kids_after.values()))


async def _master_kids(settings: Settings) -> dict[str, str]:
    engine = create_async_engine(settings.database_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(select(BlobRow.sha256, BlobRow.master_kid))
            return {sha: kid for sha, kid in rows}
    finally:
        await engine.dispose()


async def test_blob_and_key_files_are_private(
    client: TestClient[Any, Any], settings: Settings
) -> None:
    world = await group_world(client)
    await _stored(client, world, build.CSV, "a.csv")
    for path in [
        *blob_files(settings.data.dir),
        settings.data.dir / "keys" / "blobname" / "name.key",
    ]:
        assert path.stat().st_mode & 0o077 == 0, path
    for directory in [settings.data.dir / "blobs", settings.data.dir / "blobs" / "tmp"]:
        assert directory.stat().st_mode & 0o077 == 0, directory
