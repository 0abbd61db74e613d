"""Users' signing keys: register, list (revoked ones included), revoke."""

from __future__ import annotations

from aiohttp import web
from pydantic import Field

from cencomm.appkeys import SERVICES
from cencomm.domain.errors import NotFound
from cencomm.domain.keys import MAX_LABEL
from cencomm.domain.wire.directory import signing_key_json
from cencomm.web.auth import caller, principal
from cencomm.web.field_schemas import printable_schema
from cencomm.web.handlers.directory import path_uuid
from cencomm.web.schemas import RequestModel, ResponseModel


class RegisterKeyRequest(RequestModel):
    # base64url (no padding) of 32 bytes: 43 characters, the last one carrying 4 bits.
    public_key: str = Field(pattern="^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$")
    label: str | None = Field(
        default=None, max_length=MAX_LABEL, json_schema_extra=printable_schema
    )


class KeyResponse(ResponseModel):
    kid: str
    user_id: str
    public_key: str
    label: str | None
    created_at: str
    revoked_at: str | None


class KeyList(ResponseModel):
    keys: list[KeyResponse]
    next: str | None


async def register_key(request: web.Request, body: RegisterKeyRequest) -> web.Response:
    key = await request.app[SERVICES].keys.register(caller(request), body.public_key, body.label)
    return web.json_response(signing_key_json(key), status=201)


async def list_user_keys(request: web.Request) -> web.Response:
    keys = await request.app[SERVICES].keys.list_of_user(principal(request), path_uuid(request))
    # A user holds a handful of keys: one page always holds them all.
    return web.json_response({"keys": [signing_key_json(k) for k in keys], "next": None})


async def revoke_key(request: web.Request) -> web.Response:
    kid = request.match_info["kid"]
    if not 1 <= len(kid) <= 64:
        raise NotFound("no such key")
    await request.app[SERVICES].keys.revoke(caller(request), kid)
    return web.Response(status=204)
