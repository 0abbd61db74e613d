"""Seizure analytics in SQL: aggregates, CSV pages, hide/unhide and rebuild of the rows.

Every aggregate reads one analytic table through its `(group_id, hidden, occurred_on)` index
(the item aggregate through a covering index), filtered by the `Scope` the service decided.
These functions take a synchronous `Connection`: a whole answer is computed in one hop to the
database (`Database.run_read`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    delete,
    false,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from cencomm.domain.analytics import ItemSum, Reporter, ReportFigures, Scope, SeizureRows
from cencomm.domain.seizure_csv import ItemLine
from cencomm.storage.tables import (
    MessageRow,
    OrganizationRow,
    SeizureItemRow,
    SeizureReportRow,
    SeizureTransitRow,
)

_Table = type[SeizureReportRow] | type[SeizureItemRow] | type[SeizureTransitRow]


def _in_scope(table: _Table, scope: Scope) -> list[ColumnElement[bool]]:
    """Not hidden, in one of the groups with none of that group's withheld codes, in period."""
    groups = []
    for codes, ids in scope.groups_by_withheld().items():
        in_groups = table.group_id.in_(ids)
        groups.append(and_(in_groups, table.hc.not_in(sorted(codes))) if codes else in_groups)
    where = [table.hidden == false(), or_(*groups)]
    if scope.period.start is not None:
        where.append(table.occurred_on >= scope.period.start)
    if scope.period.end is not None:
        where.append(table.occurred_on <= scope.period.end)
    return where


def _counts(connection: Connection, column: Any, scope: Scope) -> dict[Any, int]:
    rows = connection.execute(
        select(column, func.count())
        .where(*_in_scope(SeizureReportRow, scope), column.is_not(None))
        .group_by(column)
    )
    return {key: n for key, n in rows.all()}


def report_figures(connection: Connection, scope: Scope) -> ReportFigures:
    """Everything the analytics answer needs, counted over the reports in `scope`."""
    r = SeizureReportRow
    head = connection.execute(
        select(func.count(), func.min(r.reported_at), func.max(r.reported_at)).where(
            *_in_scope(r, scope)
        )
    ).one()
    routes = connection.execute(
        select(r.origin, r.destination, func.count())
        .where(*_in_scope(r, scope))
        .group_by(r.origin, r.destination)
    ).all()
    i = SeizureItemRow
    items = connection.execute(
        select(
            i.country, i.category, i.unit, func.sum(i.quantity), func.count(i.message_id.distinct())
        )
        .where(*_in_scope(i, scope))
        .group_by(i.country, i.category, i.unit)
    ).all()
    t = SeizureTransitRow
    transit = connection.execute(
        select(t.country, func.count(t.message_id.distinct()))
        .where(*_in_scope(t, scope))
        .group_by(t.country)
    ).all()
    return ReportFigures(
        interceptions=head[0],
        first_report_at=head[1],
        last_report_at=head[2],
        by_country=_counts(connection, r.country, scope),
        routes={(o, d): n for o, d, n in routes},
        transport_modes=_counts(connection, r.transport_mode, scope),
        detection=_counts(connection, r.detection, scope),
        concealment=_counts(connection, r.concealment, scope),
        infringement=_counts(connection, r.infringement, scope),
        by_week=_counts(connection, r.week_start, scope),
        by_region=_counts(connection, r.region, scope),
        transit={country: n for country, n in transit},
        items=[ItemSum(c, cat, unit, float(q), n) for c, cat, unit, q, n in items],
    )


def reporters(connection: Connection, scope: Scope) -> list[Reporter]:
    """Reporting organisations, most interceptions first, ties by name."""
    r = SeizureReportRow
    n = func.count().label("n")
    rows = connection.execute(
        select(OrganizationRow.name, OrganizationRow.country, n)
        .select_from(r)
        .join(OrganizationRow, OrganizationRow.id == r.sender_organization_id)
        .where(*_in_scope(r, scope))
        .group_by(OrganizationRow.name, OrganizationRow.country)
        .order_by(n.desc(), OrganizationRow.name)
    ).all()
    return [Reporter(name, country, count) for name, country, count in rows]


# -- CSV ----------------------------------------------------------------------------------------


def item_lines(
    connection: Connection, scope: Scope, after: tuple[int, int] | None, limit: int
) -> list[ItemLine]:
    """A page of items in (seq, position) order, after the `(seq, position)` given (keyset)."""
    r, i = SeizureReportRow, SeizureItemRow
    query = (
        select(
            r.message_id,
            r.seq,
            i.position,
            r.occurred_on,
            r.country,
            OrganizationRow.name.label("organization"),
            r.origin,
            r.transit,
            r.destination,
            r.transport_mode,
            r.detection,
            r.concealment,
            r.infringement,
            i.category,
            i.quantity,
            i.unit,
            i.hs_code,
        )
        .join(i, i.message_id == r.message_id)
        .join(OrganizationRow, OrganizationRow.id == r.sender_organization_id)
        .where(*_in_scope(r, scope))
        .order_by(r.seq, i.position)
        .limit(limit)
    )
    if after is not None:
        seq, position = after
        query = query.where(or_(r.seq > seq, and_(r.seq == seq, i.position > position)))
    return [ItemLine(**row._asdict()) for row in connection.execute(query).all()]


# -- keeping the rows in step -------------------------------------------------------------------


async def set_seizure_hidden(session: AsyncSession, message_id: uuid.UUID, hidden: bool) -> None:
    """Hide or show a report's analytic rows, in the transaction that hides the message."""
    for table in (SeizureReportRow, SeizureItemRow, SeizureTransitRow):
        await session.execute(
            update(table).where(table.message_id == message_id).values(hidden=hidden)
        )


@dataclass(frozen=True, slots=True)
class StoredSeizure:
    """A stored seizure message, as a rebuild needs it."""

    id: uuid.UUID
    group_id: uuid.UUID
    seq: int
    hc: str
    jws: str
    sender_organization_id: uuid.UUID
    region: str | None
    created_at: datetime
    hidden: bool


def clear_analytic_rows(connection: Connection) -> None:
    for table in (SeizureTransitRow, SeizureItemRow, SeizureReportRow):
        connection.execute(delete(table))


def stored_seizures(connection: Connection, page: int) -> Iterator[list[StoredSeizure]]:
    """Every seizure message, page by page in (group, seq) order (keyset, bounded memory)."""
    m = MessageRow
    after: tuple[uuid.UUID, int] | None = None
    while True:
        query = (
            select(
                m.id,
                m.group_id,
                m.seq,
                m.hc,
                m.jws,
                m.sender_organization_id,
                OrganizationRow.region,
                m.created_at,
                m.hidden,
            )
            .outerjoin(OrganizationRow, OrganizationRow.id == m.sender_organization_id)
            .where(m.typ == "seizure")
            .order_by(m.group_id, m.seq)
            .limit(page)
        )
        if after is not None:
            query = query.where(
                or_(m.group_id > after[0], and_(m.group_id == after[0], m.seq > after[1]))
            )
        rows = [StoredSeizure(*row) for row in connection.execute(query).all()]
        if not rows:
            return
        yield rows
        after = (rows[-1].group_id, rows[-1].seq)


def insert_seizure_rows(connection: Connection, batch: Sequence[SeizureRows]) -> None:
    reports = [rows.report for rows in batch]
    items = [item for rows in batch for item in rows.items]
    transit = [t for rows in batch for t in rows.transit]
    if reports:
        connection.execute(insert(SeizureReportRow), reports)
    if items:
        connection.execute(insert(SeizureItemRow), items)
    if transit:
        connection.execute(insert(SeizureTransitRow), transit)


def count_rows(connection: Connection) -> tuple[int, int, int]:
    """Reports, items and transit rows stored."""
    return (
        connection.execute(select(func.count()).select_from(SeizureReportRow)).scalar_one(),
        connection.execute(select(func.count()).select_from(SeizureItemRow)).scalar_one(),
        connection.execute(select(func.count()).select_from(SeizureTransitRow)).scalar_one(),
    )
