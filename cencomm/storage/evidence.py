"""EvidenceStore: the few reads only the evidence export needs (the rest reuse other stores)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cencomm.domain.audit import AuditEntry
from cencomm.domain.keys import SigningKey
from cencomm.storage.audit import to_entry
from cencomm.storage.keys import to_key
from cencomm.storage.tables import AuditEntryRow, MessageRow, SigningKeyRow

KEY_ACTIONS = ("key.register", "key.revoke")
SEAL_KEY_ACTIONS = ("seal_key.register", "seal_key.revoke")
_IN_CHUNK = 200


class EvidenceStore:
    def __init__(self, session: Session) -> None:
        self._session = session

    def last_seq(self, group_id: uuid.UUID) -> int:
        """The group's highest message seq (0 when it has none)."""
        last = self._session.scalar(
            select(func.max(MessageRow.seq)).where(MessageRow.group_id == group_id)
        )
        return int(last or 0)

    def sender_keys(self, group_id: uuid.UUID, up_to_seq: int) -> list[SigningKey]:
        """Every key that signed one of the group's messages up to `up_to_seq`, by kid."""
        used = select(MessageRow.kid).where(
            MessageRow.group_id == group_id, MessageRow.seq <= up_to_seq
        )
        rows = self._session.scalars(
            select(SigningKeyRow).where(SigningKeyRow.kid.in_(used)).order_by(SigningKeyRow.kid)
        )
        return [to_key(row) for row in rows]

    def key_entries(
        self, kids: Sequence[str], tree_size: int, actions: Sequence[str] = KEY_ACTIONS
    ) -> list[AuditEntry]:
        """The registrations and revocations (`actions`) of these keys among the first
        `tree_size` entries (key transparency), in index order."""
        found: list[AuditEntry] = []
        for i in range(0, len(kids), _IN_CHUNK):
            rows = self._session.scalars(
                select(AuditEntryRow).where(
                    AuditEntryRow.action.in_(list(actions)),
                    AuditEntryRow.target_id.in_(list(kids[i : i + _IN_CHUNK])),
                    AuditEntryRow.index < tree_size,
                )
            )
            found.extend(to_entry(row) for row in rows)
        return sorted(found, key=lambda entry: entry.index)

    def group_entries(
        self, group_id: uuid.UUID, after: int, tree_size: int, limit: int
    ) -> list[AuditEntry]:
        """The group's entries with `after` < index < `tree_size`, in index order."""
        rows = self._session.scalars(
            select(AuditEntryRow)
            .where(
                AuditEntryRow.group_id == group_id,
                AuditEntryRow.index > after,
                AuditEntryRow.index < tree_size,
            )
            .order_by(AuditEntryRow.index)
            .limit(limit)
        )
        return [to_entry(row) for row in rows]
