"""Organisation seals: the seal keys of organisations, who holds them, and countersignatures."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from cencomm.storage.tables.base import Base, UtcDateTime


class OrganizationKeyRow(Base):
    """An organisation's Ed25519 seal key; revoked keys stay so old countersignatures verify."""

    __tablename__ = "organization_key"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("organization.id"), nullable=False, index=True
    )
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False, unique=True)
    label: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class SealHolderRow(Base):
    """A user designated by an admin to hold their organisation's seal."""

    __tablename__ = "seal_holder"

    organization_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("organization.id"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("user_account.id"), primary_key=True
    )
    designated_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)


class CountersignatureRow(Base):
    """An organisation's seal on a message: a compact JWS stored verbatim."""

    __tablename__ = "countersignature"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    message_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("message.id"), nullable=False, index=True
    )
    organization_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("organization.id"), nullable=False
    )
    kid: Mapped[str] = mapped_column(String(64), ForeignKey("organization_key.kid"), nullable=False)
    signer_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("user_account.id"), nullable=False
    )
    cid: Mapped[str] = mapped_column(String(36), nullable=False)
    jws: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)

    __table_args__ = (
        UniqueConstraint("organization_id", "cid", name="uq_countersignature_organization_cid"),
        UniqueConstraint("message_id", "kid", name="uq_countersignature_message_kid"),
    )
