"""Alerts, their recipients, acknowledgements, notification preferences and the outbox."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    Boolean,
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


class AlertRow(Base):
    """A signed alert, its JWS stored verbatim; its recipients were fixed when it was sent."""

    __tablename__ = "alert"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    sender_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("user_account.id"), nullable=False
    )
    sender_organization_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    kid: Mapped[str] = mapped_column(String(64), nullable=False)
    cid: Mapped[str] = mapped_column(String(36), nullable=False)
    jws: Mapped[str] = mapped_column(Text, nullable=False)
    jws_sha256: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    hc: Mapped[str] = mapped_column(String(20), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    priority: Mapped[str] = mapped_column(String(16), nullable=False)
    ack_required: Mapped[bool] = mapped_column(Boolean, nullable=False)
    respond_by: Mapped[datetime | None] = mapped_column(UtcDateTime(), index=True)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, index=True)
    recipient_count: Mapped[int] = mapped_column(Integer, nullable=False)
    organization_count: Mapped[int] = mapped_column(Integer, nullable=False)

    __table_args__ = (UniqueConstraint("sender_id", "cid", name="uq_alert_sender_cid"),)


class AlertRecipientRow(Base):
    """One user an alert went to; `delivered_at` once it reached one of their live sockets."""

    __tablename__ = "alert_recipient"

    alert_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("alert.id"), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("user_account.id"), primary_key=True, index=True
    )
    organization_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    # Observers receive but never answer.
    answers: Mapped[bool] = mapped_column(Boolean, nullable=False)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class AlertOrganizationRow(Base):
    """An organisation expected to answer an alert: its first ack, best outcome, deadlines.

    `overdue_at` and `reminded_at` are set once, by a conditional UPDATE, so a deadline fires
    exactly once whichever process sweeps first. `reminded_at` is set when the alert is sent if
    its `respond_by` comes sooner than `alerts.reminder_before`: no reminder follows such an alert.
    """

    __tablename__ = "alert_organization"

    alert_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("alert.id"), primary_key=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("organization.id"), primary_key=True
    )
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    outcome: Mapped[str | None] = mapped_column(String(16))
    overdue_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    reminded_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class AlertAckRow(Base):
    """One user's acknowledgement of an alert: first time, and the outcome it has reached."""

    __tablename__ = "alert_ack"

    alert_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("alert.id"), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("user_account.id"), primary_key=True
    )
    organization_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    acknowledged_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    outcome: Mapped[str] = mapped_column(String(16), nullable=False)
    note: Mapped[str | None] = mapped_column(String(2000))
    seizure_message_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("message.id"))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)


class NotificationPreferenceRow(Base):
    """Which e-mails a user wants; no row means the defaults (all on)."""

    __tablename__ = "notification_preference"

    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("user_account.id"), primary_key=True
    )
    alerts: Mapped[bool] = mapped_column(Boolean, nullable=False)
    reminders: Mapped[bool] = mapped_column(Boolean, nullable=False)


class OutboxRow(Base):
    """A durable e-mail: written in the transaction that causes it, sent by a background task.

    A sender claims a row with a conditional UPDATE that sets `lease_until` (so two processes
    never send it at once) and marks it `sent` after the SMTP transaction; `dedupe_key` keeps
    the same notification from being queued twice.
    """

    __tablename__ = "outbox"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    dedupe_key: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    alert_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    recipient: Mapped[str] = mapped_column(String(254), nullable=False)
    subject: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    # pending | sent | skipped | failed
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    claimed_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_error: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),)
