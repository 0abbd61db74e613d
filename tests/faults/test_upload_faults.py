"""Uploads that meet a failing disk or database: 503 `unavailable` with Retry-After, no
partial file, no row without its blob nor blob without its row; the same upload again works.

The full disk is a real one: a small tmpfs mounted over the blob directory (the tests run as
root in CI); where mounting is not allowed, the blob writer's file fails with ENOSPC instead
(tests/faults/disk.py).
"""

from __future__ import annotations

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
from tests.faults.scenarios import upload_fails_then_is_stored_once
from tests.faults.seam import DROPPED, IO_ERROR, FaultPlan
from tests.web.attachment_helpers import group_world, unexpected_files

CSV = b"date,country,item,quantity\n" + b"2020-05-20,FR,masks,12000\n" * 40_000  # ~1 MiB


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
    try:
        await upload_fails_then_is_stored_once(
            client, world.officer, world.gid, CSV, settings.data.dir, database_url
        )
    finally:
        faults.close()
    assert faults.injected[kind] == 1
    assert unexpected_files(settings.data.dir) == []


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
    await upload_fails_then_is_stored_once(
        client,
        world.officer,
        world.gid,
        CSV,
        settings.data.dir,
        database_url,
        before_retry=small_disk.free,  # the operator frees space
    )
