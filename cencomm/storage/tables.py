"""ORM models on one Base. Alembic migrations create them; tests compare the two for drift."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, also on SQLite, which keeps no zone."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class AuditSequence(Base):
    """A single row holding the next audit index: locking it serialises appends densely."""

    __tablename__ = "audit_sequence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    next_index: Mapped[int] = mapped_column(BigInteger, nullable=False)


class AuditEntryRow(Base):
    """One audit entry: a leaf of the Merkle tree, append-only."""

    __tablename__ = "audit_entry"

    index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, index=True)
    action: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    organization_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(128))
    group_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    ip: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, object]] = mapped_column(JSON, nullable=False)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)


class OrganizationRow(Base):
    __tablename__ = "organization"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    country: Mapped[str | None] = mapped_column(String(2))
    region: Mapped[str | None] = mapped_column(String(32), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)


class UserRow(Base):
    __tablename__ = "user_account"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    display_name: Mapped[str] = mapped_column(String(200), nullable=False)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("organization.id"), nullable=False, index=True
    )
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    disabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # TOTP secrets are sealed with the master key (AES-GCM); never stored in clear.
    mfa_secret: Mapped[bytes | None] = mapped_column(LargeBinary(128))
    mfa_pending_secret: Mapped[bytes | None] = mapped_column(LargeBinary(128))
    mfa_enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # The last TOTP time step accepted: a code is never accepted twice.
    mfa_last_step: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    # Where e-mail notifications go (none when null).
    email: Mapped[str | None] = mapped_column(String(254))


class SessionRow(Base):
    """One login: its access tokens carry its id (`sid`) and die with it."""

    __tablename__ = "session"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("user_account.id"), nullable=False, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    revoked_reason: Mapped[str | None] = mapped_column(String(32))
    mfa_satisfied: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    ip: Mapped[str | None] = mapped_column(String(64))


class RefreshTokenRow(Base):
    """A refresh token, stored only as its SHA-256; spent once, then kept to detect reuse."""

    __tablename__ = "refresh_token"

    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    session_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("session.id"), nullable=False, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    spent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class LoginFailureRow(Base):
    """A failed login, counted per username and per address within the throttling window."""

    __tablename__ = "login_failure"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), nullable=False)
    ip: Mapped[str] = mapped_column(String(64), nullable=False)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)

    __table_args__ = (
        Index("ix_login_failure_username_at", "username", "at"),
        Index("ix_login_failure_ip_at", "ip", "at"),
    )


class SigningKeyRow(Base):
    """A user's Ed25519 message-signing key; revoked keys stay so old messages verify."""

    __tablename__ = "signing_key"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("user_account.id"), nullable=False, index=True
    )
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False, unique=True)
    label: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class AuditSubtreeRow(Base):
    """The hash of an aligned complete subtree of the audit Merkle tree (a leaf at level 0).

    Leaves [start, start + 2**level). Written once when the tree grows past it; proofs are
    served from these rows without rehashing the log.
    """

    __tablename__ = "audit_subtree"

    start: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)


class AuditTreeStateRow(Base):
    """One row: how many entries the stored tree covers and its right edge (compact range)."""

    __tablename__ = "audit_tree_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # One 32-byte hash per set bit of size, largest subtree first, concatenated.
    right_edge: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


class AuditTreeHeadRow(Base):
    """A signed tree head: never updated or deleted; one per tree size."""

    __tablename__ = "audit_tree_head"

    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    timestamp: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    # The exact signed bytes: a C2SP tlog-checkpoint body.
    checkpoint: Mapped[str] = mapped_column(String(1024), nullable=False)
    kid: Mapped[str] = mapped_column(String(64), nullable=False)
    signature: Mapped[bytes] = mapped_column(LargeBinary(64), nullable=False)


class AuditForwardCursorRow(Base):
    """How far SIEM forwarding to one target has got: the next entry index to send."""

    __tablename__ = "audit_forward_cursor"

    target: Mapped[str] = mapped_column(String(512), primary_key=True)
    next_index: Mapped[int] = mapped_column(BigInteger, nullable=False)


class GroupRow(Base):
    """A closed user group: one operation. `last_seq` numbers its messages without gaps."""

    __tablename__ = "op_group"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(String(4000))
    starts_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    ends_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    roster_visible: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)


class GroupMemberRow(Base):
    """A user, or a whole organisation, admitted to a group with a group role."""

    __tablename__ = "group_member"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    group_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("op_group.id"), nullable=False, index=True
    )
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("user_account.id"), index=True
    )
    organization_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("organization.id"), index=True
    )
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    added_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)

    __table_args__ = (
        UniqueConstraint("group_id", "user_id", name="uq_group_member_group_user"),
        UniqueConstraint("group_id", "organization_id", name="uq_group_member_group_organization"),
        CheckConstraint(
            "(user_id IS NULL) != (organization_id IS NULL)", name="user_xor_organization"
        ),
    )


class JoinRequestRow(Base):
    __tablename__ = "join_request"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    group_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("op_group.id"), nullable=False, index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("user_account.id"), nullable=False, index=True
    )
    organization_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("organization.id"), nullable=False
    )
    reason: Mapped[str] = mapped_column(String(1000), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    decided_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)


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
    """The structured part of a seizure message, kept for analytics."""

    __tablename__ = "seizure_report"

    message_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("message.id"), primary_key=True
    )
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


class SeizureItemRow(Base):
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

    message_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("message.id"), primary_key=True
    )
    attachment_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("attachment.id"), primary_key=True, index=True
    )


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
    exactly once whichever process sweeps first.
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
