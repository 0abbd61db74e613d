"""Uploads that meet a failing disk or database: 503 `unavailable` with Retry-After, no
partial file, no row without its blob nor blob without its row; the same upload again works.

The full disk is a real one: a small tmpfs mounted over the blob directory (the tests run as
root in CI); where mounting is not allowed, the blob writer's file fails with ENOSPC instead.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from cencomm.app import create_app
from cencomm.appkeys import DATABASE
from cencomm.settings import Settings
from tests.conftest import PG_URL
from tests.faults.disk import SmallDisk
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
def small_disk(settings: Settings) -> Iterator[SmallDisk]:
    """The blob directory on a 2 MiB filesystem with all but 16 KiB of it taken."""
    disk = SmallDisk(settings.data.dir, 2 * 1024 * 1024)
    disk.fill()
    yield disk
    disk.close()


async def test_a_full_disk_while_uploading_is_a_503_and_leaves_no_partial_file(
    client: TestClient[Any, Any], settings: Settings, database_url: str, small_disk: SmallDisk
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
    assert blob_files(settings.data.dir) == [small_disk.filler]

    small_disk.free()  # the operator frees space
    await uploaded_once(client, world, settings, database_url, sha256)
