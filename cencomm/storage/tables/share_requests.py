"""Cross-group share requests: who asked about which identifier of which report, and each
target group's decision."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from cencomm.storage.tables.base import Base, UtcDateTime


class ShareRequestRow(Base):
    """A request, by the reader of a seizure report, to see the reports of other operations that
    share one of its identifiers. `status` is the overall answer (`domain.share_requests.
    overall_status` of the targets), kept here so the requester's list needs no join."""

    __tablename__ = "share_request"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    requester_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("user_account.id"), nullable=False
    )
    requester_organization_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    message_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("message.id"), nullable=False, index=True
    )
    # The requester's report's group (the origin operation).
    group_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    value: Mapped[str] = mapped_column(String(200), nullable=False)
    label: Mapped[str] = mapped_column(String(200), nullable=False)
    reason: Mapped[str] = mapped_column(String(1000), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    __table_args__ = (Index("ix_share_request_requester", "requester_id", "created_at"),)


class ShareTargetRow(Base):
    """One other group holding a matching report, and its moderators' decision. `message_ids`
    are that group's matching reports when the request was made: consent covers those."""

    __tablename__ = "share_target"

    request_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("share_request.id"), primary_key=True
    )
    group_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("op_group.id"), primary_key=True)
    message_ids: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    decided_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    note: Mapped[str | None] = mapped_column(String(1000))

    __table_args__ = (Index("ix_share_target_group", "group_id", "status"),)
