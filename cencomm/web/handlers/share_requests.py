"""Cross-group share requests: ask, list, decide, read."""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web
from pydantic import Field

from cencomm.appkeys import SERVICES
from cencomm.domain.clock import rfc3339
from cencomm.domain.identifiers import IdentifierKind
from cencomm.domain.share_requests import MAX_NOTE, MAX_REASON, MAX_VALUE_CHARS, ShareStatus
from cencomm.domain.wire.share_requests import (
    group_share_request_json,
    own_share_request_json,
    share_request_detail_json,
)
from cencomm.web.auth import caller, principal
from cencomm.web.cursors import decode_time_cursor, encode_cursor
from cencomm.web.field_schemas import text_field
from cencomm.web.handlers.directory import path_uuid
from cencomm.web.handlers.messages import MessageResponse
from cencomm.web.schemas import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    PageQuery,
    QueryModel,
    RequestModel,
    ResponseModel,
    cursor_field,
)


class ShareRequestCreate(RequestModel):
    kind: IdentifierKind = Field(description="which kind of identifier of the report")
    value: str = Field(
        min_length=1,
        max_length=MAX_VALUE_CHARS,
        description="the identifier's normal form, or as the report wrote it",
    )
    reason: str = text_field(
        MAX_REASON, description="why the requester asks (shown to the target groups' moderators)"
    )


class ShareDecision(RequestModel):
    group_id: uuid.UUID = Field(description="the target group deciding (its moderators, staff)")
    note: str | None = text_field(MAX_NOTE, default=None)


class GroupShareRequestQuery(QueryModel):
    status: ShareStatus | None = Field(default=None, description="this group's decision")
    after: str | None = cursor_field()
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class IdentifierResponse(ResponseModel):
    kind: IdentifierKind
    value: str = Field(description="the normal form")
    label: str = Field(description="as the requester's report wrote it")


class ShareRequestAccepted(ResponseModel):
    id: str
    status: ShareStatus
    created_at: str


class OwnShareRequest(ResponseModel):
    id: str
    message_id: str
    identifier: IdentifierResponse
    reason: str
    status: ShareStatus = Field(
        description="approved once a target group consented; rejected when all refused"
    )
    created_at: str
    decided_at: str | None


class OwnShareRequestList(ResponseModel):
    share_requests: list[OwnShareRequest]
    next: str | None


class RequesterResponse(ResponseModel):
    display_name: str
    organization_name: str
    country: str | None


class TargetDecision(ResponseModel):
    group_id: str
    matching_message_ids: list[str] = Field(
        description="this group's reports that match (still shown: not hidden, not TLP:RED)"
    )
    status: ShareStatus = Field(description="this group's decision")
    decided_at: str | None
    decided_by: str | None
    note: str | None


class GroupShareRequest(TargetDecision):
    id: str
    identifier: IdentifierResponse
    reason: str
    requester: RequesterResponse
    created_at: str


class GroupShareRequestList(ResponseModel):
    share_requests: list[GroupShareRequest]
    next: str | None


class ShareRequestDetail(ResponseModel):
    id: str
    message_id: str | None = Field(
        description="the requester's report (for the requester, their report's group's "
        "moderators and staff; null for a target group's moderators)"
    )
    identifier: IdentifierResponse
    reason: str
    requester: RequesterResponse
    status: ShareStatus = Field(
        description="overall for the requester's side; a target group's moderators see their "
        "own group's decision"
    )
    created_at: str
    decided_at: str | None
    targets: list[TargetDecision] = Field(
        description="the target groups the caller moderates (staff: all; the requester: none)"
    )
    shared_reports: list[MessageResponse] = Field(
        description="what consent shows the caller, as GET /messages/{id} would: the consenting "
        "groups' matching reports (requester's side) or the requester's report (a consenting "
        "group's moderators); never hidden or TLP:RED ones. Each read that shows any is audited."
    )


def _next(items: list[Any], limit: int) -> str | None:
    if len(items) < limit or not items:
        return None
    last = items[-1]
    return encode_cursor(f"{last.created_at.isoformat()}|{last.id}")


async def create_share_request(request: web.Request, body: ShareRequestCreate) -> web.Response:
    made, created = await request.app[SERVICES].share_requests.request_share(
        caller(request), path_uuid(request), body.kind, body.value, body.reason
    )
    answer = {
        "id": str(made.id),
        "status": made.status.value,
        "created_at": rfc3339(made.created_at),
    }
    # 202: other operations' moderators have yet to answer; 200: the same pending request again.
    return web.json_response(answer, status=202 if created else 200)


async def list_own_share_requests(request: web.Request, query: PageQuery) -> web.Response:
    found = await request.app[SERVICES].share_requests.list_own(
        principal(request), decode_time_cursor(query.after), query.limit
    )
    return web.json_response(
        {
            "share_requests": [own_share_request_json(r) for r in found],
            "next": _next(found, query.limit),
        }
    )


async def list_group_share_requests(
    request: web.Request, query: GroupShareRequestQuery
) -> web.Response:
    views = await request.app[SERVICES].share_requests.list_for_group(
        principal(request),
        path_uuid(request),
        query.status,
        decode_time_cursor(query.after),
        query.limit,
    )
    return web.json_response(
        {
            "share_requests": [group_share_request_json(v) for v in views],
            "next": _next([v.request for v in views], query.limit),
        }
    )


async def _decide(request: web.Request, body: ShareDecision, approve: bool) -> web.Response:
    view = await request.app[SERVICES].share_requests.decide(
        caller(request), path_uuid(request), body.group_id, approve, body.note
    )
    return web.json_response(group_share_request_json(view))


async def approve_share_request(request: web.Request, body: ShareDecision) -> web.Response:
    return await _decide(request, body, approve=True)


async def reject_share_request(request: web.Request, body: ShareDecision) -> web.Response:
    return await _decide(request, body, approve=False)


async def get_share_request(request: web.Request) -> web.Response:
    detail = await request.app[SERVICES].share_requests.get(caller(request), path_uuid(request))
    return web.json_response(share_request_detail_json(detail))
