"""The one helper that checks a problem response's shape."""

from __future__ import annotations

from typing import Any

from aiohttp import ClientResponse


async def assert_problem(
    resp: ClientResponse, status: int, slug: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = await resp.json(content_type=None)
    assert resp.status == status, body
    assert resp.content_type == "application/problem+json", resp.content_type
    assert body["status"] == status
    assert body["type"].startswith("urn:cencomm:problem:")
    assert isinstance(body["title"], str) and isinstance(body["detail"], str)
    if slug is not None:
        assert body["type"] == f"urn:cencomm:problem:{slug}", body
    return body
