"""CosignatureStore: witness cosignatures of signed tree heads, inserted once, never updated."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cencomm.storage.tables import AuditCosignatureRow

_row = AuditCosignatureRow


class CosignatureStore:
    def __init__(self, session: Session) -> None:
        self._session = session

    def insert(self, tree_size: int, witness: str, signature: bytes, at: datetime) -> bool:
        """Keep a witness's cosignature of the head of `tree_size`; False if it has one there
        already (then the first one stays)."""
        if self._session.get(_row, (tree_size, witness)) is not None:
            return False
        self._session.add(
            _row(tree_size=tree_size, witness=witness, signature=signature, created_at=at)
        )
        self._session.flush()
        return True

    def for_head(self, tree_size: int) -> dict[str, bytes]:
        """Witness name -> signature bytes for the head of `tree_size`."""
        rows = self._session.execute(
            select(_row.witness, _row.signature)
            .where(_row.tree_size == tree_size)
            .order_by(_row.witness)
        )
        return {witness: signature for witness, signature in rows}

    def last_cosigned(self, witness: str) -> int | None:
        """The largest tree size `witness` cosigned, or None."""
        return self._session.scalar(select(func.max(_row.tree_size)).where(_row.witness == witness))

    def newest_witnessed(self, witnesses: Sequence[str], quorum: int) -> int | None:
        """The largest tree size cosigned by at least `quorum` of `witnesses`, or None."""
        if not witnesses or quorum < 1:
            return None
        return self._session.scalar(
            select(_row.tree_size)
            .where(_row.witness.in_(list(witnesses)))
            .group_by(_row.tree_size)
            .having(func.count() >= quorum)
            .order_by(_row.tree_size.desc())
            .limit(1)
        )
