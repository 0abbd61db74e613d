"""The identifiers of seizure reports, normalised, for correlations and watch lists."""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from cencomm.storage.tables.base import Base


class ReportIdentifierRow(Base):
    """One identifier (container, document, vessel, party, …) of one seizure report, in its
    normal form (`domain/identifiers.py`), written in the same transaction as the post.

    A report's state (hidden, handling code, country, seq) is read from `seizure_report` by its
    key, so hide/unhide need not touch these rows.
    """

    __tablename__ = "report_identifier"

    message_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("seizure_report.message_id"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[str] = mapped_column(String(200), primary_key=True)
    # How the report wrote it, for people (the first spelling of this value in the report).
    label: Mapped[str] = mapped_column(String(200), nullable=False)
    group_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)

    __table_args__ = (
        Index("ix_report_identifier_kind_value", "kind", "value"),
        Index("ix_report_identifier_group", "group_id", "kind", "value"),
    )
