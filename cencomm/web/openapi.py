"""OpenAPI 3.1 generated from the route table and its pydantic models."""

from __future__ import annotations

import functools
import re
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from cencomm import __version__
from cencomm.web.openapi_links import links_of
from cencomm.web.schemas import Problem

if TYPE_CHECKING:
    from cencomm.web.routes import Route

_CACHE: web.AppKey[dict[str, Any]] = web.AppKey("openapi_cache")
_PATH_PARAM = re.compile(r"{([^}:]+)(?::[^}]*)?}")
REF = "#/components/schemas/{model}"
# The header of a 503 problem: whole seconds after which the same request may succeed.
RETRY_AFTER = {
    "description": "Seconds after which the same request (a post: the same cid) may succeed",
    "schema": {"type": "integer", "minimum": 1},
}
RESPONSE_REF = "#/components/responses/{name}"
# Paths outside the request caps (`web/limits.py` EXEMPT_PATHS).
_UNCAPPED = frozenset({"/health", "/ready", "/metrics", "/api/v1/ws"})


def _limit_responses(route: Route) -> dict[int, str]:
    """The resource limits' answers a route can give (`web/limits.py`), as shared components:
    408 where a body is read (a JSON model, or an upload), 429 per user where authenticated,
    503 on the process's cap."""
    answers: dict[int, str] = {}
    if route.body is not None or (
        route.method in {"POST", "PUT", "PATCH"} and 413 in route.problems
    ):
        answers[408] = "RequestTimeout"
    if route.auth:
        answers[429] = "TooManyRequests"
    if route.path not in _UNCAPPED:
        answers[503] = "ServerBusy"
    return answers


def _limit_components() -> dict[str, Any]:
    problem = {"application/problem+json": {"schema": {"$ref": REF.format(model="Problem")}}}
    retry_after = {
        "Retry-After": {
            "description": "Seconds after which a retry may succeed",
            "schema": {"type": "integer", "minimum": 1},
        }
    }
    return {
        "RequestTimeout": {
            "description": "Request Timeout: the body was not sent in time (`request-timeout`)",
            "content": problem,
        },
        "TooManyRequests": {
            "description": "Too Many Requests (`too-many-requests`, or a route's own 429)",
            "headers": retry_after,
            "content": problem,
        },
        "ServerBusy": {
            "description": (
                "Service Unavailable (`server-busy`, `unavailable`, or a route's own 503)"
            ),
            "headers": retry_after,
            "content": problem,
        },
    }


def _problem_statuses(route: Route) -> list[int]:
    statuses = set(route.problems)
    if route.auth:
        statuses.add(401)
    if route.body is not None or route.upload_types:
        statuses.update({400, 413, 415, 422})
    if route.query is not None:
        statuses.add(422)
    if route.auth or route.body is not None:
        # A route that reads or writes the database may meet a passing failure of it or of the
        # disk: 503 `unavailable` with Retry-After (docs/problems.md).
        statuses.add(503)
    return sorted(statuses)


def _upload_body(media_types: tuple[str, ...]) -> dict[str, Any]:
    """A file as the raw body (its type one of the allowed), or as the one multipart part."""
    file = {"type": "string", "format": "binary"}
    content: dict[str, Any] = {}
    for media in media_types:
        if media == "multipart/form-data":
            content[media] = {
                "schema": {
                    "type": "object",
                    "properties": {"file": file},
                    "required": ["file"],
                    "additionalProperties": False,
                }
            }
        else:
            content[media] = {"schema": file}
    parts = [m for m in media_types if m != "multipart/form-data"]
    if "multipart/form-data" in content:
        # The part's own Content-Type is the file's type.
        content["multipart/form-data"]["encoding"] = {"file": {"contentType": ", ".join(parts)}}
    return {"required": True, "content": content}


def build_openapi(routes: tuple[Route, ...]) -> dict[str, Any]:
    models: list[type[BaseModel]] = []
    for route in routes:
        for model in (route.body, route.query, route.response):
            if model is not None and model not in models:
                models.append(model)
    models.append(Problem)
    _, defs = models_json_schema([(m, "validation") for m in models], ref_template=REF)
    schemas: dict[str, Any] = dict(defs.get("$defs", {}))

    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        path = _PATH_PARAM.sub(r"{\1}", route.path)
        operation: dict[str, Any] = {
            "operationId": route.name,
            "summary": route.summary,
            "tags": [route.tag],
            "parameters": [
                {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                for name in _PATH_PARAM.findall(route.path)
            ],
            "responses": {},
        }
        if route.query is not None:
            properties = route.query.model_json_schema(ref_template=REF)["properties"]
            for name, field in route.query.model_fields.items():
                # Keyed by the parameter's public name (`from` is `from_` in Python).
                schema = properties[field.alias or name]
                operation["parameters"].append(
                    {
                        "name": field.alias or name,
                        "in": "query",
                        "required": field.is_required(),
                        "schema": schema,
                    }
                )
        if route.body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": REF.format(model=route.body.__name__)}}
                },
            }
        if route.upload_types:
            operation["requestBody"] = _upload_body(route.upload_types)
        for status in (route.status, *route.also):
            ok: dict[str, Any] = {"description": HTTPStatus(status).phrase}
            if route.response is not None:
                ok["content"] = {
                    "application/json": {
                        "schema": {"$ref": REF.format(model=route.response.__name__)}
                    }
                }
            elif route.media_types:
                ok["content"] = {media: {} for media in route.media_types}
            elif route.media_type is not None:
                ok["content"] = {route.media_type: {}}
            if links := links_of(route.name):
                ok["links"] = links
            operation["responses"][str(status)] = ok
        for status in _problem_statuses(route):
            operation["responses"][str(status)] = {
                "description": HTTPStatus(status).phrase,
                "content": {
                    "application/problem+json": {"schema": {"$ref": REF.format(model="Problem")}}
                },
            }
            if status == 503:
                operation["responses"]["503"]["headers"] = {"Retry-After": RETRY_AFTER}
        for status, name in _limit_responses(route).items():
            operation["responses"][str(status)] = {"$ref": RESPONSE_REF.format(name=name)}
        if route.auth:
            operation["security"] = [{"bearer": []}]
        paths.setdefault(path, {})[route.method.lower()] = operation

    _check_links(paths)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "cencomm",
            "version": __version__,
            "description": "Secure intelligence exchange for customs enforcement operations.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": _limit_components(),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }


def _check_links(paths: dict[str, dict[str, Any]]) -> None:
    """Every link leads to an operation of the document, through parameters it has."""
    operations = {
        op["operationId"]: {p["name"] for p in op["parameters"]}
        for methods in paths.values()
        for op in methods.values()
    }
    for methods in paths.values():
        for op in methods.values():
            for response in op["responses"].values():
                for name, link in response.get("links", {}).items():
                    params = operations.get(link["operationId"])
                    if params is None or not set(link["parameters"]) <= params:
                        raise ValueError(f"link {name} of {op['operationId']} leads nowhere")


@functools.lru_cache(maxsize=8)
def _document(routes: tuple[Route, ...]) -> dict[str, Any]:
    return build_openapi(routes)


def install_openapi(app: web.Application, routes: tuple[Route, ...]) -> None:
    """Build the document once per route table, when the routes are set up; it is then served
    from memory. The document is a function of the route table alone, so every app of one
    process with the same table shares it (read only: never modified once built)."""
    app[_CACHE] = _document(routes)


def openapi_document(app: web.Application) -> dict[str, Any]:
    return app[_CACHE]
