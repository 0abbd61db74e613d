"""Seizure analytics: a group's, several groups', the seizures CSV and the operation report."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator

from aiohttp import web
from pydantic import Field

from cencomm.appkeys import SERVICES
from cencomm.domain.analytics import MAX_GROUPS, parse_period
from cencomm.domain.seizure_csv import ItemLine, encode_lines, header
from cencomm.domain.wire.analytics import analytics_json
from cencomm.web.auth import caller, principal
from cencomm.web.handlers.directory import path_uuid
from cencomm.web.report import REPORT_CSP, render_report
from cencomm.web.schemas import QueryModel, ResponseModel
from cencomm.web.streaming import stream_download

_DATE_FIELD = Field(
    default=None,
    max_length=32,
    description="YYYY-MM-DD, inclusive; not before `from`",
    json_schema_extra={"format": "date"},
)


class AnalyticsQuery(QueryModel):
    from_: str | None = Field(
        default=None,
        alias="from",
        max_length=32,
        description="YYYY-MM-DD, inclusive",
        json_schema_extra={"format": "date"},
    )
    to: str | None = _DATE_FIELD


class CrossGroupAnalyticsQuery(AnalyticsQuery):
    group_id: list[uuid.UUID] = Field(
        min_length=1,
        max_length=MAX_GROUPS,
        description=f"repeat for each group: 1 to {MAX_GROUPS}, each readable by the caller",
    )


class NameCount(ResponseModel):
    name: str
    interceptions: int


class TotalsResponse(ResponseModel):
    medicines_units: float
    medical_supplies_units: float
    sanitizer_litres: float


class CategoryQuantityResponse(ResponseModel):
    category: str
    unit: str
    quantity: float


class RouteResponse(ResponseModel):
    origin: str
    destination: str
    interceptions: int


class WeekResponse(ResponseModel):
    week_start: str
    interceptions: int


class RegionResponse(ResponseModel):
    region: str
    interceptions: int


class CountryResponse(TotalsResponse):
    country: str
    interceptions: int


class TransitResponse(ResponseModel):
    country: str
    interceptions: int


class ProductResponse(ResponseModel):
    category: str
    unit: str
    quantity: float
    interceptions: int
    share: float = Field(description="of all the quantity seized in this unit, 0 to 1")


class AnalyticsResponse(ResponseModel):
    """Counted lists: most interceptions first, ties by name; `by_week` ascending with every
    week from the first to the last; `by_category` in the contract's category order."""

    interceptions: int
    reporting_countries: int
    totals: TotalsResponse
    by_category: list[CategoryQuantityResponse]
    routes: list[RouteResponse] = Field(description="the top 20 origin → destination pairs")
    transport_modes: list[NameCount]
    detection: list[NameCount]
    concealment: list[NameCount]
    infringement: list[NameCount]
    by_week: list[WeekResponse]
    by_region: list[RegionResponse]
    by_country: list[CountryResponse]
    transit: list[TransitResponse] = Field(description="the 20 most used transit countries")
    top_products: list[ProductResponse]
    first_report_at: str | None
    last_report_at: str | None


async def get_group_analytics(request: web.Request, query: AnalyticsQuery) -> web.Response:
    period = parse_period(query.from_, query.to)
    analytics = await request.app[SERVICES].analytics.group_analytics(
        principal(request), path_uuid(request), period
    )
    return web.json_response(analytics_json(analytics))


async def get_cross_group_analytics(
    request: web.Request, query: CrossGroupAnalyticsQuery
) -> web.Response:
    period = parse_period(query.from_, query.to)
    analytics = await request.app[SERVICES].analytics.cross_group(
        principal(request), query.group_id, period
    )
    return web.json_response(analytics_json(analytics))


async def export_seizures_csv(request: web.Request, query: AnalyticsQuery) -> web.StreamResponse:
    # Access and the audit entry are settled before any header goes out: a refusal is an
    # ordinary problem answer. Then rows are fetched and sent a page at a time.
    period = parse_period(query.from_, query.to)
    export = await request.app[SERVICES].analytics.seizures_csv(
        caller(request), path_uuid(request), period
    )
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8; header=present",
            "Content-Disposition": f'attachment; filename="{export.filename}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        }
    )
    return await stream_download(request, response, _csv_bytes(export.pages), "seizures CSV")


async def _csv_bytes(
    pages: AsyncGenerator[list[ItemLine], None],
) -> AsyncGenerator[bytes, None]:
    try:
        yield header()
        async for page in pages:
            yield encode_lines(page)
    finally:
        await pages.aclose()


async def get_operation_report(request: web.Request) -> web.Response:
    report = await request.app[SERVICES].analytics.operation_report(
        caller(request), path_uuid(request)
    )
    return web.Response(
        text=render_report(report),
        content_type="text/html",
        charset="utf-8",
        headers={"Content-Security-Policy": REPORT_CSP, "Cache-Control": "no-store"},
    )
