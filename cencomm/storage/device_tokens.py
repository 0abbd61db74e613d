"""DeviceTokenStore: the devices users logged in from, stored only as SHA-256 hashes."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cencomm.storage.tables import DeviceTokenRow, UserRow


class DeviceTokenStore:
    def __init__(self, session: Session) -> None:
        self._session = session

    def is_valid_for(self, token_hash: bytes, username: str, now: datetime) -> bool:
        """True when the token is unexpired and was issued to the user called `username`."""
        found = self._session.scalar(
            select(DeviceTokenRow.token_hash)
            .join(UserRow, UserRow.id == DeviceTokenRow.user_id)
            .where(
                DeviceTokenRow.token_hash == token_hash,
                DeviceTokenRow.expires_at > now,
                UserRow.username == username,
            )
        )
        return found is not None

    def replace(
        self,
        user_id: uuid.UUID,
        token_hash: bytes,
        *,
        now: datetime,
        expires_at: datetime,
        previous: bytes | None,
        keep: int,
    ) -> None:
        """Store a new token for the user; drop the one it replaces, expired ones, and all but
        the user's `keep` newest (so logins that never present theirs cannot pile up rows)."""
        if previous is not None:
            self._session.execute(
                delete(DeviceTokenRow).where(
                    DeviceTokenRow.token_hash == previous, DeviceTokenRow.user_id == user_id
                )
            )
        self._session.add(
            DeviceTokenRow(
                token_hash=token_hash, user_id=user_id, created_at=now, expires_at=expires_at
            )
        )
        self._session.flush()
        newest = (
            select(DeviceTokenRow.token_hash)
            .where(DeviceTokenRow.user_id == user_id, DeviceTokenRow.expires_at > now)
            .order_by(DeviceTokenRow.created_at.desc(), DeviceTokenRow.token_hash)
            .limit(keep)
        )
        self._session.execute(
            delete(DeviceTokenRow).where(
                DeviceTokenRow.user_id == user_id, DeviceTokenRow.token_hash.not_in(newest)
            )
        )
