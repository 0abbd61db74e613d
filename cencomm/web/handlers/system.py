"""Operational endpoints: liveness, readiness, metrics and the OpenAPI document."""

from __future__ import annotations

import hmac
import ipaddress
from typing import Literal

from aiohttp import web

from cencomm.appkeys import SERVICES, SETTINGS
from cencomm.web.auth import client_ip
from cencomm.web.metrics import CONTENT_TYPE, METRICS
from cencomm.web.openapi import openapi_document
from cencomm.web.problems import problem_body, problem_response
from cencomm.web.schemas import ResponseModel


class HealthResponse(ResponseModel):
    status: Literal["ok"]


class ReadyResponse(ResponseModel):
    status: Literal["ready"]
    schema_revision: str | None


async def get_health(request: web.Request) -> web.Response:
    return web.json_response(HealthResponse(status="ok").model_dump())


async def get_ready(request: web.Request) -> web.Response:
    readiness = await request.app[SERVICES].health.readiness()
    if not readiness.ready:
        return problem_response(
            problem_body(503, readiness.problem or "unavailable", detail=readiness.detail)
        )
    return web.json_response(
        ReadyResponse(status="ready", schema_revision=readiness.revision).model_dump()
    )


def may_read_metrics(request: web.Request) -> bool:
    """Loopback, the addresses in `http.metrics_allowed_addresses` and holders of the metrics
    token read /metrics; deny by default. Behind trusted proxies the address is the client's
    they saw, so a proxy on the same host does not make every client loopback."""
    settings = request.app[SETTINGS].http
    if settings.metrics_token is not None:
        scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
        expected = settings.metrics_token.reveal().encode()
        if scheme.lower() == "bearer" and hmac.compare_digest(presented.encode(), expected):
            return True
    try:
        address = ipaddress.ip_address(client_ip(request) or "")
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback or any(
        address in ipaddress.ip_network(network, strict=False)
        for network in settings.metrics_allowed_addresses
    )


async def get_metrics(request: web.Request) -> web.Response:
    if not may_read_metrics(request):
        # Exactly what a missing route answers: the endpoint is not advertised to others.
        raise web.HTTPNotFound()
    body = request.app[METRICS].render()
    response = web.Response(body=body)
    response.headers["Content-Type"] = CONTENT_TYPE
    return response


async def get_openapi(request: web.Request) -> web.Response:
    return web.json_response(openapi_document(request.app))
