"""Watch lists: keep selectors (own only) and read the reports that matched them."""

from __future__ import annotations

from aiohttp import web
from pydantic import AwareDatetime, Field

from cencomm.appkeys import SERVICES
from cencomm.domain.identifiers import IdentifierKind
from cencomm.domain.watch_lists import MAX_REASON, MAX_VALUE_CHARS, MatchMode
from cencomm.domain.wire.watch_lists import watch_json, watch_match_json
from cencomm.services.watch_lists import NewWatch
from cencomm.web.auth import caller, principal
from cencomm.web.cursors import decode_time_cursor, encode_cursor
from cencomm.web.field_schemas import text_field
from cencomm.web.handlers.directory import path_uuid
from cencomm.web.schemas import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    PageQuery,
    QueryModel,
    RequestModel,
    ResponseModel,
    cursor_field,
)


class CreateWatchRequest(RequestModel):
    kind: IdentifierKind
    match: MatchMode = Field(
        default=MatchMode.EXACT, description="prefix: container and document numbers only"
    )
    value: str = Field(
        min_length=1,
        max_length=MAX_VALUE_CHARS,
        description="as written; kept in normal form (check digits verified for containers "
        "and IMO numbers; party names matched on their normal form)",
    )
    reason: str = text_field(MAX_REASON)
    expires_at: AwareDatetime = Field(description="after now, at most 366 days ahead")


class IdentifierResponse(ResponseModel):
    kind: IdentifierKind
    value: str = Field(description="normal form")
    label: str = Field(description="as written")


class WatchResponse(ResponseModel):
    id: str
    kind: IdentifierKind
    match: MatchMode
    value: str = Field(description="normal form")
    label: str = Field(description="as the watcher wrote it")
    reason: str
    expires_at: str
    created_at: str


class WatchList(ResponseModel):
    watches: list[WatchResponse]
    next: str | None


class WatchListQuery(QueryModel):
    active: bool = Field(default=False, description="true: only watches not yet expired")
    after: str | None = cursor_field()
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class WatchMatchResponse(ResponseModel):
    message_id: str | None = Field(description="null when the caller may not read the report")
    group_id: str | None = Field(description="null when the caller may not read the report")
    identifier: IdentifierResponse = Field(
        description="the report's identifier that matched; for a report elsewhere, the "
        "watch's own selector"
    )
    elsewhere: bool = Field(
        description="a report in an operation the caller may not read: nothing more is told"
    )
    matched_at: str


class WatchMatchList(ResponseModel):
    matches: list[WatchMatchResponse]
    next: str | None


async def create_watch(request: web.Request, body: CreateWatchRequest) -> web.Response:
    watch = await request.app[SERVICES].watch_lists.create(
        caller(request),
        NewWatch(body.kind, body.match, body.value, body.reason, body.expires_at),
    )
    return web.json_response(watch_json(watch), status=201)


async def list_watches(request: web.Request, query: WatchListQuery) -> web.Response:
    watches = await request.app[SERVICES].watch_lists.list_watches(
        principal(request),
        active=query.active,
        before=decode_time_cursor(query.after),
        limit=query.limit,
    )
    next_cursor = None
    if len(watches) == query.limit:
        last = watches[-1]
        next_cursor = encode_cursor(f"{last.created_at.isoformat()}|{last.id}")
    return web.json_response({"watches": [watch_json(w) for w in watches], "next": next_cursor})


async def get_watch(request: web.Request) -> web.Response:
    watch = await request.app[SERVICES].watch_lists.get(principal(request), path_uuid(request))
    return web.json_response(watch_json(watch))


async def delete_watch(request: web.Request) -> web.Response:
    await request.app[SERVICES].watch_lists.delete(caller(request), path_uuid(request))
    return web.Response(status=204)


async def list_watch_matches(request: web.Request, query: PageQuery) -> web.Response:
    matches, position = await request.app[SERVICES].watch_lists.matches(
        principal(request),
        path_uuid(request),
        before=decode_time_cursor(query.after),
        limit=query.limit,
    )
    next_cursor = None
    if position is not None:
        at, last_id = position
        next_cursor = encode_cursor(f"{at.isoformat()}|{last_id}")
    return web.json_response(
        {"matches": [watch_match_json(m) for m in matches], "next": next_cursor}
    )
