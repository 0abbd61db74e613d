"""The fault scenarios, each checked whole: shared by tests/faults/ and `bench.faults`.

Each one: the request meets the fault and gets 503 `unavailable` with Retry-After; the database
holds nothing half-written; the same request sent again is stored exactly once.
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient
from sqlalchemy.engine import make_url

from tests.factories import Member
from tests.faults.disk import FILLER
from tests.faults.helpers import (
    assert_unavailable,
    audit_count,
    messages_with_cid,
    scalar,
    send_post,
    signed_post,
)
from tests.web.attachment_helpers import blob_files, upload


async def post_fails_then_is_stored_once(
    client: TestClient[Any, Any],
    member: Member,
    group: dict[str, Any],
    database_url: str,
    label: str,
) -> None:
    """A post meets the armed fault: 503, nothing stored; the same JWS again: stored once."""
    cid, jws = signed_post(member, group, label)
    audit_before = await audit_count(database_url)
    await assert_unavailable(await send_post(client, member, group, jws))
    assert await messages_with_cid(database_url, cid) == 0
    assert await audit_count(database_url) == audit_before  # no entry without its write

    retried = await send_post(client, member, group, jws)
    assert retried.status == 201, await retried.text()
    assert await messages_with_cid(database_url, cid) == 1
    assert await audit_count(database_url) == audit_before + 1
    again = await send_post(client, member, group, jws)
    assert again.status == 200, await again.text()  # the repeat returns the stored post
    assert await messages_with_cid(database_url, cid) == 1


def _asyncpg_dsn(database_url: str) -> str:
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextlib.asynccontextmanager
async def lock_held(database_url: str, group_id: str) -> AsyncIterator[None]:
    """Another connection holds what a post needs: SQLite's write lock on the file, or the
    group's row on PostgreSQL."""
    if database_url.startswith("postgresql"):
        holder = await asyncpg.connect(_asyncpg_dsn(database_url))
        try:
            async with holder.transaction():
                await holder.execute("SELECT 1 FROM op_group WHERE id = $1 FOR UPDATE", group_id)
                yield
        finally:
            await holder.close()
        return
    path = make_url(database_url).database
    assert path is not None
    lock = sqlite3.connect(path, isolation_level=None)
    try:
        lock.execute("BEGIN IMMEDIATE")
        yield
        lock.execute("ROLLBACK")
    finally:
        lock.close()


async def post_meets_a_held_lock(
    client: TestClient[Any, Any], member: Member, group: dict[str, Any], database_url: str
) -> None:
    """The wait ends at the lock timeout with a 503; once the lock is let go, the retry goes."""
    cid, jws = signed_post(member, group, "locked out")
    async with lock_held(database_url, group["id"]):
        await assert_unavailable(await send_post(client, member, group, jws))
    assert await messages_with_cid(database_url, cid) == 0
    retried = await send_post(client, member, group, jws)
    assert retried.status == 201, await retried.text()
    assert await messages_with_cid(database_url, cid) == 1


async def rows_for(database_url: str, sha256: str) -> tuple[int, int]:
    blobs = await scalar(database_url, "SELECT count(*) FROM blob WHERE sha256 = :s", s=sha256)
    attachments = await scalar(
        database_url, "SELECT count(*) FROM attachment WHERE sha256 = :s", s=sha256
    )
    return int(blobs), int(attachments)


def stored_blobs(data_dir: Path) -> list[Path]:
    """Blob files, without the small disk's filler."""
    return [path for path in blob_files(data_dir) if path.name != FILLER]


async def upload_fails_then_is_stored_once(
    client: TestClient[Any, Any],
    member: Member,
    group_id: str,
    data: bytes,
    data_dir: Path,
    database_url: str,
    before_retry: Callable[[], None] = lambda: None,
) -> str:
    """An upload meets the fault: 503, no row, no blob, no partial file; after `before_retry`
    (the operator frees space) the same upload is stored once and reads back. Its sha256."""
    sha256 = hashlib.sha256(data).hexdigest()
    audit_before = await audit_count(database_url)
    blobs_before = stored_blobs(data_dir)
    failed = await upload(client, member, group_id, data, "text/csv", "seized.csv")
    await assert_unavailable(failed)
    assert await rows_for(database_url, sha256) == (0, 0)
    assert await audit_count(database_url) == audit_before
    assert stored_blobs(data_dir) == blobs_before  # no blob without its row
    assert list((data_dir / "blobs" / "tmp").glob("*")) == []  # no partial file

    before_retry()
    retried = await upload(client, member, group_id, data, "text/csv", "seized.csv")
    assert retried.status == 201, await retried.text()
    assert (await retried.json())["sha256"] == sha256
    assert await rows_for(database_url, sha256) == (1, 1)
    assert len(stored_blobs(data_dir)) == len(blobs_before) + 1
    download = await client.get(
        f"/api/v1/groups/{group_id}/attachments/{sha256}", headers=member.auth
    )
    assert download.status == 200
    assert hashlib.sha256(await download.read()).hexdigest() == sha256
    return sha256
