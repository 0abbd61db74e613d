"""Watch lists: users' selectors, and the reports that matched them."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from cencomm.storage.tables.base import Base, UtcDateTime


class WatchRow(Base):
    """One selector of one user (`domain/watch_lists.py`): `value` in normal form, `label` as
    written. Deleting sets `deleted_at` (its matches stay, for the record)."""

    __tablename__ = "watch"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("user_account.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    match: Mapped[str] = mapped_column(String(8), nullable=False)
    value: Mapped[str] = mapped_column(String(200), nullable=False)
    label: Mapped[str] = mapped_column(String(200), nullable=False)
    reason: Mapped[str] = mapped_column(String(500), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    __table_args__ = (
        # Matching looks a new report's identifiers (and their prefixes) up here.
        Index("ix_watch_kind_value", "kind", "value"),
        Index("ix_watch_user_created", "user_id", "created_at"),
    )


class WatchMatchRow(Base):
    """A report that matched a watch, once: `kind`, `value` and `label` are the report's
    identifier that matched (shown only to a watcher who may read the report)."""

    __tablename__ = "watch_match"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    watch_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("watch.id"), nullable=False)
    message_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("seizure_report.message_id"), nullable=False
    )
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    value: Mapped[str] = mapped_column(String(200), nullable=False)
    label: Mapped[str] = mapped_column(String(200), nullable=False)
    matched_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)

    __table_args__ = (
        UniqueConstraint("watch_id", "message_id"),
        Index("ix_watch_match_watch_matched", "watch_id", "matched_at"),
    )
