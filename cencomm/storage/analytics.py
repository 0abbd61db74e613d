"""Seizure analytics in SQL: answers, CSV pages, hide/unhide and rebuild of the rows.

An answer sums the daily counters (`seizure_count`, `seizure_quantity`) in the `Scope` the
service decided, through their covering indexes; it never scans the reports. The analytic rows
(`seizure_report`, `seizure_item`, `seizure_transit`) serve the CSV, the report's participants,
the first and last report times, and hide/unhide. Services reach them through
`AnalyticsStore` (`unit.analytics`); the functions take a `Connection`, so a benchmark can
call them without a unit of work.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
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
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from cencomm.domain.analytics import (
    ItemSum,
    Reporter,
    ReportFigures,
    Scope,
    SeizureRows,
    week_start,
)
from cencomm.domain.analytics_rollup import ALL, ROUTE, TRANSIT, RollupDelta, split_route
from cencomm.domain.seizure_csv import ItemLine
from cencomm.storage.tables import (
    MessageRow,
    OrganizationRow,
    ReportIdentifierRow,
    SeizureCountRow,
    SeizureItemRow,
    SeizureQuantityRow,
    SeizureReportRow,
    SeizureTransitRow,
    core_table,
)

_Table = type[SeizureReportRow] | type[SeizureItemRow] | type[SeizureTransitRow]
_Rollup = type[SeizureCountRow] | type[SeizureQuantityRow]


def _in_period(table: _Table | _Rollup, scope: Scope) -> list[ColumnElement[bool]]:
    """In one of the groups with none of that group's withheld codes, in the period."""
    groups = []
    for codes, ids in scope.groups_by_withheld().items():
        in_groups = table.group_id.in_(ids)
        groups.append(and_(in_groups, table.hc.not_in(sorted(codes))) if codes else in_groups)
    where = [or_(*groups)]
    if scope.period.start is not None:
        where.append(table.occurred_on >= scope.period.start)
    if scope.period.end is not None:
        where.append(table.occurred_on <= scope.period.end)
    return where


def in_scope(table: _Table, scope: Scope) -> list[ColumnElement[bool]]:
    """Analytic rows in scope: not hidden, and as `_in_period`."""
    return [table.hidden == false(), *_in_period(table, scope)]


def _sums(table: _Rollup, scope: Scope) -> list[ColumnElement[bool]]:
    """Counters in scope (they only ever hold visible reports)."""
    return _in_period(table, scope)


def _first_and_last(connection: Connection, scope: Scope) -> tuple[datetime | None, ...]:
    """Walks `(group_id, hidden, reported_at)` from either end to the first report in scope."""
    r = SeizureReportRow
    ends: list[datetime | None] = []
    for order, pick in ((r.reported_at.asc(), min), (r.reported_at.desc(), max)):
        moments = [
            connection.execute(
                select(r.reported_at)
                .where(*in_scope(r, Scope({group_id: codes}, scope.period)))
                .order_by(order)
                .limit(1)
            ).scalar_one_or_none()
            for group_id, codes in scope.withheld.items()
        ]
        present = [m for m in moments if m is not None]
        ends.append(pick(present) if present else None)
    return tuple(ends)


def report_figures(connection: Connection, scope: Scope) -> ReportFigures:
    """Everything the analytics answer needs, summed from the daily rollups in `scope`."""
    c = SeizureCountRow
    counts: dict[str, dict[str, int]] = {}
    for dimension, name, n in connection.execute(
        select(c.dimension, c.name, func.sum(c.interceptions))
        .where(*_sums(c, scope), c.dimension != ALL)
        .group_by(c.dimension, c.name)
    ).all():
        if n:
            counts.setdefault(dimension, {})[name] = int(n)
    days = connection.execute(
        select(c.occurred_on, func.sum(c.interceptions))
        .where(*_sums(c, scope), c.dimension == ALL)
        .group_by(c.occurred_on)
    ).all()
    by_week: dict[date, int] = {}
    for day, n in days:
        if n:
            monday = week_start(day)
            by_week[monday] = by_week.get(monday, 0) + int(n)
    q = SeizureQuantityRow
    items = connection.execute(
        select(q.country, q.category, q.unit, func.sum(q.quantity), func.sum(q.interceptions))
        .where(*_sums(q, scope))
        .group_by(q.country, q.category, q.unit)
    ).all()
    first, last = _first_and_last(connection, scope)
    return ReportFigures(
        interceptions=sum(by_week.values()),
        first_report_at=first,
        last_report_at=last,
        by_country=counts.get("country", {}),
        routes={split_route(key): n for key, n in counts.get(ROUTE, {}).items()},
        transport_modes=counts.get("transport_mode", {}),
        detection=counts.get("detection", {}),
        concealment=counts.get("concealment", {}),
        infringement=counts.get("infringement", {}),
        by_week=by_week,
        by_region=counts.get("region", {}),
        transit=counts.get(TRANSIT, {}),
        items=[
            ItemSum(country, cat, unit, float(qty), int(n))
            for country, cat, unit, qty, n in items
            if n
        ],
    )


def reporters(connection: Connection, scope: Scope) -> list[Reporter]:
    """Reporting organisations, most interceptions first, ties by name."""
    r = SeizureReportRow
    n = func.count().label("n")
    rows = connection.execute(
        select(OrganizationRow.name, OrganizationRow.country, n)
        .select_from(r)
        .join(OrganizationRow, OrganizationRow.id == r.sender_organization_id)
        .where(*in_scope(r, scope))
        .group_by(OrganizationRow.name, OrganizationRow.country)
        .order_by(n.desc(), OrganizationRow.name)
    ).all()
    return [Reporter(name, country, count) for name, country, count in rows]


# -- CSV ----------------------------------------------------------------------------------------


def item_lines(
    connection: Connection, scope: Scope, after_seq: int | None, reports: int
) -> list[ItemLine]:
    """The items of the next `reports` reports after seq `after_seq`, in (seq, position) order.

    Two range scans of `(group_id, seq)`: the page's last seq, then its items; a page never
    splits a report, and no page re-reads the ones before it.
    """
    r, i = SeizureReportRow, SeizureItemRow
    where = in_scope(r, scope)
    if after_seq is not None:
        where.append(r.seq > after_seq)
    last = connection.execute(
        select(func.max(r.seq)).where(
            r.seq.in_(select(r.seq).where(*where).order_by(r.seq).limit(reports).scalar_subquery())
        )
    ).scalar_one_or_none()
    if last is None:
        return []
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
        .where(*where, r.seq <= last)
        .order_by(r.seq, i.position)
    )
    # Positional: the columns are selected in ItemLine's field order (`_asdict` per row costs
    # more than the query).
    rows: Sequence[Sequence[Any]] = connection.execute(query).all()
    return [ItemLine(*row) for row in rows]


# -- keeping the rows in step -------------------------------------------------------------------


def _rollup_upserts(dialect: str) -> tuple[Any, Any]:
    """The two counter upserts in `dialect`'s words."""
    upsert = sqlite_insert if dialect == "sqlite" else pg_insert
    c, q = core_table(SeizureCountRow).c, core_table(SeizureQuantityRow).c
    counts: Any = upsert(core_table(SeizureCountRow))
    quantities: Any = upsert(core_table(SeizureQuantityRow))
    return (
        counts.on_conflict_do_update(
            index_elements=["group_id", "occurred_on", "hc", "dimension", "name"],
            set_={"interceptions": c.interceptions + counts.excluded.interceptions},
        ),
        quantities.on_conflict_do_update(
            index_elements=["group_id", "occurred_on", "hc", "country", "category", "unit"],
            set_={
                "quantity": q.quantity + quantities.excluded.quantity,
                "interceptions": q.interceptions + quantities.excluded.interceptions,
            },
        ),
    )


# Built once per dialect: every seizure report runs them (building one costs more than running it).
_ROLLUP_UPSERTS = {dialect: _rollup_upserts(dialect) for dialect in ("sqlite", "postgresql")}


def add_to_rollups(connection: Connection, delta: RollupDelta) -> None:
    """Add the delta to the daily counters (an upsert each, in key order)."""
    upsert_counts, upsert_quantities = _ROLLUP_UPSERTS[connection.dialect.name]
    counts, quantities = delta.count_rows(), delta.quantity_rows()
    if counts:
        connection.execute(upsert_counts, counts)
    if quantities:
        connection.execute(upsert_quantities, quantities)


def _stored_rows(connection: Connection, message_id: uuid.UUID) -> SeizureRows | None:
    """A report's analytic rows as stored, in the shape the writer made them."""
    r = SeizureReportRow
    report = (
        connection.execute(select(*r.__table__.columns).where(r.message_id == message_id))
        .mappings()
        .first()
    )
    if report is None:
        return None
    row = dict(report)
    items = connection.execute(
        select(SeizureItemRow.category, SeizureItemRow.unit, SeizureItemRow.quantity).where(
            SeizureItemRow.message_id == message_id
        )
    ).mappings()
    transit = connection.execute(
        select(SeizureTransitRow.country).where(SeizureTransitRow.message_id == message_id)
    ).mappings()
    return SeizureRows(row, [dict(i) for i in items], [dict(t) for t in transit])


def set_seizure_hidden(connection: Connection, message_id: uuid.UUID, hidden: bool) -> None:
    # The guarded UPDATE decides, under the report row's lock, which transaction changes the
    # state: a concurrent hide of the same report (another process) then updates nothing and
    # so never subtracts the report from the counters twice.
    r = SeizureReportRow
    changed = connection.execute(
        update(r).where(r.message_id == message_id, r.hidden == (not hidden)).values(hidden=hidden)
    ).rowcount
    rows = _stored_rows(connection, message_id) if changed else None
    if rows is None:
        return
    add_to_rollups(connection, RollupDelta().add_all([rows], sign=-1 if hidden else 1))
    for table in (SeizureItemRow, SeizureTransitRow):
        connection.execute(
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
    """Empty the analytic tables for a rebuild. On PostgreSQL they stay locked against writes
    until the rebuild commits, so a post that commits meanwhile waits and then adds its rows to
    the rebuilt ones (SQLite has one writer anyway)."""
    if connection.dialect.name == "postgresql":
        connection.execute(
            text(
                "LOCK TABLE seizure_report, seizure_item, seizure_transit, seizure_count, "
                "seizure_quantity, report_identifier IN EXCLUSIVE MODE"
            )
        )
    for table in (
        SeizureCountRow,
        SeizureQuantityRow,
        SeizureTransitRow,
        SeizureItemRow,
        ReportIdentifierRow,
        SeizureReportRow,
    ):
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


_INSERT_REPORTS = insert(core_table(SeizureReportRow))
_INSERT_ITEMS = insert(core_table(SeizureItemRow))
_INSERT_TRANSIT = insert(core_table(SeizureTransitRow))
_INSERT_IDENTIFIERS = insert(core_table(ReportIdentifierRow))


def insert_seizure_tables(connection: Connection, batch: Sequence[SeizureRows]) -> None:
    """The reports, items, transit rows and identifiers of `batch`, each table in one
    executemany (the daily counters are the caller's: `add_to_rollups`)."""
    reports = [rows.report for rows in batch]
    items = [item for rows in batch for item in rows.items]
    transit = [t for rows in batch for t in rows.transit]
    if reports:
        connection.execute(_INSERT_REPORTS, reports)
    if items:
        connection.execute(_INSERT_ITEMS, items)
    if transit:
        connection.execute(_INSERT_TRANSIT, transit)
    identifiers = [i for rows in batch for i in rows.identifiers]
    if identifiers:
        connection.execute(_INSERT_IDENTIFIERS, identifiers)


def insert_seizure_rows(connection: Connection, batch: Sequence[SeizureRows]) -> None:
    insert_seizure_tables(connection, batch)
    add_to_rollups(
        connection, RollupDelta().add_all(rows for rows in batch if not rows.report["hidden"])
    )


def count_rows(connection: Connection) -> tuple[int, int, int]:
    """Reports, items and transit rows stored."""
    return (
        connection.execute(select(func.count()).select_from(SeizureReportRow)).scalar_one(),
        connection.execute(select(func.count()).select_from(SeizureItemRow)).scalar_one(),
        connection.execute(select(func.count()).select_from(SeizureTransitRow)).scalar_one(),
    )


class AnalyticsStore:
    """The analytic rows and daily counters, inside one unit of work."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def report_figures(self, scope: Scope) -> ReportFigures:
        return report_figures(self._session.connection(), scope)

    def reporters(self, scope: Scope) -> list[Reporter]:
        return reporters(self._session.connection(), scope)

    def item_lines(self, scope: Scope, after_seq: int | None, reports: int) -> list[ItemLine]:
        return item_lines(self._session.connection(), scope, after_seq, reports)

    def add_to_rollups(self, delta: RollupDelta) -> None:
        add_to_rollups(self._session.connection(), delta)

    def set_seizure_hidden(self, message_id: uuid.UUID, hidden: bool) -> None:
        """Hide or show a report's analytic rows, and take it out of (or put it back into) the
        counters, in the transaction that hides the message."""
        set_seizure_hidden(self._session.connection(), message_id, hidden)

    def clear_analytic_rows(self) -> None:
        clear_analytic_rows(self._session.connection())

    def stored_seizures(self, page: int) -> Iterator[list[StoredSeizure]]:
        return stored_seizures(self._session.connection(), page)

    def insert_seizure_rows(self, batch: Sequence[SeizureRows]) -> None:
        insert_seizure_rows(self._session.connection(), batch)

    def count_rows(self) -> tuple[int, int, int]:
        return count_rows(self._session.connection())
