"""The orphan-blob sweep: a blob file no row names, and a leftover temporary file, are removed
once older than the grace; files rows name and young files stay; each removal is audited."""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from cencomm.appkeys import SERVICES
from cencomm.settings import Settings
from tests.web.attachment_helpers import REQUEST_TIMEOUT, blob_files, group_world, upload

HOUR = 3600.0


def _aged(path: Path, seconds: float) -> Path:
    """`path`, its modification time put `seconds` in the past."""
    then = time.time() - seconds
    os.utime(path, (then, then))
    return path


def _orphan(blobs: Path, age: float) -> Path:
    """A file laid out like a blob file (a crash between install and commit), `age` old."""
    name = secrets.token_hex(32)
    folder = blobs / name[:2]
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(secrets.token_bytes(100))
    return _aged(path, age)


async def test_the_sweep_removes_old_orphans_and_keeps_stored_and_young_files(
    client: TestClient[Any, Any], app: web.Application, settings: Settings
) -> None:
    world = await group_world(client)
    data = b"%PDF-1.4\n" + secrets.token_bytes(2000) + b"\n%%EOF\n"
    resp = await upload(client, world.officer, world.gid, data, "application/pdf", "a.pdf")
    assert resp.status == 201, await resp.text()
    blobs = settings.data.dir / "blobs"
    [stored] = blob_files(settings.data.dir)
    _aged(stored, 2 * HOUR)  # old, but its row names it
    old_orphan = _orphan(blobs, 2 * HOUR)
    young_orphan = _orphan(blobs, 60)  # maybe an upload still committing: spared
    old_temp = blobs / "tmp" / f"{secrets.token_hex(16)}.part"  # an upload killed mid-way
    old_temp.write_bytes(b"x")
    _aged(old_temp, 2 * HOUR)

    report = await app[SERVICES].attachments.sweep_orphans(HOUR)

    assert (report.blobs_removed, report.temp_removed, report.kept) == (1, 1, 1)
    assert not old_orphan.exists() and not old_temp.exists()
    assert stored.exists() and young_orphan.exists()
    got = await client.get(
        f"/api/v1/groups/{world.gid}/attachments/{hashlib.sha256(data).hexdigest()}",
        headers=world.officer.auth,
        timeout=REQUEST_TIMEOUT,
    )
    assert got.status == 200 and await got.read() == data
    audit = await client.get(
        "/api/v1/audit", params={"action": "attachment.orphans_removed"}, headers=world.admin.auth
    )
    [entry] = (await audit.json())["entries"]
    assert entry["details"]["blob_files"] == 1 and entry["details"]["temp_files"] == 1
    assert entry["details"]["storage_names"] == [old_orphan.name]


async def test_a_sweep_with_nothing_to_remove_writes_no_audit_entry(
    client: TestClient[Any, Any], app: web.Application, settings: Settings
) -> None:
    world = await group_world(client)
    _orphan(settings.data.dir / "blobs", 60)

    report = await app[SERVICES].attachments.sweep_orphans(HOUR)

    assert (report.blobs_removed, report.temp_removed) == (0, 0)
    audit = await client.get(
        "/api/v1/audit", params={"action": "attachment.orphans_removed"}, headers=world.admin.auth
    )
    assert (await audit.json())["entries"] == []
