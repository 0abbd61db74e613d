"""Operational endpoints: liveness, readiness, metrics and the OpenAPI document."""

from __future__ import annotations

import logging

from aiohttp import web
from pydantic import BaseModel

from cencomm.appkeys import DATABASE, METRICS, SCHEMA_HEAD
from cencomm.storage.migrate import current_revision
from cencomm.web.metrics import CONTENT_TYPE
from cencomm.web.openapi import openapi_document
from cencomm.web.problems import problem_body, problem_response

logger = logging.getLogger(__name__)


class HealthResponse(BaseModel):
    status: str


class ReadyResponse(BaseModel):
    status: str
    schema_revision: str | None


async def get_health(request: web.Request) -> web.Response:
    return web.json_response(HealthResponse(status="ok").model_dump())


async def get_ready(request: web.Request) -> web.Response:
    db = request.app[DATABASE]
    try:
        async with db.read_engine.connect() as conn:
            revision = await current_revision(conn)
    except Exception:  # any driver failure means "not ready", never a 500
        logger.warning("readiness check: database unreachable", exc_info=True)
        return problem_response(
            problem_body(503, "database-unavailable", detail="the database does not answer")
        )
    head = request.app[SCHEMA_HEAD]
    if revision != head:
        return problem_response(
            problem_body(
                503, "schema-outdated",
                detail=f"schema revision {revision} is not the head {head}; run `cencomm migrate`",
            )
        )
    return web.json_response(ReadyResponse(status="ready", schema_revision=revision).model_dump())


async def get_metrics(request: web.Request) -> web.Response:
    body = request.app[METRICS].render()
    response = web.Response(body=body)
    response.headers["Content-Type"] = CONTENT_TYPE
    return response


async def get_openapi(request: web.Request) -> web.Response:
    return web.json_response(openapi_document(request.app))
