"""The standard form's identifiers in analytics: the printed report's conveyance and parties
section, and which reports' JWS the CSV must read for the standard form's columns."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Connection, and_, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from cencomm.domain.analytics import IdentifierCount, Scope
from cencomm.domain.seizure_csv import MODES_WITHOUT_IDENTIFIERS
from cencomm.storage.analytics import in_scope
from cencomm.storage.tables import MessageRow, ReportIdentifierRow, SeizureReportRow


def _identifiers_in_scope(scope: Scope) -> list[ColumnElement[bool]]:
    """Identifiers of the reports in scope: by the report's key, as `in_scope` decides."""
    r, ri = SeizureReportRow, ReportIdentifierRow
    return [ri.group_id.in_(scope.group_ids), ri.message_id == r.message_id, *in_scope(r, scope)]


def identifier_kinds(connection: Connection, scope: Scope) -> dict[str, int]:
    """How many reports in scope name at least one identifier of each kind."""
    ri = ReportIdentifierRow
    rows = connection.execute(
        select(ri.kind, func.count(func.distinct(ri.message_id)))
        .select_from(ri)
        .join(SeizureReportRow, SeizureReportRow.message_id == ri.message_id)
        .where(*_identifiers_in_scope(scope))
        .group_by(ri.kind)
    ).all()
    return {kind: int(n) for kind, n in rows}


def top_identifiers(
    connection: Connection, scope: Scope, kinds: Sequence[str], limit: int
) -> list[IdentifierCount]:
    """The identifiers of these kinds named by most reports in scope (ties: kind, value), with
    the reporting countries of those reports."""
    r, ri = SeizureReportRow, ReportIdentifierRow
    n = func.count().label("n")
    top = connection.execute(
        select(ri.kind, ri.value, func.min(ri.label), n)
        .select_from(ri)
        .join(r, r.message_id == ri.message_id)
        .where(*_identifiers_in_scope(scope), ri.kind.in_(kinds))
        .group_by(ri.kind, ri.value)
        .order_by(n.desc(), ri.kind, ri.value)
        .limit(limit)
    ).all()
    if not top:
        return []
    countries: dict[tuple[str, str], set[str]] = {}
    for kind, value, country in connection.execute(
        select(ri.kind, ri.value, r.country)
        .distinct()
        .select_from(ri)
        .join(r, r.message_id == ri.message_id)
        .where(
            *_identifiers_in_scope(scope),
            or_(*(and_(ri.kind == kind, ri.value == value) for kind, value, _, _ in top)),
        )
    ).all():
        countries.setdefault((kind, value), set()).add(country)
    return [
        IdentifierCount(kind, value, label, int(count), tuple(sorted(countries[(kind, value)])))
        for kind, value, label, count in top
    ]


def standard_form_jws(
    connection: Connection, message_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """The stored JWS of those of these reports that may carry the standard form: the ones
    with an identifier, or of a transport mode whose conveyance may have none
    (`MODES_WITHOUT_IDENTIFIERS`). One query, by primary keys."""
    if not message_ids:
        return {}
    m, r, ri = MessageRow, SeizureReportRow, ReportIdentifierRow
    has_identifier = select(ri.message_id).where(ri.message_id == m.id).exists()
    rows = connection.execute(
        select(m.id, m.jws)
        .join(r, r.message_id == m.id)
        .where(
            m.id.in_(message_ids),
            or_(r.transport_mode.in_(sorted(MODES_WITHOUT_IDENTIFIERS)), has_identifier),
        )
    ).all()
    return {message_id: jws for message_id, jws in rows if jws is not None}


class IdentifierFiguresStore:
    """The identifier figures, inside one unit of work."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def identifier_kinds(self, scope: Scope) -> dict[str, int]:
        return identifier_kinds(self._session.connection(), scope)

    def top_identifiers(
        self, scope: Scope, kinds: Sequence[str], limit: int
    ) -> list[IdentifierCount]:
        return top_identifiers(self._session.connection(), scope, kinds, limit)

    def standard_form_jws(self, message_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
        return standard_form_jws(self._session.connection(), message_ids)
