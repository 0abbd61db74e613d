"""Operational endpoints: liveness, readiness, metrics and the OpenAPI document."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel

from cencomm.appkeys import METRICS, SERVICES
from cencomm.web.metrics import CONTENT_TYPE
from cencomm.web.openapi import openapi_document
from cencomm.web.problems import problem_body, problem_response


class HealthResponse(BaseModel):
    status: str


class ReadyResponse(BaseModel):
    status: str
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


async def get_metrics(request: web.Request) -> web.Response:
    body = request.app[METRICS].render()
    response = web.Response(body=body)
    response.headers["Content-Type"] = CONTENT_TYPE
    return response


async def get_openapi(request: web.Request) -> web.Response:
    return web.json_response(openapi_document(request.app))
