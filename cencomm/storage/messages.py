"""MessageStore: the timelines, idempotency lookups, seizure rows and full-text search."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    Select,
    and_,
    case,
    false,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from cencomm.domain.groups import Group, GroupRole
from cencomm.domain.ids import UserId
from cencomm.domain.keys import SigningKey
from cencomm.domain.messages import Sender, StoredMessage
from cencomm.storage.groups import to_group
from cencomm.storage.tables import (
    GroupMemberRow,
    GroupRow,
    MessageRow,
    OrganizationRow,
    SeizureItemRow,
    SeizureReportRow,
    SigningKeyRow,
    UserRow,
)

_COLUMNS = (
    MessageRow.id,
    MessageRow.group_id,
    MessageRow.seq,
    MessageRow.typ,
    MessageRow.hc,
    MessageRow.sender_id,
    UserRow.display_name,
    UserRow.organization_id,
    MessageRow.kid,
    MessageRow.jws,
    MessageRow.created_at,
    MessageRow.reply_to,
    MessageRow.hidden,
    MessageRow.hidden_reason,
)


def _select() -> Select[Any]:
    query = select(*_COLUMNS).join(UserRow, UserRow.id == MessageRow.sender_id)
    return cast("Select[Any]", query)  # wider than mypy's Select generics spell


def _to_message(row: Any) -> StoredMessage:
    return StoredMessage(
        id=row[0],
        group_id=row[1],
        seq=row[2],
        typ=row[3],
        hc=row[4],
        sender=Sender(id=row[5], display_name=row[6], organization_id=row[7]),
        kid=row[8],
        jws=row[9],
        created_at=row[10],
        reply_to=row[11],
        hidden=row[12],
        hidden_reason=row[13],
    )


class MessageStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._is_sqlite = session.get_bind().dialect.name == "sqlite"

    # -- writing (used by the batched writer) ----------------------------------------------

    async def take_seqs(self, group_id: uuid.UUID, count: int) -> int | None:
        """Reserve `count` seqs of an active group; returns the last one, None if not active.

        The UPDATE locks the group row until commit, so seqs follow commit order with no gap.
        """
        result = await self._session.execute(
            update(GroupRow)
            .where(GroupRow.id == group_id, GroupRow.status == "active")
            .values(last_seq=GroupRow.last_seq + count)
            .returning(GroupRow.last_seq)
        )
        return result.scalar_one_or_none()

    async def find_by_cids(
        self, pairs: Iterable[tuple[uuid.UUID, str]]
    ) -> dict[tuple[uuid.UUID, str], tuple[uuid.UUID, int, datetime, bytes]]:
        """Existing messages by (sender, cid): id, seq, created_at, JWS hash."""
        keys = list(pairs)
        if not keys:
            return {}
        rows = await self._session.execute(
            select(
                MessageRow.sender_id,
                MessageRow.cid,
                MessageRow.id,
                MessageRow.seq,
                MessageRow.created_at,
                MessageRow.jws_sha256,
            ).where(tuple_(MessageRow.sender_id, MessageRow.cid).in_(keys))
        )
        return {(r[0], r[1]): (r[2], r[3], r[4], r[5]) for r in rows.all()}

    async def insert_many(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            await self._session.execute(insert(MessageRow), list(rows))

    async def insert_seizures(
        self, reports: Sequence[dict[str, Any]], items: Sequence[dict[str, Any]]
    ) -> None:
        if reports:
            await self._session.execute(insert(SeizureReportRow), list(reports))
        if items:
            await self._session.execute(insert(SeizureItemRow), list(items))

    async def index_for_search(self, entries: Sequence[tuple[uuid.UUID, str]]) -> None:
        """SQLite keeps an FTS5 table beside; PostgreSQL indexes `search_text` itself."""
        if entries and self._is_sqlite:
            await self._session.execute(
                text("INSERT INTO message_search (search_text, message_id) VALUES (:t, :m)"),
                [{"t": words, "m": message_id.hex} for message_id, words in entries],
            )

    # -- reading ---------------------------------------------------------------------------

    async def find(self, message_id: uuid.UUID) -> StoredMessage | None:
        row = (await self._session.execute(_select().where(MessageRow.id == message_id))).first()
        return _to_message(row) if row else None

    async def exists_in_group(self, message_id: uuid.UUID, group_id: uuid.UUID) -> bool:
        found = await self._session.scalar(
            select(MessageRow.id).where(
                MessageRow.id == message_id, MessageRow.group_id == group_id
            )
        )
        return found is not None

    async def page(
        self,
        group_id: uuid.UUID,
        *,
        after: int | None,
        before: int | None,
        limit: int,
        withheld: frozenset[str],
    ) -> list[StoredMessage]:
        """Up to `limit` messages after `after` (or before `before`), ascending by seq."""
        query = _select().where(MessageRow.group_id == group_id)
        if withheld:
            query = query.where(MessageRow.hc.not_in(withheld))
        if before is not None:
            query = query.where(MessageRow.seq < before).order_by(MessageRow.seq.desc())
            rows = (await self._session.execute(query.limit(limit))).all()
            return [_to_message(r) for r in reversed(rows)]
        query = query.where(MessageRow.seq > (after or 0)).order_by(MessageRow.seq)
        return [_to_message(r) for r in (await self._session.execute(query.limit(limit))).all()]

    async def set_hidden(
        self,
        message_id: uuid.UUID,
        hidden: bool,
        reason: str | None,
        by: uuid.UUID,
        now: datetime,
    ) -> None:
        await self._session.execute(
            update(MessageRow)
            .where(MessageRow.id == message_id)
            .values(
                hidden=hidden,
                hidden_reason=reason if hidden else None,
                hidden_at=now if hidden else None,
                hidden_by=by if hidden else None,
            )
        )

    async def search(
        self,
        words: Sequence[str],
        *,
        full_groups: Sequence[uuid.UUID] | None,
        restricted_groups: Sequence[uuid.UUID],
        moderated_groups: Sequence[uuid.UUID] | None,
        withheld: frozenset[str],
        before: tuple[datetime, uuid.UUID] | None,
        limit: int,
    ) -> list[StoredMessage]:
        """Messages matching every word, newest first, within what the reader may see.

        Args:
            full_groups: groups read in full (None: every group, for staff).
            restricted_groups: groups read without the `withheld` handling codes.
            moderated_groups: groups whose hidden messages the reader sees (None: all).
        """
        query = _select()
        if full_groups is not None:
            scope = or_(
                MessageRow.group_id.in_(full_groups) if full_groups else false(),
                and_(MessageRow.group_id.in_(restricted_groups), MessageRow.hc.not_in(withheld))
                if restricted_groups
                else false(),
            )
            query = query.where(scope)
        if moderated_groups is not None:
            query = query.where(
                or_(
                    MessageRow.hidden.is_(False),
                    MessageRow.group_id.in_(moderated_groups) if moderated_groups else false(),
                )
            )
        if self._is_sqlite:
            match = " ".join(f'"{w}"' for w in words)
            hits = text("SELECT message_id FROM message_search WHERE message_search MATCH :q")
            query = query.where(MessageRow.id.in_(hits.bindparams(q=match)))
        else:
            vector = func.to_tsvector(
                literal_column("'simple'::regconfig"), func.coalesce(MessageRow.search_text, "")
            )
            query = query.where(
                vector.op("@@")(
                    func.plainto_tsquery(literal_column("'simple'::regconfig"), " ".join(words))
                )
            )
        if before is not None:
            at, message_id = before
            query = query.where(
                or_(
                    MessageRow.created_at < at,
                    and_(MessageRow.created_at == at, MessageRow.id < message_id),
                )
            )
        query = query.order_by(MessageRow.created_at.desc(), MessageRow.id.desc()).limit(limit)
        return [_to_message(r) for r in (await self._session.execute(query)).all()]


@dataclass(frozen=True, slots=True)
class PostContext:
    """Everything posting needs to read, fetched in one statement (the hot path)."""

    group: Group | None
    role: GroupRole | None
    key: SigningKey | None
    org_country: str | None
    org_region: str | None


_RANK_TO_ROLE = {2: GroupRole.MODERATOR, 1: GroupRole.MEMBER, 0: GroupRole.OBSERVER}


async def load_post_context(
    session: AsyncSession,
    group_id: uuid.UUID,
    user_id: uuid.UUID,
    organization_id: uuid.UUID,
    kid: str,
) -> PostContext:
    """The group, the caller's strongest role in it, the signing key and the caller's
    organisation, in one round trip instead of four."""
    rank = (
        select(
            func.max(
                case(
                    (GroupMemberRow.role == GroupRole.MODERATOR.value, 2),
                    (GroupMemberRow.role == GroupRole.MEMBER.value, 1),
                    else_=0,
                )
            )
        )
        .where(
            GroupMemberRow.group_id == group_id,
            or_(
                GroupMemberRow.user_id == user_id, GroupMemberRow.organization_id == organization_id
            ),
        )
        .scalar_subquery()
    )

    def key_column(column: Any) -> Any:
        return select(column).where(SigningKeyRow.kid == kid).scalar_subquery()

    def org_column(column: Any) -> Any:
        return select(column).where(OrganizationRow.id == organization_id).scalar_subquery()

    query = select(
        GroupRow,
        rank,
        key_column(SigningKeyRow.user_id),
        key_column(SigningKeyRow.public_key),
        key_column(SigningKeyRow.label),
        key_column(SigningKeyRow.created_at),
        key_column(SigningKeyRow.revoked_at),
        org_column(OrganizationRow.country),
        org_column(OrganizationRow.region),
    ).where(GroupRow.id == group_id)
    row = (await session.execute(query)).first()
    if row is None:
        return PostContext(None, None, None, None, None)
    group_row, role_rank, key_user, key_public, key_label, key_created, key_revoked = row[:7]
    key = None
    if key_user is not None:
        key = SigningKey(
            kid=kid,
            user_id=UserId(key_user),
            public_key=key_public,
            label=key_label,
            created_at=_utc(key_created),
            revoked_at=_utc(key_revoked) if key_revoked else None,
        )
    return PostContext(
        group=to_group(group_row),
        role=_RANK_TO_ROLE.get(role_rank) if role_rank is not None else None,
        key=key,
        org_country=row[7],
        org_region=row[8],
    )


def _utc(value: Any) -> datetime:
    """Scalar subqueries lose the column type on SQLite: read naive text back as UTC."""
    moment: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
