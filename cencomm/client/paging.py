"""Path segments and cursor-paged lists: how every `CencommClient` call names and walks things."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import quote

from cencomm.client.session import BaseClient

PAGE = 500


def segment(value: str) -> str:
    """One path segment, percent-encoded so an id can never change the path."""
    return quote(str(value), safe="")


async def pages(
    api: BaseClient,
    path: str,
    key: str,
    params: Mapping[str, str | int] | None = None,
    limit: int = PAGE,
) -> AsyncIterator[dict[str, Any]]:
    """Every item of a cursor-paged list (`{key: [...], next}`), following `next`."""
    cursor: str | None = None
    while True:
        query: dict[str, str | int] = {**(params or {}), "limit": limit}
        if cursor is not None:
            query["after"] = cursor
        page = await api.request_json("GET", path, params=query)
        for item in page[key]:
            yield item
        following = page.get("next")
        if following is None or not page[key]:
            return
        cursor = str(following)
