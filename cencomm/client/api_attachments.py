"""Attachments (API.md "Attachments"): upload, list, show, download, for `CencommClient`."""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from cencomm.client.errors import ClientError
from cencomm.client.paging import pages, segment
from cencomm.client.session import BaseClient, Content
from cencomm.client.transfer import ProgressHook
from cencomm.domain.attachments import ALLOWED

SHA256 = re.compile(r"^[0-9a-f]{64}$")
# The file name extensions of the server's allow-list, each with its media type.
MEDIA_TYPES: dict[str, str] = {
    extension: file_type.media_type
    for file_type in ALLOWED.values()
    for extension in file_type.extensions
}


def media_type_for(path: Path) -> str:
    """The media type the server expects for a file named `path` (by its extension).

    Raises:
        ClientError: the extension is not one the server accepts.
    """
    media = MEDIA_TYPES.get(path.suffix.lower())
    if media is None:
        allowed = ", ".join(sorted(MEDIA_TYPES))
        raise ClientError(f"{path.name}: files of this type are not accepted (allowed: {allowed})")
    return media


def check_sha256(value: str) -> str:
    """`value` as a lowercase SHA-256 hex digest.

    Raises:
        ClientError: it is not 64 hex digits.
    """
    text = value.strip().lower()
    if not SHA256.match(text):
        raise ClientError(f"{value!r} is not a SHA-256 hash (64 hex digits)")
    return text


def _load(path: Path, max_bytes: int | None) -> bytes:
    try:
        size = path.stat().st_size
        if max_bytes is not None and size > max_bytes:
            raise ClientError(f"{path.name} is {size} bytes, over the maximum of {max_bytes} bytes")
        return path.read_bytes()
    except OSError as exc:
        raise ClientError(f"cannot read {path}: {exc.strerror}") from None


class AttachmentsApi(BaseClient):
    """Files shared in a group: a message's `att` entries name them by hash and size."""

    async def upload_attachment(
        self,
        group_id: str,
        data: bytes,
        name: str,
        media_type: str,
        *,
        progress: ProgressHook | None = None,
    ) -> dict[str, Any]:
        """`POST /groups/{id}/attachments?name=NAME` with the raw bytes as the body
        (`progress(bytes sent, total)` as they are written to the connection).

        Safe to retry: the same content in the same group answers 200 with the stored one.

        Returns:
            `{sha256, size, type, name, status, uploader_id, created_at}`; `{sha256, size,
            name, type}` of it is what a message's `att` entry carries (see `att_entry`).

        Raises:
            ProblemError: 413 (over the server's maximum), 415 (type not allowed, or content
                not of the declared type), 422 (unsafe content), 403 (observer), 404, 409.
        """
        reply = await self.request_bytes(
            "POST",
            f"/groups/{segment(group_id)}/attachments",
            content=Content(data, media_type),
            params={"name": name},
            accept="application/json",
            retry=self.retry,
            progress=progress,
        )
        result: dict[str, Any] = reply.body
        return result

    async def upload_file(
        self,
        group_id: str,
        path: Path,
        *,
        max_bytes: int | None = None,
        progress: ProgressHook | None = None,
    ) -> dict[str, Any]:
        """Upload the file at `path` (its media type from its extension; see
        `upload_attachment`).

        Args:
            max_bytes: the server's maximum when known: a larger file fails before sending.
            progress: `progress(bytes sent, total)` as the file is sent.

        Raises:
            ClientError: the file is missing or unreadable, of a type the server refuses, or
                over `max_bytes`.
            ProblemError: the server refused it.
        """
        media_type = media_type_for(path)
        data = await asyncio.to_thread(_load, path, max_bytes)
        return await self.upload_attachment(
            group_id, data, path.name, media_type, progress=progress
        )

    def attachments(self, group_id: str) -> AsyncIterator[dict[str, Any]]:
        """`GET /groups/{id}/attachments`: the group's attachments, newest first, every page."""
        return pages(self, f"/groups/{segment(group_id)}/attachments", "attachments")

    async def attachment_info(self, group_id: str, sha256: str) -> dict[str, Any]:
        """The attachment of the group with this hash: `{sha256, size, type, name, status,
        uploader_id, created_at}`; `status` is its scan state (`pending`: not scanned yet,
        never served; `clean`; `infected`: quarantined).

        Raises:
            ClientError: a malformed hash, or no such attachment in the group.
        """
        wanted = check_sha256(sha256)
        async for attachment in self.attachments(group_id):
            if attachment.get("sha256") == wanted:
                return attachment
        raise ClientError(f"no attachment {wanted} in this group")

    async def download_attachment(
        self, group_id: str, sha256: str, *, progress: ProgressHook | None = None
    ) -> tuple[bytes, str]:
        """`GET /groups/{id}/attachments/{sha256}`: the bytes and their (sniffed) media type,
        checked against the hash asked for (`progress(bytes received, total)` as they come).

        Raises:
            ClientError: a malformed hash, or bytes that do not hash to it.
            ProblemError: 404 (no such attachment, or the group is not visible), 409 (not
                scanned yet or quarantined).
        """
        wanted = check_sha256(sha256)
        reply = await self.request_bytes(
            "GET", f"/groups/{segment(group_id)}/attachments/{wanted}", progress=progress
        )
        if hashlib.sha256(reply.raw).hexdigest() != wanted:
            raise ClientError(f"the server sent bytes that do not hash to {wanted}")
        media = (reply.headers or {}).get("content-type", "application/octet-stream")
        return reply.raw, media.split(";", 1)[0].strip()


def att_entry(attachment: dict[str, Any]) -> dict[str, Any]:
    """The `att` entry of a message naming an uploaded attachment: `{sha256, size, name,
    type}` exactly as the server answered the upload."""
    return {name: attachment[name] for name in ("sha256", "size", "name", "type")}
