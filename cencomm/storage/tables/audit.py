"""Audit log tables: entries, the index sequence, stored subtrees, tree heads, forwarding."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Integer,
    LargeBinary,
    String,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from cencomm.storage.tables.base import Base, UtcDateTime


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
