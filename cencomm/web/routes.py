"""The single route table: every endpoint with its models, auth need and documented answers.

The same `Route` entries register the handlers and generate the OpenAPI document, so what the
handlers validate with is exactly what the document says.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from cencomm.appkeys import PRINCIPAL, ROUTES
from cencomm.web.auth import authenticate
from cencomm.web.handlers import system
from cencomm.web.openapi import install_openapi
from cencomm.web.parsing import read_json, read_query

Handler = Callable[..., Awaitable[web.StreamResponse]]

API = "/api/v1"


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    # Deny by default: every route needs a bearer token unless it says otherwise.
    auth: bool = True
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    # Extra problem statuses this route can answer, besides those implied by auth and body.
    problems: tuple[int, ...] = ()
    # For responses that are not JSON (metrics, files): their media type.
    media_type: str | None = None

    @property
    def name(self) -> str:
        return self.handler.__name__


ROUTES_TABLE: tuple[Route, ...] = (
    Route(
        "GET",
        "/health",
        system.get_health,
        "Liveness",
        "system",
        auth=False,
        response=system.HealthResponse,
    ),
    Route(
        "GET",
        "/ready",
        system.get_ready,
        "Readiness: database answers, schema at head",
        "system",
        auth=False,
        response=system.ReadyResponse,
        problems=(503,),
    ),
    Route(
        "GET",
        "/metrics",
        system.get_metrics,
        "Prometheus metrics",
        "system",
        auth=False,
        media_type="text/plain",
    ),
    Route(
        "GET",
        "/api/openapi.json",
        system.get_openapi,
        "This OpenAPI document",
        "system",
        auth=False,
        media_type="application/json",
    ),
)


def _endpoint(route: Route) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Wrap a handler: authenticate, then validate query and body, then call it."""

    @functools.wraps(route.handler)
    async def endpoint(request: web.Request) -> web.StreamResponse:
        if route.auth:
            request[PRINCIPAL] = await authenticate(request)
        kwargs: dict[str, Any] = {}
        if route.query is not None:
            kwargs["query"] = read_query(request, route.query)
        if route.body is not None:
            kwargs["body"] = await read_json(request, route.body)
        return await route.handler(request, **kwargs)

    return endpoint


def setup_routes(app: web.Application, routes: tuple[Route, ...] = ROUTES_TABLE) -> None:
    app[ROUTES] = routes
    for route in routes:
        app.router.add_route(route.method, route.path, _endpoint(route), name=route.name)
    install_openapi(app)
