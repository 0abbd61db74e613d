"""SealStore: organisations' seal keys, their seal holders and the countersignatures made."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cencomm.domain.errors import Conflict
from cencomm.domain.ids import MessageId, OrganizationId, UserId
from cencomm.domain.seals import (
    MAX_ORGANIZATION_KEYS,
    MAX_SEAL_HOLDERS,
    Countersignature,
    OrganizationKey,
    SealHolder,
)
from cencomm.storage.tables import (
    CountersignatureRow,
    MessageRow,
    OrganizationKeyRow,
    SealHolderRow,
    SigningKeyRow,
)


def _key(row: OrganizationKeyRow) -> OrganizationKey:
    return OrganizationKey(
        kid=row.kid,
        organization_id=OrganizationId(row.organization_id),
        public_key=row.public_key,
        label=row.label,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


def _countersignature(row: CountersignatureRow) -> Countersignature:
    return Countersignature(
        id=row.id,
        message_id=MessageId(row.message_id),
        organization_id=OrganizationId(row.organization_id),
        kid=row.kid,
        signer_id=UserId(row.signer_id),
        cid=row.cid,
        jws=row.jws,
        created_at=row.created_at,
    )


def _duplicate_key() -> Conflict:
    return Conflict("this key is already registered", slug="duplicate-key")


class SealStore:
    def __init__(self, session: Session) -> None:
        self._session = session

    # -- seal keys --------------------------------------------------------------------------

    def insert_key(self, key: OrganizationKey) -> None:
        """Raises Conflict `duplicate-key` when the key is registered, as a seal key or as a
        user's signing key (one key, one purpose: a seal is never a person's signature)."""
        taken = self._session.scalar(
            select(SigningKeyRow.kid).where(SigningKeyRow.public_key == key.public_key)
        )
        if taken is not None:
            raise _duplicate_key()
        self._session.add(
            OrganizationKeyRow(
                kid=key.kid,
                organization_id=key.organization_id,
                public_key=key.public_key,
                label=key.label,
                created_at=key.created_at,
            )
        )
        try:
            self._session.flush()
        except IntegrityError:
            raise _duplicate_key() from None

    def find_key(self, kid: str) -> OrganizationKey | None:
        row = self._session.get(OrganizationKeyRow, kid)
        return _key(row) if row else None

    def list_keys(self, organization_id: uuid.UUID) -> list[OrganizationKey]:
        rows = self._session.scalars(
            select(OrganizationKeyRow)
            .where(OrganizationKeyRow.organization_id == organization_id)
            .order_by(OrganizationKeyRow.created_at, OrganizationKeyRow.kid)
            .limit(MAX_ORGANIZATION_KEYS)
        )
        return [_key(r) for r in rows.all()]

    def keys_of(self, kids: Sequence[str]) -> list[OrganizationKey]:
        """The seal keys with these kids (an evidence bundle's), in kid order."""
        if not kids:
            return []
        rows = self._session.scalars(
            select(OrganizationKeyRow)
            .where(OrganizationKeyRow.kid.in_(sorted(set(kids))))
            .order_by(OrganizationKeyRow.kid)
        )
        return [_key(r) for r in rows.all()]

    def revoke_key(self, kid: str, now: datetime) -> bool:
        result = self._session.execute(
            update(OrganizationKeyRow)
            .where(OrganizationKeyRow.kid == kid, OrganizationKeyRow.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    # -- seal holders -----------------------------------------------------------------------

    def is_holder(self, organization_id: uuid.UUID, user_id: uuid.UUID) -> bool:
        row = self._session.get(SealHolderRow, (organization_id, user_id))
        return row is not None

    def find_holder(self, organization_id: uuid.UUID, user_id: uuid.UUID) -> SealHolder | None:
        row = self._session.get(SealHolderRow, (organization_id, user_id))
        if row is None:
            return None
        return SealHolder(
            OrganizationId(row.organization_id), UserId(row.user_id), row.designated_at
        )

    def add_holder(self, holder: SealHolder) -> None:
        self._session.add(
            SealHolderRow(
                organization_id=holder.organization_id,
                user_id=holder.user_id,
                designated_at=holder.designated_at,
            )
        )
        self._session.flush()

    def remove_holder(self, organization_id: uuid.UUID, user_id: uuid.UUID) -> bool:
        result = self._session.execute(
            delete(SealHolderRow).where(
                SealHolderRow.organization_id == organization_id,
                SealHolderRow.user_id == user_id,
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def list_holders(self, organization_id: uuid.UUID) -> list[SealHolder]:
        rows = self._session.scalars(
            select(SealHolderRow)
            .where(SealHolderRow.organization_id == organization_id)
            .order_by(SealHolderRow.designated_at, SealHolderRow.user_id)
            .limit(MAX_SEAL_HOLDERS)
        )
        return [
            SealHolder(OrganizationId(r.organization_id), UserId(r.user_id), r.designated_at)
            for r in rows.all()
        ]

    # -- countersignatures ------------------------------------------------------------------

    def insert_countersignature(self, countersignature: Countersignature) -> None:
        c = countersignature
        self._session.add(
            CountersignatureRow(
                id=c.id,
                message_id=c.message_id,
                organization_id=c.organization_id,
                kid=c.kid,
                signer_id=c.signer_id,
                cid=c.cid,
                jws=c.jws,
                created_at=c.created_at,
            )
        )
        try:
            self._session.flush()
        except IntegrityError:
            # A concurrent twin won the race: the caller's retry gets the stored one.
            raise Conflict(
                "this countersignature was just recorded; send it again", slug="conflict"
            ) from None

    def find_by_cid(self, organization_id: uuid.UUID, cid: str) -> Countersignature | None:
        row = self._session.scalar(
            select(CountersignatureRow).where(
                CountersignatureRow.organization_id == organization_id,
                CountersignatureRow.cid == cid,
            )
        )
        return _countersignature(row) if row else None

    def find_by_message_key(self, message_id: uuid.UUID, kid: str) -> Countersignature | None:
        row = self._session.scalar(
            select(CountersignatureRow).where(
                CountersignatureRow.message_id == message_id, CountersignatureRow.kid == kid
            )
        )
        return _countersignature(row) if row else None

    def of_messages(
        self, message_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, tuple[Countersignature, ...]]:
        """Every countersignature of these messages, oldest first, in one query (a page's)."""
        if not message_ids:
            return {}
        rows = self._session.scalars(
            select(CountersignatureRow)
            .where(CountersignatureRow.message_id.in_(list(dict.fromkeys(message_ids))))
            .order_by(CountersignatureRow.created_at, CountersignatureRow.id)
        )
        found: dict[uuid.UUID, list[Countersignature]] = {}
        for row in rows.all():
            found.setdefault(row.message_id, []).append(_countersignature(row))
        return {k: tuple(v) for k, v in found.items()}

    def of_group(self, group_id: uuid.UUID, up_to_seq: int) -> list[Countersignature]:
        """Every countersignature of the group's messages up to `up_to_seq` (an evidence
        bundle's), by message seq, then oldest first."""
        rows = self._session.scalars(
            select(CountersignatureRow)
            .join(MessageRow, MessageRow.id == CountersignatureRow.message_id)
            .where(MessageRow.group_id == group_id, MessageRow.seq <= up_to_seq)
            .order_by(MessageRow.seq, CountersignatureRow.created_at, CountersignatureRow.id)
        )
        return [_countersignature(r) for r in rows.all()]
