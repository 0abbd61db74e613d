"""Organisations, users, sessions, refresh tokens, login throttling, device tokens, signing keys."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from cencomm.storage.tables.base import Base, UtcDateTime


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


class LoginThrottleRow(Base):
    """One row per login budget (a username, an address or a device token): an attempt takes
    its row lock (an upsert) before it counts the budget's attempts, so parallel attempts on one
    budget take turns and each sees all the others."""

    __tablename__ = "login_throttle"

    scope: Mapped[str] = mapped_column(String(8), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, index=True)


class LoginAttemptRow(Base):
    """A login attempt counted in a budget before its check; a success deletes it again, so
    what stays within the throttling window are failures (and attempts still being checked)."""

    __tablename__ = "login_attempt"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    scope: Mapped[str] = mapped_column(String(8), nullable=False)
    key: Mapped[str] = mapped_column(String(64), nullable=False)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, index=True)

    __table_args__ = (Index("ix_login_attempt_scope_key_at", "scope", "key", "at"),)


class DeviceTokenRow(Base):
    """A device a user logged in from (OWASP device cookie), stored only as its SHA-256: its
    logins are not refused for other people's failures. Replaced by a new one at each login."""

    __tablename__ = "device_token"

    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("user_account.id"), nullable=False, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)


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
