"""Scanning with a real clamd: infected uploads are quarantined and reported, clean ones served,
and a scanner that is down leaves new blobs pending (never served) until a later pass."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from cencomm.app import create_app
from cencomm.appkeys import SERVICES
from cencomm.services.scanner import ClamdScanner
from cencomm.settings import Settings
from tests.clamd import SYNTHETIC_MARKER, clamd_socket  # noqa: F401 - the fixture
from tests.data.attachments import build
from tests.factories import envelope, sign
from tests.problems import assert_problem
from tests.web.attachment_helpers import (
    GroupWorld,
    attachment_settings,
    group_world,
    unexpected_files,
    upload,
)


@pytest.fixture
async def scanning(
    aiohttp_client: AiohttpClient, settings: Settings, clamd: Path
) -> AsyncIterator[TestClient[Any, Any]]:
    app = create_app(attachment_settings(settings, scanner="clamd", clamd_address=str(clamd)))
    yield await aiohttp_client(app)


@pytest.fixture
def clamd(request: pytest.FixtureRequest) -> Path:
    """The session's clamd socket (started once by tests.clamd)."""
    socket: Path = request.getfixturevalue("clamd_socket")
    return socket


@pytest.fixture
async def world(scanning: TestClient[Any, Any]) -> GroupWorld:
    return await group_world(scanning)


async def test_a_clean_upload_is_scanned_and_served(
    scanning: TestClient[Any, Any], world: GroupWorld
) -> None:
    resp = await upload(scanning, world.officer, world.gid, build.CSV, "text/csv", "a.csv")
    assert resp.status == 201, await resp.text()
    assert (await resp.json())["status"] == "clean"
    sha = hashlib.sha256(build.CSV).hexdigest()
    resp = await scanning.get(
        f"/api/v1/groups/{world.gid}/attachments/{sha}", headers=world.officer.auth
    )
    assert resp.status == 200 and await resp.read() == build.CSV


@pytest.mark.parametrize(
    ("data", "name", "signature"),
    [
        (build.EICAR, "eicar.txt", "Cencomm.Test.EICAR"),
        (build.SYNTHETIC_MALWARE, "sample.txt", "Cencomm.Test.Synthetic"),
    ],
)
async def test_infected_uploads_are_quarantined_and_reported_to_moderators(
    scanning: TestClient[Any, Any],
    world: GroupWorld,
    settings: Settings,
    data: bytes,
    name: str,
    signature: str,
) -> None:
    assert SYNTHETIC_MARKER in build.SYNTHETIC_MALWARE
    resp = await upload(scanning, world.officer, world.gid, data, "text/plain", name)
    await assert_problem(resp, 422, "attachment-infected")
    sha = hashlib.sha256(data).hexdigest()
    base = f"/api/v1/groups/{world.gid}/attachments"
    # Members never see it; moderators see it with its status.
    members = await (await scanning.get(base, headers=world.officer.auth)).json()
    assert members["attachments"] == []
    await assert_problem(await scanning.get(f"{base}/{sha}", headers=world.officer.auth), 404)
    moderators = await (await scanning.get(base, headers=world.admin.auth)).json()
    assert [(a["sha256"], a["status"]) for a in moderators["attachments"]] == [(sha, "infected")]
    resp = await scanning.get(f"{base}/{sha}", headers=world.admin.auth)
    body = await assert_problem(resp, 409, "attachment-quarantined")
    assert signature in body["detail"]
    # Reported: an audit entry for the group, naming the signature.
    audit = await scanning.get(
        "/api/v1/audit", params={"action": "attachment.infected"}, headers=world.admin.auth
    )
    entries = (await audit.json())["entries"]
    assert [(e["group_id"], e["details"]["sha256"]) for e in entries] == [(world.gid, sha)]
    assert entries[0]["details"]["signature"].startswith(signature)
    # And it can never be attached to a message.
    ref = {"sha256": sha, "size": len(data), "name": name, "type": "text/plain"}
    resp = await scanning.post(
        f"/api/v1/groups/{world.gid}/messages",
        json={"jws": sign(world.officer, envelope(world.officer, world.gid, att=[ref]))},
        headers=world.officer.auth,
    )
    await assert_problem(resp, 422, "unknown-attachment")
    assert unexpected_files(settings.data.dir) == []


async def test_a_scanner_that_is_down_leaves_uploads_pending_until_a_later_pass(
    aiohttp_client: AiohttpClient,
    settings: Settings,
    clamd: Path,
    tmp_path: Path,
) -> None:
    down = attachment_settings(settings, scanner="clamd", clamd_address=str(tmp_path / "gone.sock"))
    client = await aiohttp_client(create_app(down))
    world = await group_world(client)
    resp = await upload(client, world.officer, world.gid, build.CSV, "text/csv", "a.csv")
    assert resp.status == 201, await resp.text()
    assert (await resp.json())["status"] == "pending"
    sha = hashlib.sha256(build.CSV).hexdigest()
    url = f"/api/v1/groups/{world.gid}/attachments/{sha}"
    await assert_problem(
        await client.get(url, headers=world.officer.auth), 409, "attachment-pending"
    )
    service = client.app[SERVICES].attachments
    assert await service.scan_pending() == 1  # still down: still pending (fail closed)
    await assert_problem(
        await client.get(url, headers=world.officer.auth), 409, "attachment-pending"
    )
    service.scanner = ClamdScanner(str(clamd), timeout=60.0)  # the scanner is back
    assert await service.scan_pending() == 0
    resp = await client.get(url, headers=world.officer.auth)
    assert resp.status == 200 and await resp.read() == build.CSV
