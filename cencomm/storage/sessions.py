"""SessionStore: login sessions and their refresh tokens (hashed)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cencomm.domain.ids import OrganizationId, SessionId, UserId
from cencomm.domain.users import Role
from cencomm.storage.tables import RefreshTokenRow, SessionRow, UserRow


@dataclass(frozen=True, slots=True)
class LiveSession:
    """A session joined with its user, as access-token checks need it."""

    session_id: SessionId
    user_id: UserId
    organization_id: OrganizationId
    role: Role
    mfa_enabled: bool
    mfa_satisfied: bool


@dataclass(frozen=True, slots=True)
class RefreshOutcome:
    """What presenting a refresh token found: its session, and whether it had been spent."""

    session_id: SessionId
    user_id: UserId
    already_spent: bool


class SessionStore:
    def __init__(self, session: Session) -> None:
        self._session = session

    def insert(
        self,
        session_id: uuid.UUID,
        user_id: uuid.UUID,
        *,
        now: datetime,
        expires_at: datetime,
        mfa_satisfied: bool,
        ip: str | None,
    ) -> None:
        self._session.add(
            SessionRow(
                id=session_id,
                user_id=user_id,
                created_at=now,
                expires_at=expires_at,
                mfa_satisfied=mfa_satisfied,
                ip=ip,
            )
        )
        self._session.flush()

    def add_refresh_token(self, token_hash: bytes, session_id: uuid.UUID, now: datetime) -> None:
        self._session.add(
            RefreshTokenRow(token_hash=token_hash, session_id=session_id, created_at=now)
        )
        self._session.flush()

    def spend_refresh_token(self, token_hash: bytes, now: datetime) -> RefreshOutcome | None:
        """Mark the token spent. Exactly one of any number of concurrent callers wins.

        Returns None for an unknown token; `already_spent` for a token spent before (reuse).
        """
        won = self._session.execute(
            update(RefreshTokenRow)
            .where(RefreshTokenRow.token_hash == token_hash, RefreshTokenRow.spent_at.is_(None))
            .values(spent_at=now)
            .returning(RefreshTokenRow.session_id)
        )
        session_id: uuid.UUID | None = won.scalar_one_or_none()
        spent = session_id is None
        if session_id is None:
            session_id = self._session.scalar(
                select(RefreshTokenRow.session_id).where(RefreshTokenRow.token_hash == token_hash)
            )
        if session_id is None:
            return None
        user_id = self._session.scalar(
            select(SessionRow.user_id).where(SessionRow.id == session_id)
        )
        if user_id is None:  # impossible while the foreign key holds
            return None
        return RefreshOutcome(SessionId(session_id), UserId(user_id), already_spent=spent)

    def find_live(self, session_id: uuid.UUID, now: datetime) -> LiveSession | None:
        """The session if it is neither revoked nor expired and its user is enabled."""
        row = (
            self._session.execute(
                select(
                    SessionRow.id,
                    UserRow.id,
                    UserRow.organization_id,
                    UserRow.role,
                    UserRow.mfa_enabled,
                    SessionRow.mfa_satisfied,
                )
                .join(UserRow, UserRow.id == SessionRow.user_id)
                .where(
                    SessionRow.id == session_id,
                    SessionRow.revoked_at.is_(None),
                    SessionRow.expires_at > now,
                    UserRow.disabled.is_(False),
                )
            )
        ).first()
        if row is None:
            return None
        return LiveSession(
            session_id=SessionId(row[0]),
            user_id=UserId(row[1]),
            organization_id=OrganizationId(row[2]),
            role=Role(row[3]),
            mfa_enabled=bool(row[4]),
            mfa_satisfied=bool(row[5]),
        )

    def revoke(self, session_id: uuid.UUID, now: datetime, reason: str) -> bool:
        result = self._session.execute(
            update(SessionRow)
            .where(SessionRow.id == session_id, SessionRow.revoked_at.is_(None))
            .values(revoked_at=now, revoked_reason=reason)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def revoke_all_of_user(self, user_id: uuid.UUID, now: datetime, reason: str) -> list[SessionId]:
        ids = (
            self._session.scalars(
                select(SessionRow.id).where(
                    SessionRow.user_id == user_id, SessionRow.revoked_at.is_(None)
                )
            )
        ).all()
        if ids:
            self._session.execute(
                update(SessionRow)
                .where(SessionRow.id.in_(ids))
                .values(revoked_at=now, revoked_reason=reason)
            )
        return [SessionId(i) for i in ids]
