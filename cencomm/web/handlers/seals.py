"""Organisation seals: seal keys, seal holders, countersignatures of messages."""

from __future__ import annotations

from aiohttp import web
from pydantic import Field

from cencomm.appkeys import SERVICES
from cencomm.domain.errors import NotFound
from cencomm.domain.keys import MAX_LABEL
from cencomm.domain.seals import MAX_COUNTERSIGNATURE_BYTES
from cencomm.domain.wire.seals import (
    countersign_receipt_json,
    organization_key_json,
    seal_holder_json,
)
from cencomm.web.auth import caller, principal
from cencomm.web.field_schemas import printable_schema
from cencomm.web.handlers.directory import path_uuid
from cencomm.web.schemas import RequestModel, ResponseModel


class RegisterOrganizationKeyRequest(RequestModel):
    # base64url (no padding) of 32 bytes: 43 characters, the last one carrying 4 bits.
    public_key: str = Field(pattern="^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$")
    label: str | None = Field(
        default=None, max_length=MAX_LABEL, json_schema_extra=printable_schema
    )


class OrganizationKeyResponse(ResponseModel):
    kid: str
    organization_id: str
    public_key: str
    label: str | None
    created_at: str
    revoked_at: str | None


class OrganizationKeyList(ResponseModel):
    keys: list[OrganizationKeyResponse]
    next: str | None


class SealHolderResponse(ResponseModel):
    organization_id: str
    user_id: str
    designated_at: str


class SealHolderList(ResponseModel):
    seal_holders: list[SealHolderResponse]
    next: str | None


class CountersignRequest(RequestModel):
    jws: str = Field(
        min_length=1,
        # Eight short claims: a countersignature is far below this.
        max_length=MAX_COUNTERSIGNATURE_BYTES,
        json_schema_extra={"pattern": r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$"},
    )


class CountersignatureResponse(ResponseModel):
    """One organisation's seal on a message (`jws` null where the message's is)."""

    organization_id: str
    kid: str
    jws: str | None
    created_at: str


class CountersignReceipt(ResponseModel):
    id: str
    message_id: str
    signer_id: str
    organization_id: str
    kid: str
    jws: str | None
    created_at: str


def _kid(request: web.Request) -> str:
    kid = request.match_info["kid"]
    if not 1 <= len(kid) <= 64:
        raise NotFound("no such seal key")
    return kid


async def register_organization_key(
    request: web.Request, body: RegisterOrganizationKeyRequest
) -> web.Response:
    key = await request.app[SERVICES].seals.register_key(
        caller(request), path_uuid(request), body.public_key, body.label
    )
    return web.json_response(organization_key_json(key), status=201)


async def list_organization_keys(request: web.Request) -> web.Response:
    keys = await request.app[SERVICES].seals.list_keys(principal(request), path_uuid(request))
    # An organisation holds a handful of seal keys: one page always holds them all.
    return web.json_response({"keys": [organization_key_json(k) for k in keys], "next": None})


async def revoke_organization_key(request: web.Request) -> web.Response:
    await request.app[SERVICES].seals.revoke_key(caller(request), path_uuid(request), _kid(request))
    return web.Response(status=204)


async def list_seal_holders(request: web.Request) -> web.Response:
    holders = await request.app[SERVICES].seals.list_holders(principal(request), path_uuid(request))
    return web.json_response({"seal_holders": [seal_holder_json(h) for h in holders], "next": None})


async def designate_seal_holder(request: web.Request) -> web.Response:
    holder, created = await request.app[SERVICES].seals.designate_holder(
        caller(request), path_uuid(request), path_uuid(request, "user_id")
    )
    return web.json_response(seal_holder_json(holder), status=201 if created else 200)


async def remove_seal_holder(request: web.Request) -> web.Response:
    await request.app[SERVICES].seals.remove_holder(
        caller(request), path_uuid(request), path_uuid(request, "user_id")
    )
    return web.Response(status=204)


async def countersign_message(request: web.Request, body: CountersignRequest) -> web.Response:
    outcome = await request.app[SERVICES].seals.countersign(
        caller(request), path_uuid(request), body.jws
    )
    return web.json_response(
        countersign_receipt_json(outcome.countersignature),
        status=201 if outcome.created else 200,
    )
