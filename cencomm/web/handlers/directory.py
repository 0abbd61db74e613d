"""Organisations and users (admin writes; admin and moderator read)."""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web
from pydantic import ConfigDict, Field

from cencomm.appkeys import SERVICES
from cencomm.domain.countries import COUNTRY_CODES
from cencomm.domain.errors import FieldError, Invalid, NotFound
from cencomm.domain.notifications import EMAIL_PATTERN, MAX_EMAIL
from cencomm.domain.users import (
    MAX_DISPLAY_NAME,
    MAX_ORGANIZATION_NAME,
    MAX_PASSWORD_LENGTH,
    MAX_USERNAME,
    MIN_PASSWORD_LENGTH,
    OrganizationKind,
    Region,
    Role,
)
from cencomm.domain.wire.directory import organization_json, user_json
from cencomm.services.directory import NewUser, UserChanges
from cencomm.web.auth import caller, principal
from cencomm.web.cursors import decode_cursor, encode_cursor
from cencomm.web.field_schemas import text_field
from cencomm.web.schemas import PageQuery, RequestModel, ResponseModel

# A country is taken in any case (`fr` is FR).
_ANY_CASE_COUNTRIES = sorted(
    {v for c in COUNTRY_CODES for v in (c, c.lower(), c[0] + c[1].lower(), c[0].lower() + c[1])}
)


def _administrations_have_a_country(schema: dict[str, Any]) -> None:
    schema["if"] = {"properties": {"kind": {"const": "administration"}}, "required": ["kind"]}
    schema["then"] = {"required": ["country"], "properties": {"country": {"type": "string"}}}


class CreateOrganizationRequest(RequestModel):
    model_config = ConfigDict(json_schema_extra=_administrations_have_a_country)

    name: str = text_field(MAX_ORGANIZATION_NAME, name=True)
    kind: OrganizationKind
    country: str | None = Field(
        default=None, json_schema_extra={"enum": [*_ANY_CASE_COUNTRIES, None]}
    )
    region: Region | None = None


class OrganizationResponse(ResponseModel):
    id: str
    name: str
    kind: OrganizationKind
    country: str | None
    region: Region | None
    created_at: str


class OrganizationList(ResponseModel):
    organizations: list[OrganizationResponse]
    next: str | None


class CreateUserRequest(RequestModel):
    # Taken in any case and lower-cased; nothing else is changed.
    username: str = Field(pattern=rf"^[A-Za-z0-9][A-Za-z0-9._-]{{2,{MAX_USERNAME - 1}}}$")
    display_name: str = text_field(MAX_DISPLAY_NAME, name=True)
    organization_id: uuid.UUID
    role: Role
    # Checked by the domain (a `weak-password` problem), documented here.
    password: str = Field(
        min_length=1,
        max_length=MAX_PASSWORD_LENGTH,
        json_schema_extra={"minLength": MIN_PASSWORD_LENGTH},
    )
    email: str | None = Field(default=None, max_length=MAX_EMAIL, pattern=EMAIL_PATTERN)


class UpdateUserRequest(RequestModel):
    display_name: str | None = text_field(MAX_DISPLAY_NAME, name=True, default=None)
    role: Role | None = None
    disabled: bool | None = None
    # An address for e-mail notifications; "" removes it.
    # "" takes the address away.
    email: str | None = Field(default=None, max_length=MAX_EMAIL, pattern=f"^$|{EMAIL_PATTERN}")


class UserResponse(ResponseModel):
    id: str
    username: str
    display_name: str
    organization_id: str
    role: Role
    disabled: bool
    mfa_enabled: bool
    created_at: str
    email: str | None = Field(description="Where e-mail notifications go (null: none)")


class UserList(ResponseModel):
    users: list[UserResponse]
    next: str | None


def path_uuid(request: web.Request, name: str = "id") -> uuid.UUID:
    """A UUID path parameter; anything else cannot name a resource, so it is absent (404)."""
    try:
        return uuid.UUID(request.match_info[name])
    except ValueError:
        raise NotFound("no such resource") from None


async def create_organization(
    request: web.Request, body: CreateOrganizationRequest
) -> web.Response:
    country = body.country.upper() if body.country else None
    if country is not None and country not in COUNTRY_CODES:
        raise Invalid(
            "not an ISO 3166-1 alpha-2 code",
            slug="validation-failed",
            errors=(FieldError("body.country", "not an ISO 3166-1 alpha-2 code"),),
        )
    org = await request.app[SERVICES].directory.create_organization(
        caller(request), body.name, body.kind, country, body.region
    )
    return web.json_response(organization_json(org), status=201)


async def list_organizations(request: web.Request, query: PageQuery) -> web.Response:
    after = decode_cursor(query.after)
    orgs = await request.app[SERVICES].directory.list_organizations(
        principal(request), after, query.limit
    )
    next_cursor = encode_cursor(orgs[-1].name) if len(orgs) == query.limit else None
    return web.json_response(
        {"organizations": [organization_json(o) for o in orgs], "next": next_cursor}
    )


async def get_organization(request: web.Request) -> web.Response:
    org = await request.app[SERVICES].directory.get_organization(
        principal(request), path_uuid(request)
    )
    return web.json_response(organization_json(org))


async def create_user(request: web.Request, body: CreateUserRequest) -> web.Response:
    user = await request.app[SERVICES].directory.create_user(
        caller(request),
        NewUser(
            username=body.username,
            display_name=body.display_name,
            organization_id=body.organization_id,
            role=body.role,
            password=body.password,
            email=body.email,
        ),
    )
    return web.json_response(user_json(user), status=201)


async def list_users(request: web.Request, query: PageQuery) -> web.Response:
    after = decode_cursor(query.after)
    users = await request.app[SERVICES].directory.list_users(principal(request), after, query.limit)
    next_cursor = encode_cursor(users[-1].username) if len(users) == query.limit else None
    return web.json_response({"users": [user_json(u) for u in users], "next": next_cursor})


async def get_user(request: web.Request) -> web.Response:
    user = await request.app[SERVICES].directory.get_user(principal(request), path_uuid(request))
    return web.json_response(user_json(user))


async def update_user(request: web.Request, body: UpdateUserRequest) -> web.Response:
    user = await request.app[SERVICES].directory.update_user(
        caller(request),
        path_uuid(request),
        UserChanges(
            display_name=body.display_name,
            role=body.role,
            disabled=body.disabled,
            email=body.email,
        ),
    )
    return web.json_response(user_json(user))
