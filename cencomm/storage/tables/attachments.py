"""Encrypted blobs, per-group attachments and the messages that name them."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from cencomm.storage.tables.base import Base, UtcDateTime


class BlobRow(Base):
    """Encrypted content stored once, whichever groups it was uploaded to; the file on disk is
    named by a keyed hash of `sha256` (storage.blobs), never by anything a user chose."""

    __tablename__ = "blob"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # The blob's own key, wrapped by the master key `master_kid` (crypto.blobcrypt.wrap_key).
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary(128), nullable=False)
    master_kid: Mapped[str] = mapped_column(String(64), nullable=False)
    # pending (not scanned yet) | clean | infected
    status: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    scan_detail: Mapped[str | None] = mapped_column(String(200))
    scan_attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    scanned_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)


class AttachmentRow(Base):
    """An upload as one group sees it: its own name, type and uploader; no handling code."""

    __tablename__ = "attachment"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    group_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("op_group.id"), nullable=False)
    sha256: Mapped[str] = mapped_column(
        String(64), ForeignKey("blob.sha256"), nullable=False, index=True
    )
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    content_type: Mapped[str] = mapped_column(String(100), nullable=False)
    uploader_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("user_account.id"), nullable=False
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)

    __table_args__ = (UniqueConstraint("group_id", "sha256", name="uq_attachment_group_sha256"),)


class MessageAttachmentRow(Base):
    """Which messages name which attachments: their handling codes decide who may download."""

    __tablename__ = "message_attachment"

    message_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("message.id"), primary_key=True)
    attachment_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("attachment.id"), primary_key=True, index=True
    )
