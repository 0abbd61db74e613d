"""WatchStore: users' watches, the reports' identifiers they are matched against, and matches."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.orm import Session

from cencomm.domain.identifiers import Identifier, IdentifierKind
from cencomm.domain.watch_lists import MatchMode, Selector, Watch, candidate_values
from cencomm.storage.tables import (
    ReportIdentifierRow,
    SeizureReportRow,
    UserRow,
    WatchMatchRow,
    WatchRow,
)


@dataclass(frozen=True, slots=True)
class ReportFacts:
    """What matching needs of a report (never its content)."""

    message_id: uuid.UUID
    group_id: uuid.UUID
    hc: str
    hidden: bool
    reported_at: datetime


@dataclass(frozen=True, slots=True)
class StoredMatch:
    """A match row with its report's state, for deciding per reader what to show."""

    id: uuid.UUID
    watch_id: uuid.UUID
    identifier: Identifier
    matched_at: datetime
    report: ReportFacts


def _watch(row: WatchRow) -> Watch:
    return Watch(
        id=row.id,
        user_id=row.user_id,
        selector=Selector(IdentifierKind(row.kind), MatchMode(row.match), row.value, row.label),
        reason=row.reason,
        expires_at=row.expires_at,
        created_at=row.created_at,
        deleted_at=row.deleted_at,
    )


def _facts(row: SeizureReportRow) -> ReportFacts:
    return ReportFacts(row.message_id, row.group_id, row.hc, row.hidden, row.reported_at)


class WatchStore:
    def __init__(self, session: Session) -> None:
        self._session = session

    # -- watches ---------------------------------------------------------------------------

    def lock_user(self, user_id: uuid.UUID) -> None:
        """Lock the user's row (PostgreSQL; SQLite's writers take turns anyway), so that two
        creates at once cannot both pass the limit of active watches."""
        self._session.execute(select(UserRow.id).where(UserRow.id == user_id).with_for_update())

    def count_active(self, user_id: uuid.UUID, now: datetime) -> int:
        return int(
            self._session.scalar(
                select(func.count())
                .select_from(WatchRow)
                .where(
                    WatchRow.user_id == user_id,
                    WatchRow.deleted_at.is_(None),
                    WatchRow.expires_at > now,
                )
            )
            or 0
        )

    def insert(self, watch: Watch) -> None:
        s = watch.selector
        self._session.add(
            WatchRow(
                id=watch.id,
                user_id=watch.user_id,
                kind=s.kind.value,
                match=s.match.value,
                value=s.value,
                label=s.label,
                reason=watch.reason,
                expires_at=watch.expires_at,
                created_at=watch.created_at,
            )
        )
        self._session.flush()

    def find_own(self, watch_id: uuid.UUID, user_id: uuid.UUID) -> Watch | None:
        """The user's watch, None when absent, someone else's or deleted."""
        row = self._session.scalar(
            select(WatchRow).where(
                WatchRow.id == watch_id,
                WatchRow.user_id == user_id,
                WatchRow.deleted_at.is_(None),
            )
        )
        return None if row is None else _watch(row)

    def list_own(
        self,
        user_id: uuid.UUID,
        *,
        active_at: datetime | None,
        before: tuple[datetime, uuid.UUID] | None,
        limit: int,
    ) -> list[Watch]:
        """The user's watches (not deleted), newest first; with `active_at` only unexpired."""
        query = select(WatchRow).where(WatchRow.user_id == user_id, WatchRow.deleted_at.is_(None))
        if active_at is not None:
            query = query.where(WatchRow.expires_at > active_at)
        if before is not None:
            at, last_id = before
            query = query.where(
                or_(
                    WatchRow.created_at < at,
                    and_(WatchRow.created_at == at, WatchRow.id < last_id),
                )
            )
        rows = self._session.scalars(
            query.order_by(WatchRow.created_at.desc(), WatchRow.id.desc()).limit(limit)
        )
        return [_watch(row) for row in rows.all()]

    def delete(self, watch_id: uuid.UUID, now: datetime) -> None:
        self._session.execute(
            update(WatchRow).where(WatchRow.id == watch_id).values(deleted_at=now)
        )

    # -- matching --------------------------------------------------------------------------

    def report(self, message_id: uuid.UUID) -> ReportFacts | None:
        row = self._session.get(SeizureReportRow, message_id)
        return None if row is None else _facts(row)

    def report_identifiers(self, message_id: uuid.UUID) -> list[Identifier]:
        rows = self._session.execute(
            select(ReportIdentifierRow.kind, ReportIdentifierRow.value, ReportIdentifierRow.label)
            .where(ReportIdentifierRow.message_id == message_id)
            .order_by(ReportIdentifierRow.kind, ReportIdentifierRow.value)
        )
        return [Identifier(IdentifierKind(r[0]), r[1], r[2]) for r in rows.all()]

    def with_candidates(self, message_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        """Of these messages, the seizure reports one of whose identifiers some watch (not
        deleted, not expired) names, exactly or by a prefix: two statements for a whole batch,
        so that reports nobody watches (most) cost no read of their own. A superset of what
        matches (who may read, and when the watch began, are decided per report)."""
        if not message_ids:
            return set()
        rows = self._session.execute(
            select(
                ReportIdentifierRow.message_id,
                ReportIdentifierRow.kind,
                ReportIdentifierRow.value,
                ReportIdentifierRow.label,
            ).where(ReportIdentifierRow.message_id.in_(list(message_ids)))
        ).all()
        wanted: dict[uuid.UUID, set[tuple[str, str]]] = defaultdict(set)
        for message_id, kind, value, label in rows:
            identifier = Identifier(IdentifierKind(kind), value, label)
            for _, candidate in candidate_values(identifier):
                wanted[message_id].add((kind, candidate))
        values: dict[str, set[str]] = defaultdict(set)
        for pairs in wanted.values():
            for kind, candidate in pairs:
                values[kind].add(candidate)
        if not values:
            return set()
        watched = set(
            self._session.execute(
                select(WatchRow.kind, WatchRow.value)
                .where(
                    or_(
                        *(
                            and_(WatchRow.kind == kind, WatchRow.value.in_(sorted(found)))
                            for kind, found in sorted(values.items())
                        )
                    ),
                    WatchRow.deleted_at.is_(None),
                )
                .distinct()
            ).all()
        )
        return {message_id for message_id, pairs in wanted.items() if pairs & watched}

    def candidates(self, identifiers: Iterable[Identifier], at: datetime) -> list[Watch]:
        """Watches that were active at `at` whose (kind, value) is one of the identifiers' or,
        for prefix watches, one of their prefixes (`candidate_values`), of enabled users;
        looked up through the (kind, value) index."""
        values: dict[str, set[str]] = defaultdict(set)
        for identifier in identifiers:
            for _, value in candidate_values(identifier):
                values[identifier.kind.value].add(value)
        if not values:
            return []
        by_kind = [
            and_(WatchRow.kind == kind, WatchRow.value.in_(sorted(found)))
            for kind, found in sorted(values.items())
        ]
        rows = self._session.scalars(
            select(WatchRow)
            .join(UserRow, UserRow.id == WatchRow.user_id)
            .where(
                or_(*by_kind),
                WatchRow.deleted_at.is_(None),
                WatchRow.created_at <= at,
                WatchRow.expires_at > at,
                UserRow.disabled.is_(False),
            )
        )
        return [_watch(row) for row in rows.all()]

    def matched_watch_ids(self, message_id: uuid.UUID) -> set[uuid.UUID]:
        rows = self._session.scalars(
            select(WatchMatchRow.watch_id).where(WatchMatchRow.message_id == message_id)
        )
        return set(rows.all())

    def insert_matches(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            self._session.execute(insert(WatchMatchRow), list(rows))

    def list_matches(
        self, watch_id: uuid.UUID, before: tuple[datetime, uuid.UUID] | None, limit: int
    ) -> list[StoredMatch]:
        """A watch's matches, newest first, each with its report's state."""
        query = (
            select(WatchMatchRow, SeizureReportRow)
            .join(SeizureReportRow, SeizureReportRow.message_id == WatchMatchRow.message_id)
            .where(WatchMatchRow.watch_id == watch_id)
        )
        if before is not None:
            at, last_id = before
            query = query.where(
                or_(
                    WatchMatchRow.matched_at < at,
                    and_(WatchMatchRow.matched_at == at, WatchMatchRow.id < last_id),
                )
            )
        rows = self._session.execute(
            query.order_by(WatchMatchRow.matched_at.desc(), WatchMatchRow.id.desc()).limit(limit)
        )
        return [
            StoredMatch(
                id=match.id,
                watch_id=match.watch_id,
                identifier=Identifier(IdentifierKind(match.kind), match.value, match.label),
                matched_at=match.matched_at,
                report=_facts(report),
            )
            for match, report in rows.all()
        ]

    def find_match(self, match_id: uuid.UUID) -> tuple[StoredMatch, Watch] | None:
        row = self._session.execute(
            select(WatchMatchRow, SeizureReportRow, WatchRow)
            .join(SeizureReportRow, SeizureReportRow.message_id == WatchMatchRow.message_id)
            .join(WatchRow, WatchRow.id == WatchMatchRow.watch_id)
            .where(WatchMatchRow.id == match_id)
        ).first()
        if row is None:
            return None
        match, report, watch = row
        stored = StoredMatch(
            id=match.id,
            watch_id=match.watch_id,
            identifier=Identifier(IdentifierKind(match.kind), match.value, match.label),
            matched_at=match.matched_at,
            report=_facts(report),
        )
        return stored, _watch(watch)
