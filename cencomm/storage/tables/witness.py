"""Witness cosignatures of signed audit tree heads (c2sp.org/tlog-cosignature)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from cencomm.storage.tables.base import Base, UtcDateTime


class AuditCosignatureRow(Base):
    """One witness's cosignature/v1 of one tree head: inserted once, never updated."""

    __tablename__ = "audit_cosignature"

    tree_size: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("audit_tree_head.tree_size"), primary_key=True, autoincrement=False
    )
    # The witness's key name, as on its signature line.
    witness: Mapped[str] = mapped_column(String(256), primary_key=True)
    # The signature line's bytes: 4-byte key ID, 8-byte big-endian time, 64-byte Ed25519.
    signature: Mapped[bytes] = mapped_column(LargeBinary(76), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
