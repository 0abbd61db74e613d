"""Bearer-token authentication and the caller of a request (principal and client address)."""

from __future__ import annotations

from aiohttp import web

from cencomm.appkeys import PRINCIPAL, SERVICES, SETTINGS
from cencomm.domain.errors import Unauthenticated
from cencomm.domain.users import Caller, Principal


def bearer_token(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("send an access token as `Authorization: Bearer <token>`")
    return token.strip()


async def authenticate(request: web.Request) -> Principal:
    """The principal behind the request's access token.

    Raises:
        Unauthenticated: no token, or one that is invalid, expired or revoked.
    """
    return await request.app[SERVICES].auth.authenticate(bearer_token(request))


def client_ip(request: web.Request) -> str | None:
    """The peer address, or the one the trusted proxies in front of us saw."""
    hops = request.app[SETTINGS].http.trusted_proxy_hops
    if hops > 0:
        forwarded = [p.strip() for p in request.headers.get("X-Forwarded-For", "").split(",")]
        forwarded = [p for p in forwarded if p]
        if len(forwarded) >= hops:
            return forwarded[-hops][:64]
    return request.remote


def caller(request: web.Request) -> Caller:
    return Caller(principal=request.get(PRINCIPAL), ip=client_ip(request))


def principal(request: web.Request) -> Principal:
    """The authenticated principal; routes marked `auth=True` always have one."""
    return request[PRINCIPAL]
