"""Signed messages: post, timelines, single messages, moderation, search."""

from __future__ import annotations

import re
import uuid
from datetime import date
from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema, model_validator

from cencomm.appkeys import SERVICES
from cencomm.domain.countries import COUNTRY_CODES, is_country_code
from cencomm.domain.envelopes import HandlingCode
from cencomm.domain.ids import MAX_SEQUENCE
from cencomm.domain.messages import MAX_HIDE_REASON, SearchFilters, SearchPosition
from cencomm.domain.seizures import Category
from cencomm.domain.wire.messages import message_json, post_receipt_json
from cencomm.web.auth import caller, principal
from cencomm.web.cursors import cursor_time, decode_cursor, encode_cursor, invalid_cursor
from cencomm.web.field_schemas import text_field
from cencomm.web.handlers.directory import path_uuid
from cencomm.web.handlers.seals import CountersignatureResponse
from cencomm.web.schemas import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    QueryModel,
    RequestModel,
    ResponseModel,
    Sequence,
    cursor_field,
)

# A JWS is at most 256 KiB; the JSON wrapper adds a few bytes. Larger ones get 413 from the parser.
MAX_JWS_FIELD = 300 * 1024


class PostMessageRequest(RequestModel):
    # A compact JWS: three base64url parts.
    jws: str = Field(
        min_length=1,
        max_length=MAX_JWS_FIELD,
        # Checked by the JWS parser (an `invalid-jws` problem), documented here.
        json_schema_extra={"pattern": r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$"},
    )


class PostMessageResponse(ResponseModel):
    id: str
    seq: int
    created_at: str


class SenderResponse(ResponseModel):
    id: str
    display_name: str
    organization_id: str
    organization_name: str = Field(description="The sender organisation's name, for reading")


class MessageResponse(ResponseModel):
    id: str
    group_id: str
    seq: int
    typ: Literal["text", "notice", "seizure"]
    hc: HandlingCode
    sender: SenderResponse
    kid: str
    jws: str | None
    content: dict[str, Any] | None = Field(
        description="The decoded payload claims of `jws` (typ, hc, body, att, reply_to, …), for "
        "reading; null whenever `jws` is null. Proof is the JWS."
    )
    created_at: str
    reply_to: str | None
    hidden: bool
    hidden_reason: str | None
    countersignatures: list[CountersignatureResponse] = Field(
        description="Organisations' seals on the message, oldest first (empty when none); "
        "verify each against `GET /organizations/{organization_id}/keys`"
    )


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
    reason: str = text_field(MAX_HIDE_REASON)


_DAY = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def _iso_day(value: object) -> object:
    """Only `YYYY-MM-DD` (pydantic alone would also take Unix times and other spellings)."""
    if not isinstance(value, str) or not _DAY.fullmatch(value):
        raise ValueError("must be a date as YYYY-MM-DD")
    return value


def _country(value: str) -> str:
    if not is_country_code(value):
        raise ValueError("must be an ISO 3166-1 alpha-2 code in capitals (FR, CN, ...)")
    return value


Day = Annotated[date, BeforeValidator(_iso_day)]
CountryCode = Annotated[
    str,
    AfterValidator(_country),
    WithJsonSchema({"type": "string", "enum": sorted(COUNTRY_CODES)}),
]


class SearchQuery(QueryModel):
    q: str = Field(min_length=1, max_length=500, description="words, each matched as a prefix")
    group_id: uuid.UUID | None = None
    typ: Literal["text", "notice", "seizure"] | None = None
    from_: Day | None = Field(
        default=None,
        alias="from",
        description="inclusive; a seizure report's occurred_on, else the UTC posting day",
    )
    to: Day | None = Field(default=None, description="inclusive, like `from`")
    country: CountryCode | None = Field(
        default=None, description="the sender organisation's (a report's reporting) country"
    )
    category: Category | None = Field(
        default=None, description="seizure reports with an item of this category"
    )
    sender_org: uuid.UUID | None = Field(default=None, description="the sender's organisation")
    after: str | None = cursor_field()
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)

    @model_validator(mode="after")
    def ordered_dates(self) -> SearchQuery:
        if self.from_ is not None and self.to is not None and self.from_ > self.to:
            raise ValueError("from must not be after to")
        return self

    def filters(self) -> SearchFilters:
        return SearchFilters(
            typ=self.typ,
            from_date=self.from_,
            to_date=self.to,
            country=self.country,
            category=self.category.value if self.category else None,
            sender_org=self.sender_org,
        )


async def post_group_message(request: web.Request, body: PostMessageRequest) -> web.Response:
    outcome = await request.app[SERVICES].messaging.post(
        caller(request), path_uuid(request), body.jws
    )
    return web.json_response(
        post_receipt_json(outcome),
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
        position = SearchPosition(cursor_time(at), int(seq), uuid.UUID(message_id))
        # Only a forged cursor fails this: the database holds 64 bits.
        if not 0 <= position.seq <= MAX_SEQUENCE:
            raise ValueError("not a cursor of ours")
        return position
    except ValueError:
        raise invalid_cursor() from None


async def search_messages(request: web.Request, query: SearchQuery) -> web.Response:
    found = await request.app[SERVICES].messaging.search(
        principal(request),
        query.q,
        query.group_id,
        _search_cursor(query.after),
        query.limit,
        query.filters(),
    )
    next_cursor = None
    if len(found) == query.limit:
        last = found[-1].message
        next_cursor = encode_cursor(f"{last.created_at.isoformat()}|{last.seq}|{last.id}")
    return web.json_response({"messages": [message_json(m) for m in found], "next": next_cursor})
