"""Numeric inputs have bounds: out-of-range integers are a 422 problem, never a 500 or traceback."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from cencomm.domain.users import Role
from cencomm.settings import Settings
from cencomm.web.cursors import encode_cursor
from tests.factories import add_member, make_group, make_member, post_message
from tests.problems import assert_problem
from tests.web.live_helpers import connect, frame, live_settings

TOO_BIG = [str(2**63), str(2**64 + 5), "9" * 40]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return live_settings(settings)


@pytest.fixture
def no_errors_logged(caplog: pytest.LogCaptureFixture) -> Any:
    """Fails the test if anything was logged at ERROR (an unhandled exception and its traceback)."""
    with caplog.at_level(logging.ERROR):
        yield
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [(r.name, r.getMessage(), r.exc_text) for r in errors]


@pytest.mark.parametrize("value", TOO_BIG)
@pytest.mark.parametrize(
    ("path", "param", "extra"),
    [
        ("/groups/{group}/messages", "after", {}),
        ("/groups/{group}/messages", "before", {}),
        ("/audit", "after", {}),
        ("/audit/tree-heads", "after", {}),
        ("/audit/proof/inclusion", "index", {"tree_size": "1"}),
        ("/audit/proof/inclusion", "tree_size", {"index": "0"}),
        ("/audit/proof/consistency", "first", {"second": "1"}),
        ("/audit/proof/consistency", "second", {"first": "1"}),
    ],
)
async def test_integers_past_64_bits_in_queries_are_422(
    client: TestClient[Any, Any],
    no_errors_logged: None,
    path: str,
    param: str,
    extra: dict[str, str],
    value: str,
) -> None:
    admin = await make_member(client, Role.ADMIN)
    group = await make_group(client, admin)
    resp = await client.get(
        "/api/v1" + path.format(group=group["id"]),
        params={param: value, **extra},
        headers=admin.auth,
    )
    body = await assert_problem(resp, 422, "validation-failed")
    assert body["errors"][0]["field"] == f"query.{param}"


async def test_the_largest_64_bit_value_is_an_ordinary_empty_page(
    client: TestClient[Any, Any], no_errors_logged: None
) -> None:
    admin = await make_member(client, Role.ADMIN)
    group = await make_group(client, admin)
    biggest = str(2**63 - 1)
    resp = await client.get(
        f"/api/v1/groups/{group['id']}/messages", params={"after": biggest}, headers=admin.auth
    )
    assert resp.status == 200
    assert (await resp.json())["messages"] == []
    resp = await client.get("/api/v1/audit", params={"after": biggest}, headers=admin.auth)
    assert resp.status == 200
    assert (await resp.json())["entries"] == []


@pytest.mark.parametrize("index", [str(2**63), "9999999999999999999"])
async def test_audit_entry_index_past_64_bits_is_not_found(
    client: TestClient[Any, Any], no_errors_logged: None, index: str
) -> None:
    admin = await make_member(client, Role.ADMIN)
    resp = await client.get(f"/api/v1/audit/entries/{index}", headers=admin.auth)
    await assert_problem(resp, 404, "not-found")


@pytest.mark.parametrize(
    "position",
    [f"2026-01-01T00:00:00+00:00|{2**64}", "2026-01-01T00:00:00+00:00|-1", "2026-01-01|1"],
)
async def test_a_forged_search_cursor_is_422(
    client: TestClient[Any, Any], no_errors_logged: None, position: str
) -> None:
    admin = await make_member(client, Role.ADMIN)
    cursor = encode_cursor(f"{position}|{admin.id}")
    resp = await client.get(
        "/api/v1/search", params={"q": "masks", "after": cursor}, headers=admin.auth
    )
    body = await assert_problem(resp, 422, "validation-failed")
    assert body["errors"][0]["field"] == "query.after"


@pytest.mark.parametrize(
    "raw",
    ["2026-01-01T00:00:00|{id}", "not a time|{id}", "2026-01-01T00:00:00+00:00|not-an-id", "x"],
)
@pytest.mark.parametrize("path", ["/alerts", "/groups/{group}/attachments"])
async def test_a_forged_keyset_cursor_is_422(
    client: TestClient[Any, Any], no_errors_logged: None, raw: str, path: str
) -> None:
    """A timestamp without a timezone once reached the query and failed there (500)."""
    admin = await make_member(client, Role.ADMIN)
    group = await make_group(client, admin, code="CURSORS")
    cursor = encode_cursor(raw.format(id=admin.id))
    resp = await client.get(
        f"/api/v1{path.format(group=group['id'])}", params={"after": cursor}, headers=admin.auth
    )
    body = await assert_problem(resp, 422, "validation-failed")
    assert body["errors"][0]["field"] == "query.after"


@pytest.mark.parametrize("seq", [2**63, 2**70, -1])
async def test_a_resume_seq_past_64_bits_is_an_invalid_frame_and_the_socket_stays(
    client: TestClient[Any, Any], no_errors_logged: None, seq: int
) -> None:
    mod = await make_member(client, Role.MODERATOR)
    group = await make_group(client, mod)
    officer = await make_member(client, Role.OFFICER, with_key=True)
    await add_member(client, mod, group, officer)
    ws = await connect(client, mod, {group["id"]: seq})
    data = await frame(ws)
    assert data["type"] == "error", data
    assert data["problem"]["type"] == "urn:cencomm:problem:invalid-frame"
    await post_message(client, officer, group)
    data = await frame(ws)
    assert (data["type"], data["seq"]) == ("message", 1)
    await ws.close()
