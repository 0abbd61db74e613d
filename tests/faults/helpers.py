"""Helpers for the fault tests: a 503 checked whole, and what the database holds."""

from __future__ import annotations

from typing import Any

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.factories import Member, envelope, sign
from tests.problems import assert_problem


async def assert_unavailable(resp: ClientResponse) -> dict[str, Any]:
    """503 `unavailable`, as a problem, with a `Retry-After` of whole seconds."""
    body = await assert_problem(resp, 503, "unavailable")
    retry_after = resp.headers.get("Retry-After", "")
    assert retry_after.isdigit() and int(retry_after) >= 1, resp.headers
    assert "request_id" in body
    return body


async def scalar(database_url: str, sql: str, **params: Any) -> Any:
    """One value read on a connection of its own (not the server's)."""
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            return (await conn.execute(text(sql), params)).scalar()
    finally:
        await engine.dispose()


async def audit_count(database_url: str) -> int:
    return int(await scalar(database_url, "SELECT count(*) FROM audit_entry"))


async def messages_with_cid(database_url: str, cid: str) -> int:
    return int(await scalar(database_url, "SELECT count(*) FROM message WHERE cid = :cid", cid=cid))


async def send_post(
    client: TestClient[Any, Any], member: Member, group: dict[str, Any], jws: str
) -> ClientResponse:
    return await client.post(
        f"/api/v1/groups/{group['id']}/messages", json={"jws": jws}, headers=member.auth
    )


def signed_post(member: Member, group: dict[str, Any], text_: str) -> tuple[str, str]:
    """A signed text post and its cid (a retry sends the very same JWS)."""
    payload = envelope(member, group["id"], body={"text": text_})
    return str(payload["cid"]), sign(member, payload)
