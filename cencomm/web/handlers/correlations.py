"""Correlations: the reports sharing a report's identifiers, and a group's linked identifiers."""

from __future__ import annotations

from aiohttp import web
from pydantic import Field

from cencomm.appkeys import SERVICES
from cencomm.domain.correlations import RELATED_DEFAULT, RELATED_MAX, CorrelationPosition
from cencomm.domain.envelopes import HandlingCode
from cencomm.domain.identifiers import IdentifierKind
from cencomm.domain.wire.correlations import group_correlation_json, related_json
from cencomm.web.auth import principal
from cencomm.web.cursors import decode_cursor, encode_cursor, invalid_cursor
from cencomm.web.handlers.directory import path_uuid
from cencomm.web.schemas import PageQuery, QueryModel, ResponseModel

MAX_VALUE_CHARS = 200  # report_identifier.value


class RelatedQuery(QueryModel):
    limit: int = Field(default=RELATED_DEFAULT, ge=1, le=RELATED_MAX)


class IdentifierResponse(ResponseModel):
    kind: IdentifierKind
    value: str = Field(description="the normal form two reports are matched on")
    label: str = Field(description="as the report wrote it")


class RelatedReportResponse(ResponseModel):
    message_id: str
    group_id: str
    group_code: str
    seq: int
    country: str
    occurred_on: str = Field(json_schema_extra={"format": "date"})
    reported_at: str
    hc: HandlingCode
    shared: list[IdentifierResponse] = Field(description="as this related report wrote them")


class RelatedResponse(ResponseModel):
    message_id: str
    identifiers: list[IdentifierResponse]
    related: list[RelatedReportResponse] = Field(
        description="reports the caller may read that share an identifier: most shared "
        "first, then newest; never hidden ones"
    )
    elsewhere: list[IdentifierResponse] = Field(
        description="identifiers of this report also seen in a report of another operation "
        "(a group the caller cannot see); nothing more is said of it. Never for TLP:RED"
    )


class GroupCorrelationResponse(ResponseModel):
    kind: IdentifierKind
    value: str
    label: str = Field(description="one spelling of it found in the reports")
    reports: int = Field(description="readable reports of the group carrying it (2 or more)")
    countries: list[str] = Field(description="their reporting countries, ISO 3166-1 alpha-2")
    first_seen: str = Field(json_schema_extra={"format": "date"})
    last_seen: str = Field(json_schema_extra={"format": "date"})


class CorrelationList(ResponseModel):
    correlations: list[GroupCorrelationResponse]
    next: str | None


def _position(cursor: str | None) -> CorrelationPosition | None:
    raw = decode_cursor(cursor)
    if raw is None:
        return None
    reports, _, rest = raw.partition("|")
    kind, _, value = rest.partition("|")
    try:
        position = CorrelationPosition(int(reports), IdentifierKind(kind).value, value)
    except ValueError:
        raise invalid_cursor() from None
    if not 2 <= position.reports <= 2**62 or not 0 < len(value) <= MAX_VALUE_CHARS:
        raise invalid_cursor()
    return position


async def get_related(request: web.Request, query: RelatedQuery) -> web.Response:
    related = await request.app[SERVICES].correlations.related(
        principal(request), path_uuid(request), query.limit
    )
    return web.json_response(related_json(related))


async def list_group_correlations(request: web.Request, query: PageQuery) -> web.Response:
    page, more = await request.app[SERVICES].correlations.in_group(
        principal(request), path_uuid(request), _position(query.after), query.limit
    )
    next_cursor = (
        encode_cursor(f"{more.reports}|{more.kind}|{more.value}") if more is not None else None
    )
    return web.json_response(
        {"correlations": [group_correlation_json(c) for c in page], "next": next_cursor}
    )
