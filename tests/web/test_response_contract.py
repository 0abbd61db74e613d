"""The check every test runs under: answers must match their route's declared model."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from cencomm.web.problems import PROBLEM_CONTENT_TYPE, problem_body
from cencomm.web.routes import Route, setup_routes
from cencomm.web.schemas import ResponseModel
from tests.contract import ResponseContract, check_body


class Thing(ResponseModel):
    id: str
    size: int
    note: str | None


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


def test_an_answer_with_the_declared_fields_passes() -> None:
    body = _json({"id": "a", "size": 1, "note": None})
    assert check_body(Thing, 200, "application/json", body) is None


def test_a_wrong_field_is_caught() -> None:
    failure = check_body(Thing, 200, "application/json", _json({"id": "a", "size": 1, "nte": None}))
    assert failure is not None
    assert "Thing" in failure and "nte" in failure and "note" in failure


def test_a_wrong_type_is_caught_without_coercion() -> None:
    failure = check_body(Thing, 200, "application/json", _json({"id": 1, "size": "1", "note": ""}))
    assert failure is not None and "id" in failure and "size" in failure


def test_problems_are_checked_against_the_problem_shape() -> None:
    good = problem_body(404, "not-found", instance="/x", request_id="r")
    assert check_body(None, 404, PROBLEM_CONTENT_TYPE, _json(good)) is None
    assert check_body(None, 409, PROBLEM_CONTENT_TYPE, _json(good)) is not None  # status differs
    for bad in ({**good, "stack": "..."}, {**good, "instance": None}, {**good, "type": "x"}):
        assert check_body(None, 404, PROBLEM_CONTENT_TYPE, _json(bad)) is not None


def test_answers_without_a_declared_model_are_not_checked() -> None:
    assert check_body(None, 200, "application/json", b'{"anything": 1}') is None
    assert check_body(Thing, 200, "text/csv", b"a,b\r\n") is None


async def _thing(request: web.Request) -> web.Response:
    return web.json_response({"id": "a", "size": 1, "note": None, "secret": "leaked"})


async def test_the_hook_records_what_a_route_answers_against_its_model() -> None:
    app = web.Application()
    setup_routes(
        app, (Route("GET", "/thing", _thing, "A thing", "test", auth=False, response=Thing),)
    )
    contract = ResponseContract()
    contract.watch(app)
    async with TestClient(TestServer(app)) as client:
        assert (await client.get("/thing")).status == 200
        assert (await client.get("/nowhere")).status == 404  # aiohttp's own: no problem body
    assert len(contract.failures) == 1, contract.failures
    assert contract.failures[0].startswith("GET /thing: 200 does not match Thing: secret")


async def test_every_app_of_the_suite_is_watched(
    client: TestClient[Any, Any], response_contract: ResponseContract
) -> None:
    assert (await client.get("/health")).status == 200
    assert (await client.get("/api/v1/no-such-route")).status == 404
    assert response_contract.failures == []
    assert client.app is not None and response_contract.watches(client.app)
