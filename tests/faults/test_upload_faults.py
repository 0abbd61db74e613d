"""Uploads that meet a failing disk or database: 503 `unavailable` with Retry-After, no
partial file, no row without its blob nor blob without its row; the same upload again works.

The full disk is a real one: a small tmpfs mounted over the blob directory (the tests run as
root in CI); where mounting is not allowed, the blob writer's file fails with ENOSPC instead.
"""

from __future__ import annotations

import errno
import hashlib
import os
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from cencomm.app import create_app
from cencomm.appkeys import DATABASE
from cencomm.settings import Settings
from cencomm.storage import blobs
from tests.conftest import PG_URL
from tests.faults.helpers import assert_unavailable, audit_count, scalar
from tests.faults.seam import DROPPED, IO_ERROR, FaultPlan
from tests.web.attachment_helpers import (
    GroupWorld,
    blob_files,
    group_world,
    unexpected_files,
    upload,
)

CSV = b"date,country,item,quantity\n" + b"2020-05-20,FR,masks,12000\n" * 40_000  # ~1 MiB
FILLER = "filler.bin"


async def rows_for(database_url: str, sha256: str) -> tuple[int, int]:
    blob_rows = await scalar(database_url, "SELECT count(*) FROM blob WHERE sha256 = :s", s=sha256)
    attachment_rows = await scalar(
        database_url, "SELECT count(*) FROM attachment WHERE sha256 = :s", s=sha256
    )
    return int(blob_rows), int(attachment_rows)


@pytest.fixture
async def client(
    aiohttp_client: AiohttpClient, settings: Settings
) -> AsyncIterator[TestClient[Any, Any]]:
    test_client = await aiohttp_client(create_app(settings))
    yield test_client
    await test_client.close()


async def test_a_database_fault_while_recording_an_upload_leaves_no_row_and_no_blob(
    client: TestClient[Any, Any], settings: Settings, database_url: str
) -> None:
    """The blob row is inserted and its file installed, then the audit entry fails: the unit
    rolls back and takes the installed file with it."""
    world = await group_world(client)
    faults = FaultPlan(client.app[DATABASE])
    kind = DROPPED if PG_URL else IO_ERROR
    faults.arm(kind)
    sha256 = hashlib.sha256(CSV).hexdigest()
    audit_before = await audit_count(database_url)
    try:
        failed = await upload(client, world.officer, world.gid, CSV, "text/csv", "seized.csv")
        await assert_unavailable(failed)
    finally:
        faults.close()
    assert faults.injected[kind] == 1
    assert await rows_for(database_url, sha256) == (0, 0)
    assert await audit_count(database_url) == audit_before
    assert blob_files(settings.data.dir) == []
    assert unexpected_files(settings.data.dir) == []

    await uploaded_once(client, world, settings, database_url, sha256)


async def uploaded_once(
    client: TestClient[Any, Any],
    world: GroupWorld,
    settings: Settings,
    database_url: str,
    sha256: str,
) -> None:
    retried = await upload(client, world.officer, world.gid, CSV, "text/csv", "seized.csv")
    assert retried.status == 201, await retried.text()
    assert (await retried.json())["sha256"] == sha256
    assert await rows_for(database_url, sha256) == (1, 1)
    assert len(blob_files(settings.data.dir)) == 1
    download = await client.get(
        f"/api/v1/groups/{world.gid}/attachments/{sha256}", headers=world.officer.auth
    )
    assert download.status == 200
    assert hashlib.sha256(await download.read()).hexdigest() == sha256


@pytest.fixture
def small_disk(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The blob directory on a 2 MiB filesystem, 1.5 MiB of it taken by a filler file."""
    root = settings.data.dir / "blobs"
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    mounted = (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", str(root)],
            capture_output=True,
            check=False,
        ).returncode
        == 0
    )
    filler = root / FILLER
    if mounted:
        with filler.open("wb") as handle:
            handle.write(b"\0" * (1536 * 1024))
    else:  # not root: the blob file fails as a full disk's would, while the filler exists
        real_write = blobs.BlobWriter.write

        def write(self: blobs.BlobWriter, data: bytes) -> None:
            if filler.exists():
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            real_write(self, data)

        monkeypatch.setattr(blobs.BlobWriter, "write", write)
        filler.write_bytes(b"")
    try:
        yield filler
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(root)], check=False)


async def test_a_full_disk_while_uploading_is_a_503_and_leaves_no_partial_file(
    client: TestClient[Any, Any], settings: Settings, database_url: str, small_disk: Path
) -> None:
    world = await group_world(client)
    sha256 = hashlib.sha256(CSV).hexdigest()
    audit_before = await audit_count(database_url)

    failed = await upload(client, world.officer, world.gid, CSV, "text/csv", "seized.csv")
    body = await assert_unavailable(failed)
    assert "ENOSPC" in body["detail"]
    assert await rows_for(database_url, sha256) == (0, 0)
    assert await audit_count(database_url) == audit_before
    blob_dir = settings.data.dir / "blobs"
    assert list((blob_dir / "tmp").iterdir()) == []  # the partial file is gone
    assert blob_files(settings.data.dir) == [small_disk]

    os.remove(small_disk)  # the operator frees space
    await uploaded_once(client, world, settings, database_url, sha256)
