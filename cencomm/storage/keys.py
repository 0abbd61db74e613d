"""SigningKeyStore: users' message-signing keys; revoked keys are kept, never deleted."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cencomm.domain.errors import Conflict
from cencomm.domain.ids import UserId
from cencomm.domain.keys import SigningKey
from cencomm.storage.changes import Changed, mark
from cencomm.storage.tables import SigningKeyRow


def to_key(row: SigningKeyRow) -> SigningKey:
    return SigningKey(
        kid=row.kid,
        user_id=UserId(row.user_id),
        public_key=row.public_key,
        label=row.label,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


class SigningKeyStore:
    def __init__(self, session: Session) -> None:
        self._session = session

    def insert(self, key: SigningKey) -> None:
        mark(self._session, Changed.POSTING)
        self._session.add(
            SigningKeyRow(
                kid=key.kid,
                user_id=key.user_id,
                public_key=key.public_key,
                label=key.label,
                created_at=key.created_at,
            )
        )
        try:
            self._session.flush()
        except IntegrityError:
            raise Conflict("this key is already registered", slug="duplicate-key") from None

    def find(self, kid: str) -> SigningKey | None:
        row = self._session.get(SigningKeyRow, kid)
        return to_key(row) if row else None

    def list_of_user(self, user_id: uuid.UUID) -> list[SigningKey]:
        rows = self._session.scalars(
            select(SigningKeyRow)
            .where(SigningKeyRow.user_id == user_id)
            .order_by(SigningKeyRow.created_at, SigningKeyRow.kid)
        )
        return [to_key(r) for r in rows.all()]

    def revoke(self, kid: str, now: datetime) -> bool:
        mark(self._session, Changed.POSTING)
        result = self._session.execute(
            update(SigningKeyRow)
            .where(SigningKeyRow.kid == kid, SigningKeyRow.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]
