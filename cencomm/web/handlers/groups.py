"""Operation groups: lifecycle, members, join requests."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from aiohttp import web
from pydantic import AwareDatetime, ConfigDict, Field, field_validator, model_validator

from cencomm.appkeys import SERVICES
from cencomm.domain.errors import FieldError, Invalid
from cencomm.domain.groups import (
    MAX_CODE,
    MAX_DESCRIPTION,
    MAX_NAME,
    MAX_REASON,
    GroupAccess,
    GroupChanges,
    GroupRole,
    GroupStatus,
    NewGroup,
)
from cencomm.domain.groups import JoinRequestStatus as RequestStatus
from cencomm.domain.seizure_standard import ReportForm
from cencomm.domain.wire.groups import (
    JOIN_REQUEST_RECEIVED,
    group_json,
    join_request_json,
    join_request_view_json,
    member_json,
)
from cencomm.services.groups import MemberView
from cencomm.web.auth import caller, principal
from cencomm.web.cursors import decode_cursor, encode_cursor
from cencomm.web.field_schemas import text_field
from cencomm.web.handlers.directory import path_uuid
from cencomm.web.schemas import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    PageQuery,
    QueryModel,
    RequestModel,
    ResponseModel,
    absent_not_null,
    cursor_field,
)


class CreateGroupRequest(RequestModel):
    # Taken in any case and upper-cased.
    code: str = Field(pattern=rf"^[A-Za-z0-9][A-Za-z0-9-]{{2,{MAX_CODE - 1}}}$")
    name: str = text_field(MAX_NAME, name=True)
    # "": no description.
    description: str | None = text_field(MAX_DESCRIPTION, default=None, allow_empty=True)
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    roster_visible: bool = True
    report_form: ReportForm = Field(
        default=ReportForm.SIMPLIFIED,
        description="`standard` makes seizure reports carry a conveyance and a document",
    )


class UpdateGroupRequest(RequestModel):
    name: str | None = text_field(MAX_NAME, name=True, default=None)
    description: str | None = text_field(MAX_DESCRIPTION, default=None)
    ends_at: AwareDatetime | None = None
    status: GroupStatus | None = None
    report_form: ReportForm | None = None
    reason: str | None = text_field(MAX_REASON, default=None)


class GroupResponse(ResponseModel):
    id: str
    code: str
    name: str
    description: str | None
    starts_at: str | None
    ends_at: str | None
    status: GroupStatus
    roster_visible: bool
    report_form: ReportForm
    created_at: str
    my_role: GroupRole | None = Field(
        description="The caller's group role: their own membership's when they have one, else "
        "their organisation's; null for staff who are not members"
    )
    last_seq: int = Field(
        description="The seq of the group's newest message (0: none yet), for unread counts"
    )


class GroupList(ResponseModel):
    groups: list[GroupResponse]
    next: str | None


def _user_or_organization(schema: dict[str, Any]) -> None:
    """Exactly one of the two members, and neither as null."""
    absent_not_null(schema)
    schema["oneOf"] = [{"required": ["user_id"]}, {"required": ["organization_id"]}]


class AddMemberRequest(RequestModel):
    model_config = ConfigDict(json_schema_extra=_user_or_organization)

    user_id: uuid.UUID | None = None
    organization_id: uuid.UUID | None = None
    role: GroupRole

    @field_validator("user_id", "organization_id", mode="before")
    @classmethod
    def _present_or_absent(cls, value: object) -> object:
        if value is None:
            raise ValueError("leave the member out rather than send null")
        return value

    @model_validator(mode="after")
    def one_kind_of_member(self) -> AddMemberRequest:
        if (self.user_id is None) == (self.organization_id is None):
            raise ValueError("give exactly one of user_id and organization_id")
        return self


class MemberResponse(ResponseModel):
    kind: Literal["user", "organization"]
    user_id: str | None
    organization_id: str
    name: str
    role: GroupRole
    added_at: str


class MemberList(ResponseModel):
    members: list[MemberResponse]
    next: str | None


class ReasonQuery(QueryModel):
    reason: str | None = text_field(MAX_REASON, default=None)


class JoinRequestCreate(RequestModel):
    group_code: str = Field(min_length=1, max_length=64)
    reason: str = text_field(MAX_REASON)


class JoinRequestAccepted(ResponseModel):
    status: Literal["received"]


class JoinRequestResponse(ResponseModel):
    id: str
    group_id: str
    user_id: str
    organization_id: str
    reason: str
    status: RequestStatus
    created_at: str


class JoinRequestListItem(JoinRequestResponse):
    username: str = Field(description="The requester's username")
    display_name: str = Field(description="The requester's display name")
    organization_name: str = Field(description="The name of the requester's organisation")


class JoinRequestList(ResponseModel):
    join_requests: list[JoinRequestListItem]
    next: str | None


class JoinRequestQuery(QueryModel):
    status: RequestStatus | None = None
    after: str | None = cursor_field()
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


def _access_json(access: GroupAccess) -> dict[str, object]:
    return group_json(access.group, access.group_role)


def _member_json(view: MemberView) -> dict[str, object]:
    return member_json(view.membership, view.name, view.organization_id)


async def create_group(request: web.Request, body: CreateGroupRequest) -> web.Response:
    group = await request.app[SERVICES].groups.create_group(
        caller(request),
        NewGroup(
            code=body.code,
            name=body.name,
            description=body.description,
            starts_at=body.starts_at,
            ends_at=body.ends_at,
            roster_visible=body.roster_visible,
            report_form=body.report_form,
        ),
    )
    return web.json_response(group_json(group, GroupRole.MODERATOR), status=201)


async def list_groups(request: web.Request, query: PageQuery) -> web.Response:
    who = principal(request)
    accesses = await request.app[SERVICES].groups.list_groups(
        who, decode_cursor(query.after), query.limit
    )
    last = accesses[-1].group.code if accesses else None
    next_cursor = encode_cursor(last) if last and len(accesses) == query.limit else None
    return web.json_response({"groups": [_access_json(a) for a in accesses], "next": next_cursor})


async def get_group(request: web.Request) -> web.Response:
    access = await request.app[SERVICES].groups.get_group(principal(request), path_uuid(request))
    return web.json_response(_access_json(access))


async def update_group(request: web.Request, body: UpdateGroupRequest) -> web.Response:
    group_id = path_uuid(request)
    group = await request.app[SERVICES].groups.update_group(
        caller(request),
        group_id,
        GroupChanges(
            name=body.name,
            description=body.description,
            ends_at=body.ends_at,
            status=body.status,
            reason=body.reason,
            report_form=body.report_form,
        ),
    )
    access = await request.app[SERVICES].groups.get_group(principal(request), group.id)
    return web.json_response(_access_json(access))


async def list_members(request: web.Request) -> web.Response:
    views = await request.app[SERVICES].groups.list_members(principal(request), path_uuid(request))
    # Operations have a bounded roster (at most a few hundred administrations): one page.
    return web.json_response({"members": [_member_json(v) for v in views], "next": None})


async def add_member(request: web.Request, body: AddMemberRequest) -> web.Response:
    group_id = path_uuid(request)
    services = request.app[SERVICES]
    membership, created = await services.groups.add_member(
        caller(request),
        group_id,
        body.role,
        user_id=body.user_id,
        organization_id=body.organization_id,
    )
    views = await services.groups.list_members(principal(request), group_id)
    view = next(
        v
        for v in views
        if v.membership.user_id == membership.user_id
        and v.membership.organization_id == membership.organization_id
    )
    return web.json_response(_member_json(view), status=201 if created else 200)


async def remove_user_member(request: web.Request, query: ReasonQuery) -> web.Response:
    await request.app[SERVICES].groups.remove_member(
        caller(request),
        path_uuid(request),
        user_id=path_uuid(request, "user_id"),
        reason=query.reason,
    )
    return web.Response(status=204)


async def remove_organization_member(request: web.Request, query: ReasonQuery) -> web.Response:
    await request.app[SERVICES].groups.remove_member(
        caller(request),
        path_uuid(request),
        organization_id=path_uuid(request, "org_id"),
        reason=query.reason,
    )
    return web.Response(status=204)


async def create_join_request(request: web.Request, body: JoinRequestCreate) -> web.Response:
    await request.app[SERVICES].groups.request_to_join(
        caller(request), body.group_code, body.reason
    )
    # The same answer whether or not the code exists: codes cannot be probed.
    return web.json_response(JOIN_REQUEST_RECEIVED, status=202)


async def list_join_requests(request: web.Request, query: JoinRequestQuery) -> web.Response:
    after = decode_cursor(query.after)
    if after is not None:
        try:
            uuid.UUID(after)
        except ValueError:
            raise Invalid(
                "not a cursor this server gave out",
                slug="validation-failed",
                errors=(FieldError("query.after", "invalid cursor"),),
            ) from None
    views = await request.app[SERVICES].groups.list_join_request_views(
        principal(request), path_uuid(request), query.status, after, query.limit
    )
    next_cursor = encode_cursor(str(views[-1].request.id)) if len(views) == query.limit else None
    return web.json_response(
        {"join_requests": [join_request_view_json(v) for v in views], "next": next_cursor}
    )


async def approve_join_request(request: web.Request) -> web.Response:
    decided = await request.app[SERVICES].groups.decide_join_request(
        caller(request), path_uuid(request), approve=True
    )
    return web.json_response(join_request_json(decided))


async def reject_join_request(request: web.Request) -> web.Response:
    decided = await request.app[SERVICES].groups.decide_join_request(
        caller(request), path_uuid(request), approve=False
    )
    return web.json_response(join_request_json(decided))
