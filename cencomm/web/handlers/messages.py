"""Signed messages: post, timelines, single messages, moderation, search."""

from __future__ import annotations

import uuid
from datetime import datetime

from aiohttp import web
from pydantic import Field, model_validator

from cencomm.appkeys import SERVICES
from cencomm.domain.clock import rfc3339
from cencomm.domain.errors import FieldError, Invalid
from cencomm.domain.ids import MAX_SEQUENCE
from cencomm.domain.messages import SearchPosition
from cencomm.services.messaging import ReadableMessage
from cencomm.web.auth import caller, principal
from cencomm.web.cursors import decode_cursor, encode_cursor
from cencomm.web.handlers.directory import path_uuid
from cencomm.web.schemas import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    QueryModel,
    RequestModel,
    ResponseModel,
    Sequence,
)

# A JWS is at most 256 KiB; the JSON wrapper adds a few bytes. Larger ones get 413 from the parser.
MAX_JWS_FIELD = 300 * 1024


class PostMessageRequest(RequestModel):
    jws: str = Field(min_length=1, max_length=MAX_JWS_FIELD)


class PostMessageResponse(ResponseModel):
    id: str
    seq: int
    created_at: str


class SenderResponse(ResponseModel):
    id: str
    display_name: str
    organization_id: str


class MessageResponse(ResponseModel):
    id: str
    group_id: str
    seq: int
    typ: str
    hc: str
    sender: SenderResponse
    kid: str
    jws: str | None
    created_at: str
    reply_to: str | None
    hidden: bool
    hidden_reason: str | None


class MessageList(ResponseModel):
    messages: list[MessageResponse]
    next: int | str | None


class TimelineQuery(QueryModel):
    after: Sequence | None = None
    before: int | None = Field(default=None, ge=1, le=MAX_SEQUENCE)
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)

    @model_validator(mode="after")
    def one_direction(self) -> TimelineQuery:
        if self.after is not None and self.before is not None:
            raise ValueError("give after or before, not both")
        return self


class HideRequest(RequestModel):
    reason: str = Field(min_length=1, max_length=1000)


class UnhideRequest(RequestModel):
    reason: str | None = Field(default=None, min_length=1, max_length=1000)


class SearchQuery(QueryModel):
    q: str = Field(min_length=1, max_length=500)
    group_id: uuid.UUID | None = None
    after: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


def message_json(readable: ReadableMessage) -> dict[str, object]:
    m = readable.message
    return {
        "id": str(m.id),
        "group_id": str(m.group_id),
        "seq": m.seq,
        "typ": m.typ,
        "hc": m.hc,
        "sender": {
            "id": str(m.sender.id),
            "display_name": m.sender.display_name,
            "organization_id": str(m.sender.organization_id),
        },
        "kid": m.kid,
        "jws": m.jws if readable.show_jws else None,
        "created_at": rfc3339(m.created_at),
        "reply_to": str(m.reply_to) if m.reply_to else None,
        "hidden": m.hidden,
        "hidden_reason": m.hidden_reason,
    }


async def post_group_message(request: web.Request, body: PostMessageRequest) -> web.Response:
    outcome = await request.app[SERVICES].messaging.post(
        caller(request), path_uuid(request), body.jws
    )
    return web.json_response(
        {"id": str(outcome.id), "seq": outcome.seq, "created_at": rfc3339(outcome.created_at)},
        status=201 if outcome.created else 200,
    )


async def list_group_messages(request: web.Request, query: TimelineQuery) -> web.Response:
    messages, more = await request.app[SERVICES].messaging.timeline(
        principal(request),
        path_uuid(request),
        after=query.after,
        before=query.before,
        limit=query.limit,
    )
    next_after = messages[-1].message.seq if more and messages else None
    return web.json_response({"messages": [message_json(m) for m in messages], "next": next_after})


async def get_message(request: web.Request) -> web.Response:
    readable = await request.app[SERVICES].messaging.get_message(
        principal(request), path_uuid(request)
    )
    return web.json_response(message_json(readable))


async def hide_message(request: web.Request, body: HideRequest) -> web.Response:
    readable = await request.app[SERVICES].messaging.set_hidden(
        caller(request), path_uuid(request), True, body.reason
    )
    return web.json_response(message_json(readable))


async def unhide_message(request: web.Request) -> web.Response:
    readable = await request.app[SERVICES].messaging.set_hidden(
        caller(request), path_uuid(request), False, None
    )
    return web.json_response(message_json(readable))


def _search_cursor(cursor: str | None) -> SearchPosition | None:
    raw = decode_cursor(cursor)
    if raw is None:
        return None
    try:
        at, seq, message_id = raw.split("|")
        position = SearchPosition(datetime.fromisoformat(at), int(seq), uuid.UUID(message_id))
        # Only a forged cursor fails these: the database holds 64 bits and aware times.
        if not 0 <= position.seq <= MAX_SEQUENCE or position.created_at.tzinfo is None:
            raise ValueError("not a cursor of ours")
        return position
    except ValueError:
        raise Invalid(
            "not a cursor this server gave out",
            slug="validation-failed",
            title="Validation failed",
            errors=(FieldError("query.after", "invalid cursor"),),
        ) from None


async def search_messages(request: web.Request, query: SearchQuery) -> web.Response:
    found = await request.app[SERVICES].messaging.search(
        principal(request), query.q, query.group_id, _search_cursor(query.after), query.limit
    )
    next_cursor = None
    if len(found) == query.limit:
        last = found[-1].message
        next_cursor = encode_cursor(f"{last.created_at.isoformat()}|{last.seq}|{last.id}")
    return web.json_response({"messages": [message_json(m) for m in found], "next": next_cursor})
