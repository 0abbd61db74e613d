"""MessageStore: the timelines, idempotency lookups, seizure rows and full-text search."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    Select,
    String,
    Uuid,
    and_,
    bindparam,
    false,
    func,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from cencomm.domain.groups import Group, GroupRole, GroupStatus
from cencomm.domain.ids import GroupId, UserId
from cencomm.domain.keys import SigningKey
from cencomm.domain.messages import (
    NO_FILTERS,
    SearchFilters,
    SearchPosition,
    Sender,
    StoredMessage,
)
from cencomm.domain.seizure_standard import ReportForm
from cencomm.storage.group_roles import effective, role_columns
from cencomm.storage.tables import (
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
    OrganizationRow.name,
)


def _select() -> Select[Any]:
    query = (
        select(*_COLUMNS)
        .join(UserRow, UserRow.id == MessageRow.sender_id)
        .join(OrganizationRow, OrganizationRow.id == UserRow.organization_id)
    )
    return cast("Select[Any]", query)  # wider than mypy's Select generics spell


def _to_message(row: Any) -> StoredMessage:
    return StoredMessage(
        id=row[0],
        group_id=row[1],
        seq=row[2],
        typ=row[3],
        hc=row[4],
        sender=Sender(
            id=row[5], display_name=row[6], organization_id=row[7], organization_name=row[14]
        ),
        kid=row[8],
        jws=row[9],
        created_at=row[10],
        reply_to=row[11],
        hidden=row[12],
        hidden_reason=row[13],
    )


class MessageStore:
    def __init__(self, session: Session) -> None:
        self._session = session
        self._is_sqlite = session.get_bind().dialect.name == "sqlite"

    def post_context(
        self, group_id: uuid.UUID, user_id: uuid.UUID, organization_id: uuid.UUID, kid: str
    ) -> PostContext:
        """The group, the caller's effective role in it, the signing key and the caller's
        organisation, in one round trip instead of four."""
        # On the Core connection: no ORM execution step on the hot path.
        parameters = {
            "group_id": group_id,
            "user_id": user_id,
            "organization_id": organization_id,
            "kid": kid,
        }
        row = self._session.connection().execute(_POST_CONTEXT, parameters).first()
        if row is None:
            return PostContext(None, None, None, None, None)
        group = Group(
            id=GroupId(row[0]),
            code=row[1],
            name=row[2],
            description=row[3],
            starts_at=row[4],
            ends_at=row[5],
            status=GroupStatus(row[6]),
            roster_visible=row[7],
            created_at=row[8],
            report_form=ReportForm(row[18]),
        )
        own_role, organization_role = row[9:11]
        key_user, key_public, key_label, key_created, key_revoked = row[11:16]
        key = None
        if key_user is not None:
            key = SigningKey(
                kid=kid,
                user_id=UserId(_uuid(key_user)),
                public_key=key_public,
                label=key_label,
                created_at=_utc(key_created),
                revoked_at=_utc(key_revoked) if key_revoked else None,
            )
        return PostContext(
            group=group,
            role=effective(own_role, organization_role),
            key=key,
            org_country=row[16],
            org_region=row[17],
        )

    def in_group(self, message_id: uuid.UUID, group_id: uuid.UUID) -> bool:
        """Whether the message exists and belongs to the group (a reply's `reply_to`)."""
        found = (
            self._session.connection()
            .execute(
                select(MessageRow.id).where(
                    MessageRow.id == message_id, MessageRow.group_id == group_id
                )
            )
            .first()
        )
        return found is not None

    # -- reading ---------------------------------------------------------------------------

    def latest(self, group_ids: Sequence[uuid.UUID]) -> dict[GroupId, tuple[int, uuid.UUID]]:
        """Each group's last message: its seq and id (groups without one are left out). Live
        delivery polls this while the bus is down (`web/live_poll.py`)."""
        if not group_ids:
            return {}
        rows = self._session.connection().execute(
            select(MessageRow.group_id, MessageRow.seq, MessageRow.id)
            .join(GroupRow, and_(GroupRow.id == MessageRow.group_id))
            .where(GroupRow.id.in_(list(group_ids)), MessageRow.seq == GroupRow.last_seq)
        )
        return {GroupId(row[0]): (row[1], row[2]) for row in rows}

    def find(self, message_id: uuid.UUID) -> StoredMessage | None:
        row = self._session.execute(_select().where(MessageRow.id == message_id)).first()
        return _to_message(row) if row else None

    def page(
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
            rows = self._session.execute(query.limit(limit)).all()
            return [_to_message(r) for r in reversed(rows)]
        query = query.where(MessageRow.seq > (after or 0)).order_by(MessageRow.seq)
        return [_to_message(r) for r in self._session.execute(query.limit(limit)).all()]

    def set_hidden(
        self,
        message_id: uuid.UUID,
        hidden: bool,
        reason: str | None,
        by: uuid.UUID,
        now: datetime,
    ) -> None:
        self._session.execute(
            update(MessageRow)
            .where(MessageRow.id == message_id)
            .values(
                hidden=hidden,
                hidden_reason=reason if hidden else None,
                hidden_at=now if hidden else None,
                hidden_by=by if hidden else None,
            )
        )

    def search(
        self,
        words: Sequence[str],
        *,
        full_groups: Sequence[uuid.UUID] | None,
        restricted_groups: Sequence[uuid.UUID],
        moderated_groups: Sequence[uuid.UUID] | None,
        withheld: frozenset[str],
        before: SearchPosition | None,
        limit: int,
        filters: SearchFilters = NO_FILTERS,
    ) -> list[StoredMessage]:
        """Messages matching every word (each as a prefix, case-insensitively) and `filters`,
        newest first, within what the reader may see.

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
        query = query.where(self._matching(words))
        query = _filtered(query, filters)
        if before is not None:
            query = query.where(
                or_(
                    MessageRow.created_at < before.created_at,
                    and_(
                        MessageRow.created_at == before.created_at,
                        or_(
                            MessageRow.seq < before.seq,
                            and_(MessageRow.seq == before.seq, MessageRow.id < before.id),
                        ),
                    ),
                )
            )
        query = query.order_by(
            MessageRow.created_at.desc(), MessageRow.seq.desc(), MessageRow.id.desc()
        ).limit(limit)
        return [_to_message(r) for r in self._session.execute(query).all()]

    def _matching(self, words: Sequence[str]) -> Any:
        """Every word as a prefix. Words reach the full-text syntax only quoted, so nothing a
        user types is ever read as an operator (`OR`, `NEAR`, `*`, `:`, `&`, `!`, column names)."""
        if self._is_sqlite:
            # FTS5: "word"* is a prefix token; a double quote inside is doubled.
            match = " ".join('"' + w.replace('"', '""') + '"*' for w in words)
            hits = text("SELECT message_id FROM message_search WHERE message_search MATCH :q")
            return MessageRow.id.in_(hits.bindparams(q=match))
        # to_tsquery: 'word':* is a prefix lexeme; quotes and backslashes inside are escaped.
        terms = " & ".join("'" + w.replace("\\", "\\\\").replace("'", "''") + "':*" for w in words)
        vector = func.to_tsvector(
            literal_column("'simple'::regconfig"), func.coalesce(MessageRow.search_text, "")
        )
        return vector.op("@@")(func.to_tsquery(literal_column("'simple'::regconfig"), terms))


def _filtered(query: Select[Any], filters: SearchFilters) -> Select[Any]:
    """The search's filters as conditions on the message (subqueries on indexed keys)."""
    if filters.typ is not None:
        query = query.where(MessageRow.typ == filters.typ)
    if filters.sender_org is not None:
        query = query.where(MessageRow.sender_organization_id == filters.sender_org)
    if filters.country is not None:
        query = query.where(
            MessageRow.sender_organization_id.in_(
                select(OrganizationRow.id).where(OrganizationRow.country == filters.country)
            )
        )
    if filters.category is not None:
        query = query.where(
            MessageRow.id.in_(
                select(SeizureItemRow.message_id).where(SeizureItemRow.category == filters.category)
            )
        )
    if filters.from_date is None and filters.to_date is None:
        return query
    # A seizure report is dated by `occurred_on`, any other message by its UTC posting day.
    occurred = select(SeizureReportRow.message_id)
    posted = [MessageRow.typ != "seizure"]
    if filters.from_date is not None:
        occurred = occurred.where(SeizureReportRow.occurred_on >= filters.from_date)
        posted.append(MessageRow.created_at >= _day_start(filters.from_date))
    if filters.to_date is not None:
        occurred = occurred.where(SeizureReportRow.occurred_on <= filters.to_date)
        posted.append(MessageRow.created_at < _day_start(filters.to_date + timedelta(days=1)))
    return query.where(or_(MessageRow.id.in_(occurred), and_(*posted)))


def _day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class PostContext:
    """Everything posting needs to read, fetched in one statement (the hot path)."""

    group: Group | None
    role: GroupRole | None
    key: SigningKey | None
    org_country: str | None
    org_region: str | None


def _post_context_query() -> Select[Any]:
    """Built once: the statement's shape never changes, only its parameters."""
    group_id = bindparam("group_id", type_=Uuid())
    user_id = bindparam("user_id", type_=Uuid())
    organization_id = bindparam("organization_id", type_=Uuid())
    kid = bindparam("kid", type_=String())

    def key_column(column: Any) -> Any:
        return select(column).where(SigningKeyRow.kid == kid).scalar_subquery()

    def org_column(column: Any) -> Any:
        return select(column).where(OrganizationRow.id == organization_id).scalar_subquery()

    group = GroupRow.__table__.c
    query = select(
        group.id,
        group.code,
        group.name,
        group.description,
        group.starts_at,
        group.ends_at,
        group.status,
        group.roster_visible,
        group.created_at,
        *role_columns(group_id, user_id, organization_id),
        key_column(SigningKeyRow.user_id),
        key_column(SigningKeyRow.public_key),
        key_column(SigningKeyRow.label),
        key_column(SigningKeyRow.created_at),
        key_column(SigningKeyRow.revoked_at),
        org_column(OrganizationRow.country),
        org_column(OrganizationRow.region),
        group.report_form,
    ).where(group.id == group_id)
    return cast("Select[Any]", query)


_POST_CONTEXT = _post_context_query()


def _uuid(value: Any) -> uuid.UUID:
    """Scalar subqueries may lose the column type: accept the stored text form too."""
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _utc(value: Any) -> datetime:
    """Scalar subqueries lose the column type on SQLite: read naive text back as UTC."""
    moment: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
