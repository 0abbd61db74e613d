"""RFC 9457 problem documents and the error → status table."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from aiohttp import web

from cencomm.appkeys import REQUEST_ID
from cencomm.domain import errors
from cencomm.domain.problems import title_of

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_PREFIX = "urn:cencomm:problem:"

STATUS_BY_ERROR: dict[type[errors.CencommError], int] = {
    errors.BadRequest: 400,
    errors.Unauthenticated: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.TooLarge: 413,
    errors.UnsupportedMediaType: 415,
    errors.Invalid: 422,
    errors.RateLimited: 429,
    errors.Unavailable: 503,
}

# aiohttp's own HTTP errors (unknown route, wrong method, oversize body) get these slugs, titled
# with the HTTP reason phrase as they always were. For method-not-allowed, request-timeout and
# internal-error that is the catalogue's title; the generic slugs (bad-request, not-found, ...)
# raised as CencommError carry the catalogue's instead ("Not found", not "Not Found").
SLUG_BY_STATUS = {
    400: "bad-request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    408: "request-timeout",
    409: "conflict",
    413: "too-large",
    415: "unsupported-media-type",
    422: "invalid",
    429: "rate-limited",
    500: "internal-error",
    503: "unavailable",
}


def status_of(error: errors.CencommError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 500


def problem_body(
    status: int,
    slug: str,
    *,
    title: str | None = None,
    detail: str | None = None,
    instance: str | None = None,
    request_id: str | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_PREFIX + slug,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail or title or HTTPStatus(status).phrase,
    }
    if instance:
        body["instance"] = instance
    if request_id:
        body["request_id"] = request_id
    if extra:
        body.update(extra)
    return body


def problem_response(body: dict[str, Any], headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        status=body["status"],
        text=json.dumps(body, ensure_ascii=False),
        content_type=PROBLEM_CONTENT_TYPE,
        charset="utf-8",
        headers=headers,
    )


def from_error(error: errors.CencommError, request: web.Request) -> web.Response:
    status = status_of(error)
    extra: dict[str, Any] = {}
    if error.errors:
        extra["errors"] = [{"field": e.field, "message": e.message} for e in error.errors]
    headers: dict[str, str] = {}
    if isinstance(error, errors.RateLimited | errors.Unavailable) and error.retry_after:
        headers["Retry-After"] = str(error.retry_after)
    body = problem_body(
        status,
        error.slug,
        title=error.title,
        detail=error.detail or error.title,
        instance=request.path,
        request_id=request.get(REQUEST_ID),
        extra=extra,
    )
    return problem_response(body, headers)


def from_http_exception(exc: web.HTTPException, request: web.Request) -> web.Response:
    headers: dict[str, str] = {}
    if isinstance(exc, web.HTTPMethodNotAllowed):
        headers["Allow"] = ", ".join(sorted(exc.allowed_methods))
    return for_status(exc.status, request, headers)


def for_status(
    status: int, request: web.Request, headers: dict[str, str] | None = None
) -> web.Response:
    """A problem for a bare HTTP status (aiohttp's own errors)."""
    body = problem_body(
        status,
        SLUG_BY_STATUS.get(status, "error"),
        instance=request.path,
        request_id=request.get(REQUEST_ID),
    )
    return problem_response(body, headers)


def internal_error(request: web.Request) -> web.Response:
    body = problem_body(
        500,
        "internal-error",
        title=title_of("internal-error"),
        detail="The server failed; quote the request id when reporting it.",
        instance=request.path,
        request_id=request.get(REQUEST_ID),
    )
    return problem_response(body)
