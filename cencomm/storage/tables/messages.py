"""Signed messages and the structured seizure rows kept for analytics."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from cencomm.storage.tables.base import Base, UtcDateTime


class MessageRow(Base):
    """A signed message, its JWS stored verbatim; `seq` numbers the group's timeline."""

    __tablename__ = "message"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    group_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("op_group.id"), nullable=False)
    seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    sender_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("user_account.id"), nullable=False
    )
    sender_organization_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    kid: Mapped[str] = mapped_column(String(64), nullable=False)
    cid: Mapped[str] = mapped_column(String(36), nullable=False)
    typ: Mapped[str] = mapped_column(String(16), nullable=False)
    hc: Mapped[str] = mapped_column(String(20), nullable=False)
    jws: Mapped[str] = mapped_column(Text, nullable=False)
    jws_sha256: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    # Words to search: text and notice bodies, seizure notes (never the whole JWS).
    search_text: Mapped[str | None] = mapped_column(Text)
    reply_to: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, index=True)
    hidden: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    hidden_reason: Mapped[str | None] = mapped_column(String(1000))
    hidden_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    hidden_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)

    __table_args__ = (
        UniqueConstraint("group_id", "seq", name="uq_message_group_seq"),
        UniqueConstraint("sender_id", "cid", name="uq_message_sender_cid"),
    )


class SeizureReportRow(Base):
    """The structured part of a seizure message, kept for analytics.

    `seq`, `sender_organization_id`, `reported_at` and `hidden` copy the message's, so every
    report-level aggregate reads this table alone (`hidden` follows hide/unhide in the same
    transaction). `week_start` is the Monday of `occurred_on`'s ISO week.
    """

    __tablename__ = "seizure_report"

    message_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("message.id"), primary_key=True)
    group_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, index=True)
    occurred_on: Mapped[date] = mapped_column(Date, nullable=False)
    country: Mapped[str] = mapped_column(String(2), nullable=False)
    region: Mapped[str | None] = mapped_column(String(32))
    location: Mapped[str | None] = mapped_column(String(200))
    transport_mode: Mapped[str] = mapped_column(String(32), nullable=False)
    origin: Mapped[str] = mapped_column(String(2), nullable=False)
    transit: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    destination: Mapped[str] = mapped_column(String(2), nullable=False)
    infringement: Mapped[str] = mapped_column(String(32), nullable=False)
    detection: Mapped[str] = mapped_column(String(32), nullable=False)
    concealment: Mapped[str] = mapped_column(String(32), nullable=False)
    hc: Mapped[str] = mapped_column(String(20), nullable=False)
    seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    sender_organization_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    reported_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    week_start: Mapped[date] = mapped_column(Date, nullable=False)
    hidden: Mapped[bool] = mapped_column(Boolean, nullable=False)

    __table_args__ = (
        Index("ix_seizure_report_analytics", "group_id", "hidden", "occurred_on"),
        Index("ix_seizure_report_group_seq", "group_id", "seq", unique=True),
        Index("ix_seizure_report_reported_at", "group_id", "hidden", "reported_at"),
    )


class SeizureItemRow(Base):
    """One item of a seizure report, with its report's filter columns copied beside it."""

    __tablename__ = "seizure_item"

    message_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("seizure_report.message_id"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    category: Mapped[str] = mapped_column(String(32), nullable=False)
    family: Mapped[str] = mapped_column(String(32), nullable=False)
    unit: Mapped[str] = mapped_column(String(16), nullable=False)
    quantity: Mapped[float] = mapped_column(Float, nullable=False)
    description: Mapped[str | None] = mapped_column(String(500))
    hs_code: Mapped[str | None] = mapped_column(String(16))
    group_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    occurred_on: Mapped[date] = mapped_column(Date, nullable=False)
    country: Mapped[str] = mapped_column(String(2), nullable=False)
    hc: Mapped[str] = mapped_column(String(20), nullable=False)
    hidden: Mapped[bool] = mapped_column(Boolean, nullable=False)


class SeizureTransitRow(Base):
    """One transit country of a seizure report's route, for the transit ranking."""

    __tablename__ = "seizure_transit"

    message_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("seizure_report.message_id"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    country: Mapped[str] = mapped_column(String(2), nullable=False)
    group_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    occurred_on: Mapped[date] = mapped_column(Date, nullable=False)
    hc: Mapped[str] = mapped_column(String(20), nullable=False)
    hidden: Mapped[bool] = mapped_column(Boolean, nullable=False)


class SeizureCountRow(Base):
    """Daily counters of visible seizure reports per dimension (domain/analytics_rollup.py)."""

    __tablename__ = "seizure_count"

    group_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    occurred_on: Mapped[date] = mapped_column(Date, primary_key=True)
    hc: Mapped[str] = mapped_column(String(20), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    interceptions: Mapped[int] = mapped_column(Integer, nullable=False)

    __table_args__ = (
        # Covering: an answer reads this index only.
        Index(
            "ix_seizure_count_scope",
            "group_id",
            "occurred_on",
            "hc",
            "dimension",
            "name",
            "interceptions",
        ),
    )


class SeizureQuantityRow(Base):
    """Daily quantities of visible seizure reports per country, category and unit."""

    __tablename__ = "seizure_quantity"

    group_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    occurred_on: Mapped[date] = mapped_column(Date, primary_key=True)
    hc: Mapped[str] = mapped_column(String(20), primary_key=True)
    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    category: Mapped[str] = mapped_column(String(32), primary_key=True)
    unit: Mapped[str] = mapped_column(String(16), primary_key=True)
    quantity: Mapped[float] = mapped_column(Float, nullable=False)
    # Reports with this product (each report counted once per category and unit).
    interceptions: Mapped[int] = mapped_column(Integer, nullable=False)

    __table_args__ = (
        Index(
            "ix_seizure_quantity_scope",
            "group_id",
            "occurred_on",
            "hc",
            "country",
            "category",
            "unit",
            "quantity",
            "interceptions",
        ),
    )
