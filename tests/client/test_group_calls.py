"""The `CencommClient` calls behind `cencomm client groups|attachments|follow|search`: uploads
and downloads with progress, signed `att` entries, live messages resumed without a gap."""

from __future__ import annotations

import asyncio
from contextlib import aclosing
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from cencomm.client import ClientError, ProblemError
from cencomm.client.api_attachments import att_entry
from tests.client.helpers import logged_in, make_scene


async def test_upload_post_and_download_with_progress(
    client: TestClient[Any, Any], tmp_path: Path
) -> None:
    scene = await make_scene(client)
    api = await logged_in(client, scene.officer)
    try:
        path = tmp_path / "manifest.txt"
        path.write_bytes(b"MSCU1234567 masks 12000 units\n" * 20_000)  # 600 KB: several chunks
        sent: list[tuple[int, int | None]] = []
        uploaded = await api.upload_file(
            scene.group_id, path, progress=lambda done, total: sent.append((done, total))
        )
        size = path.stat().st_size
        assert (uploaded["size"], uploaded["name"], uploaded["type"]) == (
            size,
            "manifest.txt",
            "text/plain",
        )
        assert sent[0] == (0, size) and sent[-1] == (size, size) and len(sent) > 2
        assert [done for done, _ in sent] == sorted(done for done, _ in sent)

        posted = await api.post_text(scene.group_id, "See manifest", att=[att_entry(uploaded)])
        message = await api.get_message(posted.id)
        assert message["content"]["att"] == [att_entry(uploaded)]
        await api.verify_with_server(message)

        got: list[tuple[int, int | None]] = []
        data, media = await api.download_attachment(
            scene.group_id,
            uploaded["sha256"].upper(),
            progress=lambda done, total: got.append((done, total)),
        )
        assert data == path.read_bytes() and media == "text/plain"
        assert got[-1] == (size, size)
        info = await api.attachment_info(scene.group_id, uploaded["sha256"])
        assert info["status"] == "clean"

        with pytest.raises(ClientError, match="not a SHA-256"):
            await api.download_attachment(scene.group_id, "abc")
        with pytest.raises(ClientError, match="no attachment"):
            await api.attachment_info(scene.group_id, "0" * 64)
        with pytest.raises(ClientError, match="over the maximum of 10 bytes"):
            await api.upload_file(scene.group_id, path, max_bytes=10)
        with pytest.raises(ClientError, match="not accepted"):
            await api.upload_file(scene.group_id, tmp_path / "tool.exe")
        with pytest.raises(ProblemError) as refused:
            await api.upload_attachment(scene.group_id, b"plain words", "x.png", "image/png")
        assert refused.value.status == 415
    finally:
        await api.close()


async def test_live_messages_resume_then_follow(client: TestClient[Any, Any]) -> None:
    scene = await make_scene(client)
    api = await logged_in(client, scene.officer)
    try:
        for text in ("one", "two"):
            await api.post_text(scene.group_id, text)
        seen: list[tuple[int, str]] = []
        posting: asyncio.Future[Any] | None = None
        async with aclosing(api.live_messages({scene.group_id: 1})) as frames:
            async for frame in frames:
                seen.append((frame["seq"], frame["message"]["content"]["body"]["text"]))
                if frame["seq"] == 2:
                    # Posted while following: arrives after the resumed one, no gap.
                    posting = asyncio.ensure_future(api.post_text(scene.group_id, "three"))
                if frame["seq"] == 3:
                    break
        assert posting is not None
        await posting
        assert seen == [(2, "two"), (3, "three")]
        with pytest.raises(ValueError, match="unknown search filter"):
            api.search_messages("masks", filters={"colour": "red"})
        found = [m["seq"] async for m in api.search_messages("two", group_id=scene.group_id)]
        assert found == [2]
        group = await api.get_group(scene.group_id)
        assert group["last_seq"] == 3
    finally:
        await api.close()
