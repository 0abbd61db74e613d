"""Request bodies and query strings → validated models, with field-level problems."""

from __future__ import annotations

import typing
from typing import TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from cencomm.appkeys import SETTINGS
from cencomm.domain.errors import BadRequest, FieldError, Invalid, TooLarge, UnsupportedMediaType

M = TypeVar("M", bound=BaseModel)


def field_path(prefix: str, loc: tuple[int | str, ...]) -> str:
    """`("items", 0, "unit")` → `body.items[0].unit`."""
    path = prefix
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def validation_problem(exc: ValidationError, prefix: str) -> Invalid:
    errors = tuple(
        FieldError(field_path(prefix, tuple(err["loc"])), err["msg"]) for err in exc.errors()
    )
    first = errors[0] if errors else FieldError(prefix, "invalid")
    return Invalid(
        f"{first.field}: {first.message}",
        slug="validation-failed",
        errors=errors,
    )


async def read_body(request: web.Request, limit: int) -> bytes:
    """The whole body, refusing with 413 as soon as it passes `limit`, whatever it claimed."""
    if request.content_length is not None and request.content_length > limit:
        raise TooLarge(f"request bodies are limited to {limit} bytes", slug="body-too-large")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"request bodies are limited to {limit} bytes", slug="body-too-large")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: web.Request, model: type[M]) -> M:
    """Parse and validate a JSON request body.

    Raises:
        UnsupportedMediaType: the body is not declared as JSON.
        TooLarge: the body is over the JSON limit.
        BadRequest: the body is not JSON.
        Invalid: the JSON does not match the model (with one entry per bad field).
    """
    if request.content_type != "application/json":
        raise UnsupportedMediaType("send the body as application/json", slug="json-required")
    raw = await read_body(request, request.app[SETTINGS].http.max_json_bytes)
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        if any(err["type"] == "json_invalid" for err in exc.errors()):
            raise BadRequest("the body is not valid JSON", slug="malformed-json") from None
        raise validation_problem(exc, "body") from None


def _list_params(model: type[BaseModel]) -> frozenset[str]:
    """Query parameters the model takes as a list (`?group_id=a&group_id=b`)."""
    return frozenset(
        field.alias or name
        for name, field in model.model_fields.items()
        if typing.get_origin(field.annotation) is list
    )


def read_query(request: web.Request, model: type[M]) -> M:
    """Validate the query string; a parameter repeated where the model takes one value is
    refused rather than guessed at."""
    query = request.query
    lists = _list_params(model)
    for key in query:
        if key not in lists and len(query.getall(key)) > 1:
            raise Invalid(
                f"query parameter {key} is repeated",
                slug="validation-failed",
                errors=(FieldError(f"query.{key}", "given more than once"),),
            )
    values = {key: query.getall(key) if key in lists else query[key] for key in query}
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise validation_problem(exc, "query") from None
