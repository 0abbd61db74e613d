"""Attachments: the API's attachment object and the evidence bundle's record."""

from __future__ import annotations

from typing import Any

from cencomm.domain.attachments import Attachment
from cencomm.domain.clock import rfc3339


def attachment_json(attachment: Attachment) -> dict[str, Any]:
    return {
        "sha256": attachment.sha256,
        "size": attachment.size,
        "type": attachment.content_type,
        "name": attachment.name,
        "status": attachment.status.value,
        "uploader_id": str(attachment.uploader_id),
        "created_at": rfc3339(attachment.created_at),
    }


def evidence_attachment_json(attachment: Attachment, blob: str | None) -> dict[str, Any]:
    """An entry of an evidence bundle's attachments.json: the attachment object and the path of
    its decrypted bytes in the bundle (None: exported without blobs)."""
    return {**attachment_json(attachment), "blob": blob}
