"""SnapshotStore: what a backup must know about the one database snapshot it copies."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from cencomm.domain.audit_tree import TreeHead
from cencomm.storage.audit_tree import AuditTreeStore
from cencomm.storage.schema import SchemaStore
from cencomm.storage.tables import BlobRow


@dataclass(frozen=True, slots=True)
class SnapshotFacts:
    """Read in the snapshot that was copied: its schema revision, its newest signed tree head,
    and every blob it names with the master key that wraps the blob's key."""

    revision: str | None
    tree_head: TreeHead | None
    blobs: tuple[tuple[str, str], ...]  # (sha256, master_kid), by sha256


class SnapshotStore:
    def __init__(self, session: Session) -> None:
        self._session = session

    def export(self) -> str:
        """PostgreSQL: make this transaction one REPEATABLE READ snapshot and export it, so
        `pg_dump --snapshot` copies exactly what this unit reads. Call it first in the unit."""
        self._session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        return str(self._session.scalar(text("SELECT pg_export_snapshot()")))

    def facts(self) -> SnapshotFacts:
        rows = self._session.execute(
            select(BlobRow.sha256, BlobRow.master_kid).order_by(BlobRow.sha256)
        )
        return SnapshotFacts(
            revision=SchemaStore(self._session).revision(),
            tree_head=AuditTreeStore(self._session).latest_head(),
            blobs=tuple((str(sha), str(kid)) for sha, kid in rows),
        )
