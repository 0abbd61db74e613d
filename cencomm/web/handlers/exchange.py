"""MISP and STIX 2.1 exports of an operation (`GET /groups/{id}/export.misp.json`, `.stix.json`)."""

from __future__ import annotations

from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from cencomm.appkeys import SERVICES
from cencomm.domain.analytics import parse_period
from cencomm.services.exchange import Format
from cencomm.web.auth import caller
from cencomm.web.handlers.analytics import AnalyticsQuery
from cencomm.web.handlers.directory import path_uuid
from cencomm.web.streaming import stream_download


class _Open(BaseModel):
    # The formats are MISP's and OASIS's: only their top-level shape is declared here.
    model_config = ConfigDict(extra="allow")


class MispEvent(_Open):
    uuid: str
    info: str = Field(description="`<group code>: <group name>`")
    date: str
    distribution: str
    published: bool
    Object: list[dict[str, Any]] = Field(
        description="`cencomm-seizure-report`, `cencomm-seizure-item` and `cencomm-alert` objects"
    )
    Tag: list[dict[str, Any]] = Field(description="one `tlp:...` tag (TLP 2.0)")


class MispExportResponse(_Open):
    """A MISP event (the MISP core format)."""

    Event: MispEvent


class StixBundleResponse(_Open):
    """A STIX 2.1 bundle: identities, locations, reports, notes, TLP 2.0 marking definitions
    and one grouping."""

    type: Literal["bundle"]
    id: str
    objects: list[dict[str, Any]]


async def export_misp(request: web.Request, query: AnalyticsQuery) -> web.StreamResponse:
    return await _export(request, query, "misp")


async def export_stix(request: web.Request, query: AnalyticsQuery) -> web.StreamResponse:
    return await _export(request, query, "stix")


async def _export(request: web.Request, query: AnalyticsQuery, fmt: Format) -> web.StreamResponse:
    # Access and the audit entry are settled before any header goes out: a refusal is an
    # ordinary problem answer. Then the document is written a page of reports at a time.
    period = parse_period(query.from_, query.to)
    export = await request.app[SERVICES].exchange.export(
        caller(request), path_uuid(request), fmt, period
    )
    response = web.StreamResponse(
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{export.filename}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        }
    )
    return await stream_download(request, response, export.pieces, f"{fmt} export")
