"""Attachments over HTTP: upload, list, download (headers, ranges, previews), posting, access."""

from __future__ import annotations

import hashlib
import io
from typing import Any

from aiohttp.test_utils import TestClient
from PIL import Image
from pytest_aiohttp import AiohttpClient

from cencomm.app import create_app
from cencomm.domain.users import Role
from cencomm.settings import Settings
from tests.data.attachments import build
from tests.factories import add_member, envelope, make_group, make_member, post_message, sign
from tests.problems import assert_problem
from tests.web.attachment_helpers import (
    REQUEST_TIMEOUT,
    attachment_settings,
    group_world,
    unexpected_files,
    upload,
    upload_multipart,
)


def _att(data: bytes, name: str, media: str) -> dict[str, object]:
    return {
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "name": name,
        "type": media,
    }


async def test_raw_upload_answers_hash_size_type_and_name(client: TestClient[Any, Any]) -> None:
    world = await group_world(client)
    data = build.png()
    resp = await upload(client, world.officer, world.gid, data, "image/png", "seizure.png")
    assert resp.status == 201, await resp.text()
    body = await resp.json()
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert (body["size"], body["type"], body["name"], body["status"]) == (
        len(data),
        "image/png",
        "seizure.png",
        "clean",
    )


async def test_multipart_upload_of_each_allowed_type(client: TestClient[Any, Any]) -> None:
    world = await group_world(client)
    samples = [
        (build.jpeg(), "image/jpeg", "photo.JPG"),
        (build.webp(), "image/webp", "photo.webp"),
        (build.pdf(), "application/pdf", "awb.pdf"),
        (build.TEXT, "text/plain; charset=utf-8", "note.txt"),
        (build.CSV, "text/csv", "seizures.csv"),
        (build.docx(), build.DOCX, "report.docx"),
        (build.xlsx(), build.XLSX, "figures.xlsx"),
    ]
    for data, media, name in samples:
        resp = await upload_multipart(client, world.officer, world.gid, data, media, name)
        assert resp.status == 201, (name, await resp.text())
        assert (await resp.json())["type"] == media.split(";")[0]


async def test_download_returns_the_bytes_with_safe_headers(client: TestClient[Any, Any]) -> None:
    world = await group_world(client)
    data = build.pdf()
    name = "Lettre de voiture été.pdf"
    resp = await upload(client, world.officer, world.gid, data, "application/pdf", name)
    sha = (await resp.json())["sha256"]
    resp = await client.get(
        f"/api/v1/groups/{world.gid}/attachments/{sha}",
        headers=world.officer.auth,
        timeout=REQUEST_TIMEOUT,
    )
    assert resp.status == 200
    assert await resp.read() == data
    assert resp.headers["Content-Type"] == "application/pdf"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    disposition = resp.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="Lettre de voiture ete.pdf"')
    assert "filename*=UTF-8''Lettre%20de%20voiture%20%C3%A9t%C3%A9.pdf" in disposition


async def test_each_download_is_audited(client: TestClient[Any, Any]) -> None:
    world = await group_world(client)
    resp = await upload(client, world.officer, world.gid, build.CSV, "text/csv", "a.csv")
    sha = (await resp.json())["sha256"]
    for _ in range(2):
        resp = await client.get(
            f"/api/v1/groups/{world.gid}/attachments/{sha}", headers=world.officer.auth
        )
        assert resp.status == 200
    resp = await client.get(
        "/api/v1/audit", params={"group_id": world.gid}, headers=world.admin.auth
    )
    actions = [e["action"] for e in (await resp.json())["entries"]]
    assert actions.count("attachment.upload") == 1
    assert actions.count("attachment.download") == 2


async def test_single_range_gives_206_and_content_range(client: TestClient[Any, Any]) -> None:
    world = await group_world(client)
    data = build.CSV + b"x" * 256_000  # several 64 KiB chunks
    resp = await upload(client, world.officer, world.gid, data, "text/csv", "big.csv")
    assert resp.status == 201, await resp.text()
    sha = (await resp.json())["sha256"]
    url = f"/api/v1/groups/{world.gid}/attachments/{sha}"
    for header, first, last in [
        ("bytes=0-9", 0, 9),
        ("bytes=65530-131080", 65530, 131080),
        (f"bytes={len(data) - 5}-", len(data) - 5, len(data) - 1),
        ("bytes=-7", len(data) - 7, len(data) - 1),
        ("bytes=100-99999999", 100, len(data) - 1),
    ]:
        resp = await client.get(url, headers={**world.officer.auth, "Range": header})
        assert resp.status == 206, header
        assert resp.headers["Content-Range"] == f"bytes {first}-{last}/{len(data)}"
        assert await resp.read() == data[first : last + 1]
    resp = await client.get(url, headers={**world.officer.auth, "Range": "bytes=0-1,5-6"})
    assert resp.status == 200 and await resp.read() == data  # several ranges: the whole file


async def test_unsatisfiable_range_is_a_416_problem(client: TestClient[Any, Any]) -> None:
    world = await group_world(client)
    resp = await upload(client, world.officer, world.gid, build.CSV, "text/csv", "a.csv")
    sha = (await resp.json())["sha256"]
    resp = await client.get(
        f"/api/v1/groups/{world.gid}/attachments/{sha}",
        headers={**world.officer.auth, "Range": f"bytes={len(build.CSV)}-"},
    )
    await assert_problem(resp, 416, "range-not-satisfiable")
    assert resp.headers["Content-Range"] == f"bytes */{len(build.CSV)}"


async def test_large_download_streams_intact(client: TestClient[Any, Any]) -> None:
    world = await group_world(client)
    data = b"".join(b"line %08d of a long csv export\n" % n for n in range(200_000))
    resp = await upload(client, world.officer, world.gid, data, "text/csv", "long.csv")
    assert resp.status == 201, await resp.text()
    sha = (await resp.json())["sha256"]
    resp = await client.get(
        f"/api/v1/groups/{world.gid}/attachments/{sha}",
        headers=world.officer.auth,
        timeout=REQUEST_TIMEOUT,
    )
    assert resp.status == 200
    assert resp.headers["Content-Length"] == str(len(data))
    assert hashlib.sha256(await resp.read()).hexdigest() == sha


async def test_preview_is_reencoded_without_metadata(client: TestClient[Any, Any]) -> None:
    world = await group_world(client)
    for data, media, name in [
        (build.png(2000, 50), "image/png", "wide.png"),
        (build.jpeg(), "image/jpeg", "photo.jpg"),
    ]:
        resp = await upload(client, world.officer, world.gid, data, media, name)
        sha = (await resp.json())["sha256"]
        url = f"/api/v1/groups/{world.gid}/attachments/{sha}"
        resp = await client.get(url, params={"preview": "true"}, headers=world.officer.auth)
        assert resp.status == 200, await resp.text()
        preview = await resp.read()
        assert b"SECRET" not in preview
        image = Image.open(io.BytesIO(preview))
        assert max(image.size) <= 1024
        assert not set(image.info) - {"dpi", "jfif", "jfif_version", "jfif_unit", "jfif_density"}
        assert resp.headers["Content-Type"] == media
        original = await client.get(url, headers=world.officer.auth)
        assert await original.read() == data  # the original is never altered
    resp = await upload(client, world.officer, world.gid, build.pdf(), "application/pdf", "a.pdf")
    sha = (await resp.json())["sha256"]
    resp = await client.get(
        f"/api/v1/groups/{world.gid}/attachments/{sha}",
        params={"preview": "true"},
        headers=world.officer.auth,
    )
    await assert_problem(resp, 422, "preview-unavailable")


async def test_non_members_get_404_for_everything(client: TestClient[Any, Any]) -> None:
    world = await group_world(client)
    resp = await upload(client, world.officer, world.gid, build.CSV, "text/csv", "a.csv")
    sha = (await resp.json())["sha256"]
    stranger = await make_member(client, Role.OFFICER)
    base = f"/api/v1/groups/{world.gid}/attachments"
    await assert_problem(await client.get(f"{base}/{sha}", headers=stranger.auth), 404)
    await assert_problem(await client.get(base, headers=stranger.auth), 404)
    resp = await upload(client, stranger, world.gid, build.CSV, "text/csv", "a.csv")
    await assert_problem(resp, 404)
    await assert_problem(await client.get(f"{base}/{'0' * 64}", headers=world.officer.auth), 404)
    await assert_problem(await client.get(f"{base}/not-a-hash", headers=world.officer.auth), 404)


async def test_observers_cannot_upload(client: TestClient[Any, Any]) -> None:
    world = await group_world(client)
    observer = await make_member(client, Role.OBSERVER)
    await add_member(client, world.admin, world.group, observer, role="observer")
    resp = await upload(client, observer, world.gid, build.CSV, "text/csv", "a.csv")
    await assert_problem(resp, 403, "read-only")


async def test_observers_see_attachments_only_through_messages_they_may_read(
    client: TestClient[Any, Any],
) -> None:
    world = await group_world(client)
    observer = await make_member(client, Role.OBSERVER)
    await add_member(client, world.admin, world.group, observer, role="observer")
    shared, secret, loose = build.CSV, build.TEXT, build.pdf()
    for data, media, name in [
        (shared, "text/csv", "shared.csv"),
        (secret, "text/plain", "secret.txt"),
        (loose, "application/pdf", "loose.pdf"),
    ]:
        resp = await upload(client, world.officer, world.gid, data, media, name)
        assert resp.status == 201
    await post_message(
        client,
        world.officer,
        world.group,
        hc="TLP:GREEN",
        att=[_att(shared, "shared.csv", "text/csv")],
    )
    await post_message(
        client,
        world.officer,
        world.group,
        hc="TLP:RED",
        att=[_att(secret, "secret.txt", "text/plain")],
    )
    base = f"/api/v1/groups/{world.gid}/attachments"
    seen = await (await client.get(base, headers=observer.auth)).json()
    assert [a["name"] for a in seen["attachments"]] == ["shared.csv"]
    member_view = await (await client.get(base, headers=world.officer.auth)).json()
    assert len(member_view["attachments"]) == 3
    for data, status in [(shared, 200), (secret, 404), (loose, 404)]:
        sha = hashlib.sha256(data).hexdigest()
        resp = await client.get(f"{base}/{sha}", headers=observer.auth)
        assert resp.status == status
        resp = await client.get(f"{base}/{sha}", headers=world.officer.auth)
        assert resp.status == 200


async def test_posting_names_attachments_of_the_group_only(client: TestClient[Any, Any]) -> None:
    world = await group_world(client)
    other = await make_group(client, world.admin)
    await add_member(client, world.admin, other, world.officer)
    data = build.png()
    resp = await upload(client, world.officer, str(other["id"]), data, "image/png", "x.png")
    assert resp.status == 201
    ref = _att(data, "x.png", "image/png")
    resp = await client.post(
        f"/api/v1/groups/{world.gid}/messages",
        json={"jws": sign(world.officer, envelope(world.officer, world.gid, att=[ref]))},
        headers=world.officer.auth,
    )
    await assert_problem(resp, 422, "unknown-attachment")
    resp = await upload(client, world.officer, world.gid, data, "image/png", "x.png")
    assert resp.status == 201
    wrong_size = {**ref, "size": len(data) + 1}
    resp = await client.post(
        f"/api/v1/groups/{world.gid}/messages",
        json={"jws": sign(world.officer, envelope(world.officer, world.gid, att=[wrong_size]))},
        headers=world.officer.auth,
    )
    await assert_problem(resp, 422, "unknown-attachment")
    posted = await post_message(client, world.officer, world.group, att=[ref])
    assert posted["seq"] >= 1


async def test_identical_content_is_stored_once_but_seen_per_group(
    client: TestClient[Any, Any], settings: Settings
) -> None:
    world = await group_world(client)
    other = await make_group(client, world.admin)
    await add_member(client, world.admin, other, world.officer)
    data = build.png()
    first = await upload(client, world.officer, world.gid, data, "image/png", "a.png")
    second = await upload(client, world.officer, str(other["id"]), data, "image/png", "b.png")
    again = await upload(client, world.officer, world.gid, data, "image/png", "c.png")
    assert (first.status, second.status, again.status) == (201, 201, 200)
    assert (await again.json())["name"] == "a.png"  # the group's first upload stands
    files = [p for p in (settings.data.dir / "blobs").rglob("*") if p.is_file()]
    assert len(files) == 1
    lone = await make_group(client, world.admin)
    await add_member(client, world.admin, lone, world.officer)
    sha = hashlib.sha256(data).hexdigest()
    resp = await client.get(
        f"/api/v1/groups/{lone['id']}/attachments/{sha}", headers=world.officer.auth
    )
    await assert_problem(resp, 404)
    assert unexpected_files(settings.data.dir) == []


async def test_group_quota_is_a_clear_413(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    quota = len(build.CSV) + len(build.TEXT) - 1
    client = await aiohttp_client(
        create_app(attachment_settings(settings, group_quota_bytes=quota))
    )
    world = await group_world(client)
    resp = await upload(client, world.officer, world.gid, build.CSV, "text/csv", "a.csv")
    assert resp.status == 201
    resp = await upload(client, world.officer, world.gid, build.TEXT, "text/plain", "b.txt")
    body = await assert_problem(resp, 413, "group-quota-exceeded")
    assert f"at most {quota} bytes" in body["detail"]
    assert unexpected_files(settings.data.dir) == []
