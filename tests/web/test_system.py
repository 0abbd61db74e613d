"""Health, readiness, metrics, OpenAPI, and the problem format for every kind of failure."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from openapi_spec_validator import validate
from pydantic import BaseModel, ConfigDict
from pytest_aiohttp import AiohttpClient

from cencomm.app import create_app
from cencomm.settings import Settings
from cencomm.web.parsing import read_json
from tests.problems import assert_problem


class Echo(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    name: str
    count: int


async def _echo(request: web.Request) -> web.Response:
    body = await read_json(request, Echo)
    return web.json_response(body.model_dump())


async def _boom(request: web.Request) -> web.Response:
    raise RuntimeError("secret internal detail")


@pytest.fixture
def app(settings: Settings) -> web.Application:
    app = create_app(settings)
    app.router.add_post("/test/echo", _echo)
    app.router.add_get("/test/boom", _boom)
    return app


async def test_health_answers_ok(client: TestClient[Any, Any]) -> None:
    resp = await client.get("/health")
    assert resp.status == 200
    assert await resp.json() == {"status": "ok"}
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Server"] == "cencomm"


async def test_ready_reports_schema_at_head(client: TestClient[Any, Any]) -> None:
    resp = await client.get("/ready")
    assert resp.status == 200
    body = await resp.json()
    assert body["status"] == "ready" and body["schema_revision"]


async def test_ready_is_503_when_schema_is_behind(
    aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    from tests.conftest import make_test_settings

    empty = make_test_settings(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}", tmp_path / "d")
    client = await aiohttp_client(create_app(empty))
    await assert_problem(await client.get("/ready"), 503, "schema-outdated")


async def test_ready_is_503_when_database_is_unreachable(
    aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    from tests.conftest import make_test_settings

    gone = make_test_settings(
        f"sqlite+aiosqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}", tmp_path / "d"
    )
    client = await aiohttp_client(create_app(gone))
    await assert_problem(await client.get("/ready"), 503, "database-unavailable")


async def test_metrics_are_prometheus_text_by_route_template(client: TestClient[Any, Any]) -> None:
    await client.get("/health")
    await client.get("/no/such/thing")
    resp = await client.get("/metrics")
    assert resp.status == 200
    assert resp.content_type == "text/plain"
    text = await resp.text()
    assert 'cencomm_http_requests_total{method="GET",route="/health",status="200"} 1.0' in text
    assert 'route="unmatched",status="404"' in text
    assert "cencomm_http_request_duration_seconds_bucket" in text
    assert "/no/such/thing" not in text


async def test_openapi_is_a_valid_3_1_document(client: TestClient[Any, Any]) -> None:
    resp = await client.get("/api/openapi.json")
    assert resp.status == 200
    doc = await resp.json()
    assert doc["openapi"] == "3.1.0"
    validate(doc)
    assert "/health" in doc["paths"]


async def test_openapi_lists_every_registered_route(client: TestClient[Any, Any]) -> None:
    doc = await (await client.get("/api/openapi.json")).json()
    for resource in client.app.router.resources():
        path = resource.canonical
        if path.startswith("/test/"):
            continue
        assert path in doc["paths"], path


async def test_unknown_route_is_a_404_problem(client: TestClient[Any, Any]) -> None:
    body = await assert_problem(await client.get("/api/v1/nothing-here"), 404, "not-found")
    assert body["request_id"]


async def test_wrong_method_is_a_405_problem_with_allow(client: TestClient[Any, Any]) -> None:
    resp = await client.delete("/health")
    await assert_problem(resp, 405, "method-not-allowed")
    assert "GET" in resp.headers["Allow"]


async def test_malformed_json_is_a_400_problem(client: TestClient[Any, Any]) -> None:
    resp = await client.post(
        "/test/echo", data=b'{"name": ', headers={"Content-Type": "application/json"}
    )
    await assert_problem(resp, 400, "malformed-json")


async def test_wrong_json_types_name_the_field(client: TestClient[Any, Any]) -> None:
    resp = await client.post("/test/echo", json={"name": "x", "count": "3"})
    body = await assert_problem(resp, 422, "validation-failed")
    assert [e["field"] for e in body["errors"]] == ["body.count"]


async def test_unknown_fields_are_refused(client: TestClient[Any, Any]) -> None:
    resp = await client.post("/test/echo", json={"name": "x", "count": 3, "extra": 1})
    body = await assert_problem(resp, 422, "validation-failed")
    assert body["errors"][0]["field"] == "body.extra"


async def test_non_json_content_type_is_415(client: TestClient[Any, Any]) -> None:
    resp = await client.post("/test/echo", data=b"name=x", headers={"Content-Type": "text/plain"})
    await assert_problem(resp, 415, "json-required")


async def test_json_body_over_one_mib_is_413(client: TestClient[Any, Any]) -> None:
    big = b'{"name": "' + b"a" * (1024 * 1024) + b'", "count": 1}'
    resp = await client.post(
        "/test/echo", data=io.BytesIO(big), headers={"Content-Type": "application/json"}
    )
    await assert_problem(resp, 413)


async def test_json_body_over_limit_without_content_length_is_413(
    client: TestClient[Any, Any],
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield b"a" * (64 * 1024)

    resp = await client.post(
        "/test/echo", data=chunks(), headers={"Content-Type": "application/json"}
    )
    await assert_problem(resp, 413)


async def test_unhandled_error_is_a_500_problem_with_request_id_only(
    client: TestClient[Any, Any], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="cencomm.web.middlewares"):
        resp = await client.get("/test/boom", headers={"X-Request-Id": "trace-me-12345"})
        body = await assert_problem(resp, 500, "internal-error")
    assert body["request_id"] == "trace-me-12345"
    assert "secret internal detail" not in await resp.text()
    assert any("secret internal detail" in (r.exc_text or "") or r.exc_info for r in caplog.records)


async def test_hostile_request_ids_are_replaced(client: TestClient[Any, Any]) -> None:
    resp = await client.get("/health", headers={"X-Request-Id": "bad id\u00e9<script>"})
    assert resp.headers["X-Request-Id"] != "bad id\u00e9<script>"
    assert len(resp.headers["X-Request-Id"]) == 32


async def test_each_request_without_an_id_gets_a_new_one(client: TestClient[Any, Any]) -> None:
    ids = [(await client.get("/health")).headers["X-Request-Id"] for _ in range(20)]
    assert len(set(ids)) == 20
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)
