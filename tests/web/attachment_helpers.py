"""Helpers for the attachment tests: a group with members, uploads, and disk inspections."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from aiohttp import ClientResponse, ClientTimeout, FormData
from aiohttp.test_utils import TestClient

from cencomm.domain.users import Role
from cencomm.settings import Settings
from cencomm.storage.checkpoints import CHECKPOINT_FILE
from tests.factories import Member, add_member, make_group, make_member

TIMEOUT = 30.0
REQUEST_TIMEOUT = ClientTimeout(total=TIMEOUT)
_BLOB_FILE = re.compile(r"^blobs/[0-9a-f]{2}/[0-9a-f]{64}$")
_KEY_FILE = re.compile(r"^keys/(token|audit|master|blobname)/[^/]+$")


@dataclass
class GroupWorld:
    admin: Member
    officer: Member
    group: dict[str, Any]

    @property
    def gid(self) -> str:
        return str(self.group["id"])


async def group_world(client: TestClient[Any, Any]) -> GroupWorld:
    admin = await make_member(client, Role.ADMIN)
    officer = await make_member(client, Role.OFFICER, with_key=True)
    group = await make_group(client, admin)
    await add_member(client, admin, group, officer)
    return GroupWorld(admin, officer, group)


async def upload(
    client: TestClient[Any, Any],
    member: Member,
    group_id: str,
    data: bytes,
    content_type: str,
    name: str | None,
    *,
    headers: dict[str, str] | None = None,
) -> ClientResponse:
    params = {"name": name} if name is not None else {}
    return await client.post(
        f"/api/v1/groups/{group_id}/attachments",
        data=io.BytesIO(data),
        params=params,
        headers={**member.auth, "Content-Type": content_type, **(headers or {})},
        timeout=REQUEST_TIMEOUT,
    )


async def upload_multipart(
    client: TestClient[Any, Any],
    member: Member,
    group_id: str,
    data: bytes,
    content_type: str,
    name: str,
) -> ClientResponse:
    form = FormData()
    form.add_field("file", io.BytesIO(data), content_type=content_type, filename=name)
    return await client.post(
        f"/api/v1/groups/{group_id}/attachments",
        data=form,
        headers=member.auth,
        timeout=REQUEST_TIMEOUT,
    )


def attachment_settings(settings: Settings, **changes: Any) -> Settings:
    return replace(settings, attachments=replace(settings.attachments, **changes))


def unexpected_files(data_dir: Path) -> list[str]:
    """Files in the data directory other than keys, final blobs and the audit checkpoint file:
    temporary leftovers or anything named from user input."""
    found = []
    for path in data_dir.rglob("*"):
        if path.is_file():
            rel = path.relative_to(data_dir).as_posix()
            if not (_BLOB_FILE.match(rel) or _KEY_FILE.match(rel) or rel == CHECKPOINT_FILE):
                found.append(rel)
    return found


def blob_files(data_dir: Path) -> list[Path]:
    root = data_dir / "blobs"
    return sorted(
        p for p in root.rglob("*") if p.is_file() and p.relative_to(root).parts[0] != "tmp"
    )
