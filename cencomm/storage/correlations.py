"""CorrelationStore: reports that share identifiers, read through the identifier indexes.

Every statement starts from one report's identifiers (at most ~110: `seizure_standard` bounds
documents, containers and parties) or from one group, and reaches the other reports through
`ix_report_identifier_kind_value` (kind, value) or `ix_report_identifier_group` (group_id,
kind, value); a report's state (hidden, handling code, seq, country) is read from
`seizure_report` by its key. Hidden reports never take part.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, not_, or_, select, true, tuple_
from sqlalchemy.orm import Session, aliased

from cencomm.domain.correlations import (
    RED,
    CorrelationPosition,
    GroupCorrelation,
    Readership,
    RelatedReport,
)
from cencomm.domain.identifiers import Identifier, IdentifierKind
from cencomm.domain.ids import GroupId, MessageId
from cencomm.storage.tables import GroupRow, ReportIdentifierRow, SeizureReportRow

_MINE = aliased(ReportIdentifierRow, name="mine")
_OTHER = aliased(ReportIdentifierRow, name="other")
_REPORT = SeizureReportRow


def _identifier(kind: str, value: str, label: str) -> Identifier:
    return Identifier(IdentifierKind(kind), value, label)


def _readable(readership: Readership, group_id: ColumnElement[Any]) -> ColumnElement[bool]:
    """The reports `readership` may read, as a condition on their `group_id` (given: never
    `seizure_report`'s own, whose indexes would make a planner start from the groups' reports)
    and `seizure_report.hc`."""
    if readership.everywhere:
        if not readership.restricted:
            return true()
        return not_(
            and_(
                group_id.in_(list(readership.restricted)),
                _REPORT.hc.in_(sorted(readership.withheld)),
            )
        )
    condition: ColumnElement[bool] = group_id.in_(list(readership.full))
    if readership.restricted:
        condition = or_(
            condition,
            and_(
                group_id.in_(list(readership.restricted)),
                _REPORT.hc.not_in(sorted(readership.withheld)),
            ),
        )
    return condition


class CorrelationStore:
    def __init__(self, session: Session) -> None:
        self._session = session

    def identifiers(self, message_id: uuid.UUID) -> list[Identifier]:
        """The report's identifiers, by kind and value (its primary key's order)."""
        rows = self._session.execute(
            select(_MINE.kind, _MINE.value, _MINE.label)
            .where(_MINE.message_id == message_id)
            .order_by(_MINE.kind, _MINE.value)
        )
        return [_identifier(*row) for row in rows.all()]

    def related(
        self, message_id: uuid.UUID, readership: Readership, limit: int
    ) -> list[RelatedReport]:
        """The reports `readership` may read, other than this one and not hidden, that share an
        identifier with it: most shared identifiers first, then newest; each with the shared
        identifiers as that report wrote them."""
        # The reports sharing an identifier, counted first (from this report's identifiers
        # through the (kind, value) index), and only then their state: materialised, so no
        # planner starts from the readable groups' reports instead.
        matches = (
            select(
                _OTHER.message_id.label("message_id"),
                _OTHER.group_id.label("group_id"),
                func.count().label("shared"),
            )
            .select_from(_MINE)
            .join(_OTHER, and_(_OTHER.kind == _MINE.kind, _OTHER.value == _MINE.value))
            .where(_MINE.message_id == message_id, _OTHER.message_id != message_id)
            .group_by(_OTHER.message_id, _OTHER.group_id)
            .cte("matches")
            .prefix_with("MATERIALIZED")
        )
        rows = self._session.execute(
            select(
                matches.c.message_id,
                matches.c.group_id,
                GroupRow.code,
                _REPORT.seq,
                _REPORT.country,
                _REPORT.occurred_on,
                _REPORT.reported_at,
                _REPORT.hc,
            )
            .select_from(matches)
            .join(_REPORT, _REPORT.message_id == matches.c.message_id)
            .join(GroupRow, GroupRow.id == matches.c.group_id)
            .where(_REPORT.hidden.is_(False), _readable(readership, matches.c.group_id))
            .order_by(matches.c.shared.desc(), _REPORT.reported_at.desc(), matches.c.message_id)
            .limit(limit)
        ).all()
        if not rows:
            return []
        by_report = self._shared(message_id, [row[0] for row in rows])
        return [
            RelatedReport(
                message_id=MessageId(row[0]),
                group_id=GroupId(row[1]),
                group_code=row[2],
                seq=int(row[3]),
                country=row[4],
                occurred_on=row[5],
                reported_at=row[6],
                hc=row[7],
                shared=tuple(sorted(by_report[row[0]])),
            )
            for row in rows
        ]

    def _shared(
        self, message_id: uuid.UUID, others: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[Identifier]]:
        """For each of `others`, its identifiers that `message_id` carries too."""
        rows = self._session.execute(
            select(_OTHER.message_id, _OTHER.kind, _OTHER.value, _OTHER.label)
            .join(
                _MINE,
                and_(
                    _MINE.message_id == message_id,
                    _MINE.kind == _OTHER.kind,
                    _MINE.value == _OTHER.value,
                ),
            )
            .where(_OTHER.message_id.in_(list(others)))
        )
        found: dict[uuid.UUID, list[Identifier]] = defaultdict(list)
        for other, kind, value, label in rows.all():
            found[other].append(_identifier(kind, value, label))
        return found

    def elsewhere(self, message_id: uuid.UUID, visible: Sequence[GroupId]) -> list[Identifier]:
        """This report's identifiers that also occur in a report, neither hidden nor TLP:RED,
        of a group outside `visible`. One index probe per identifier, stopping at the first
        match: only whether one exists is ever asked."""
        match = (
            select(_OTHER.message_id)
            .join(_REPORT, _REPORT.message_id == _OTHER.message_id)
            .where(
                _OTHER.kind == _MINE.kind,
                _OTHER.value == _MINE.value,
                _OTHER.group_id.not_in(list(visible)),
                _REPORT.hidden.is_(False),
                _REPORT.hc != RED,
            )
        )
        rows = self._session.execute(
            select(_MINE.kind, _MINE.value, _MINE.label)
            .where(_MINE.message_id == message_id, exists(match))
            .order_by(_MINE.kind, _MINE.value)
        )
        return [_identifier(*row) for row in rows.all()]

    def in_group(
        self,
        group_id: uuid.UUID,
        withheld: frozenset[str],
        after: CorrelationPosition | None,
        limit: int,
    ) -> list[GroupCorrelation]:
        """Identifiers seen in more than one report of the group that is neither hidden nor
        under a `withheld` code: most reports first, then by kind and value."""
        item = ReportIdentifierRow
        reports = func.count().label("reports")
        readable = [item.group_id == group_id, _REPORT.hidden.is_(False)]
        if withheld:
            readable.append(_REPORT.hc.not_in(sorted(withheld)))
        having: list[ColumnElement[bool]] = [reports > 1]
        if after is not None:
            having.append(
                or_(
                    reports < after.reports,
                    and_(
                        reports == after.reports,
                        or_(
                            item.kind > after.kind,
                            and_(item.kind == after.kind, item.value > after.value),
                        ),
                    ),
                )
            )
        rows = self._session.execute(
            select(
                item.kind,
                item.value,
                func.min(item.label),
                reports,
                func.min(_REPORT.occurred_on),
                func.max(_REPORT.occurred_on),
            )
            .join(_REPORT, _REPORT.message_id == item.message_id)
            .where(*readable)
            .group_by(item.kind, item.value)
            .having(*having)
            .order_by(reports.desc(), item.kind, item.value)
            .limit(limit)
        ).all()
        if not rows:
            return []
        countries = self._countries(readable, [(row[0], row[1]) for row in rows])
        return [
            GroupCorrelation(
                identifier=_identifier(kind, value, label),
                reports=int(count),
                countries=tuple(sorted(countries[(kind, value)])),
                first_seen=first,
                last_seen=last,
            )
            for kind, value, label, count, first, last in rows
        ]

    def _countries(
        self, readable: list[ColumnElement[bool]], pairs: list[tuple[str, str]]
    ) -> dict[tuple[str, str], set[str]]:
        item = ReportIdentifierRow
        rows = self._session.execute(
            select(item.kind, item.value, _REPORT.country)
            .distinct()
            .join(_REPORT, _REPORT.message_id == item.message_id)
            .where(*readable, tuple_(item.kind, item.value).in_(pairs))
        )
        found: dict[tuple[str, str], set[str]] = defaultdict(set)
        for kind, value, country in rows.all():
            found[(kind, value)].add(country)
        return found
