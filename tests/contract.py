"""Every answer the suite gets is checked against what the route table declares.

`ResponseContract.watch(app)` hooks `on_response_prepare`: a JSON answer with a route's declared
status must validate against that route's `Route.response` model (extra members refused, no
type coercion), and every `application/problem+json` answer against `Problem`. Failures are
recorded, and the autouse fixture in `conftest.py` fails the test that caused them.
"""

from __future__ import annotations

from collections.abc import Iterable

from aiohttp import web
from pydantic import BaseModel, ValidationError

from cencomm.web.problems import PROBLEM_CONTENT_TYPE
from cencomm.web.routes import ROUTES, Route
from cencomm.web.schemas import Problem

JSON = "application/json"


def success_statuses(route: Route) -> frozenset[int]:
    """The statuses a route answers with its declared model: its own, and 200 for the routes
    that create (201) but answer an identical repeat with the same object (API.md), and the
    route's other declared ones (`also`)."""
    declared = frozenset({route.status, *route.also})
    return declared | {200} if route.status == 201 else declared


def check_body(
    model: type[BaseModel] | None, status: int, content_type: str, body: bytes
) -> str | None:
    """Why this answer breaks its declared shape, or None. `model` is the route's declared
    response model for this status (None: no JSON declared for it)."""
    if content_type == PROBLEM_CONTENT_TYPE:
        try:
            problem = Problem.model_validate_json(body, strict=True)
        except ValidationError as exc:
            return f"problem {status} does not match Problem: {_errors(exc)}"
        if problem.status != status:
            return f"problem says status {problem.status}, the answer is {status}"
        return None
    if content_type != JSON or model is None:
        return None
    try:
        model.model_validate_json(body, strict=True)
    except ValidationError as exc:
        return f"{status} does not match {model.__name__}: {_errors(exc)}"
    return None


def _errors(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or '(body)'}: {e['msg']}" for e in exc.errors()
    )


def route_of(request: web.Request, routes: Iterable[Route]) -> Route | None:
    """The route-table entry that answered `request` (None: no route matched)."""
    match = request.match_info
    if match.http_exception is not None:
        return None
    for route in routes:
        if route.name == match.route.name and route.method == match.route.method:
            return route
    return None


def check_answer(request: web.Request, response: web.StreamResponse) -> str | None:
    """Why this answer breaks the route table's declaration, or None. Streamed answers (files,
    exports, WebSockets) have no body to check here."""
    if not isinstance(response, web.Response) or not isinstance(response.body, bytes):
        return None
    routes: tuple[Route, ...] = request.app.get(ROUTES, ())
    route = route_of(request, routes)
    model: type[BaseModel] | None = None
    if route is not None and response.status in success_statuses(route):
        model = route.response
        if model is None and route.media_type is None and response.content_type == JSON:
            return f"{route.name} answers JSON ({response.status}) but declares no response model"
    elif route is not None and 200 <= response.status < 300 and response.content_type == JSON:
        return f"{route.name} answers {response.status}, which its route does not declare"
    return check_body(model, response.status, response.content_type, response.body)


class ResponseContract:
    """Collects the contract failures of the apps it watches."""

    def __init__(self) -> None:
        self.failures: list[str] = []

    def watch(self, app: web.Application) -> None:
        # Before the app starts: signals freeze with it.
        if not self.watches(app):
            app.on_response_prepare.append(self._on_prepare)

    def watches(self, app: web.Application) -> bool:
        return self._on_prepare in app.on_response_prepare

    async def _on_prepare(self, request: web.Request, response: web.StreamResponse) -> None:
        failure = check_answer(request, response)
        if failure is not None:
            self.failures.append(f"{request.method} {request.path}: {failure}")

    def report(self) -> str:
        return "answers that break their declared shape:\n" + "\n".join(self.failures)
