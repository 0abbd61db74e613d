"""Middlewares: request ids, access log and metrics, problem rendering, security headers."""

from __future__ import annotations

import contextvars
import logging
import random
import re
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from cencomm.appkeys import REQUEST_ID, SETTINGS
from cencomm.domain.errors import CencommError
from cencomm.web import problems
from cencomm.web.metrics import METRICS

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

logger = logging.getLogger(__name__)
access_logger = logging.getLogger("cencomm.access")

REQUEST_ID_HEADER = "X-Request-Id"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
# The request a piece of work is done for: it follows the request's tasks and (the database copies
# the context into its threads) its statements, and is unset in background work.
CURRENT_REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "cencomm_request_id", default=None
)

API_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
}
API_CSP = "default-src 'none'; frame-ancestors 'none'"


def route_label(request: web.Request) -> str:
    """The route template (`/api/v1/groups/{id}`), never the raw path, to bound label values."""
    route = request.match_info.route
    resource = route.resource
    if resource is None or isinstance(request.match_info, web.HTTPException):
        return "unmatched"
    return resource.canonical


# Request ids label log lines and answers; they guard nothing (a caller may send its own), so
# they need not be unpredictable. `uuid4()` reads the OS's random source on every request, a
# system call that gives up the GIL to the database threads (3 % of the event loop at 64
# clients, bench/RESULTS.md); a generator seeded once from the OS does not, at a fifth of the
# cost (0.45 against 2.2 µs here).
_request_ids = random.Random()  # noqa: S311


def new_request_id() -> str:
    """32 hex digits, like `uuid4().hex`."""
    return f"{_request_ids.getrandbits(128):032x}"


@web.middleware
async def request_id_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    # Accept a caller's id only if it is harmless to echo and log; otherwise make our own.
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    request_id = incoming if _VALID_REQUEST_ID.match(incoming) else new_request_id()
    request[REQUEST_ID] = request_id
    token = CURRENT_REQUEST_ID.set(request_id)
    try:
        response = await handler(request)
    finally:
        CURRENT_REQUEST_ID.reset(token)
    response.headers[REQUEST_ID_HEADER] = request_id
    return response


@web.middleware
async def observe_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """One access-log line and one metrics sample per request (the path without query string)."""
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    finally:
        elapsed = time.perf_counter() - started
        route = route_label(request)
        request.app[METRICS].observe(request.method, route, status, elapsed)
        if request.app[SETTINGS].logging.access_log:
            access_logger.info(
                "request",
                extra={
                    "request_id": request.get(REQUEST_ID),
                    "method": request.method,
                    "path": request.path,
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                    "remote": request.remote,
                },
            )


@web.middleware
async def problem_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure becomes an RFC 9457 document; nothing else ever reaches the client."""
    try:
        response = await handler(request)
    except CencommError as error:
        return problems.from_error(error, request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise  # redirects and the like pass through
        return problems.from_http_exception(exc, request)
    except Exception:
        logger.exception(
            "unhandled error", extra={"request_id": request.get(REQUEST_ID), "path": request.path}
        )
        return problems.internal_error(request)
    if (
        response.status >= 400
        and isinstance(response, web.Response)
        and (response.content_type != problems.PROBLEM_CONTENT_TYPE)
    ):
        # A handler or aiohttp produced a plain error response: render it as a problem too.
        return problems.for_status(response.status, request)
    return response


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: applies to every response, streamed ones and errors included."""
    for name, value in API_SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers.setdefault("Content-Security-Policy", API_CSP)
    # Do not advertise the server software and its version.
    response.headers["Server"] = "cencomm"
    if request.path.startswith("/api/"):
        response.headers.setdefault("Cache-Control", "no-store")
