"""Moderation, filtered search and live messages (API.md "Messages", "Live events"), for
`CencommClient`."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from typing import Any

import aiohttp

from cencomm.client.errors import ClientError, TransportError
from cencomm.client.paging import pages, segment
from cencomm.client.session import API_PREFIX, BaseClient

# The filters of `GET /search` besides `q` and `group_id` (API.md "Messages").
SEARCH_FILTERS = ("typ", "from", "to", "country", "category", "sender_org")


class LiveClosed(ClientError):
    """The server ended the live connection (`code`: the WebSocket close code, e.g. 4401
    for a session that ended, 4408 for a consumer that fell behind)."""

    def __init__(self, code: int | None, detail: str) -> None:
        super().__init__(detail)
        self.code = code


class MessagesApi(BaseClient):
    """Hiding and showing messages, searching with filters, following a group live."""

    async def hide_message(self, message_id: str, reason: str) -> dict[str, Any]:
        """`POST /messages/{id}/hide {reason}` (group moderators, admins, moderators).

        Returns:
            The message, `hidden: true` with the `hidden_reason`.

        Raises:
            ProblemError: 403 for a member who may not moderate; 404; 422 (empty reason).
        """
        message: dict[str, Any] = await self.request_json(
            "POST", f"/messages/{segment(message_id)}/hide", json_body={"reason": reason}
        )
        return message

    async def unhide_message(self, message_id: str) -> dict[str, Any]:
        """`POST /messages/{id}/unhide`: show a hidden message again (see `hide_message`)."""
        message: dict[str, Any] = await self.request_json(
            "POST", f"/messages/{segment(message_id)}/unhide"
        )
        return message

    def search_messages(
        self,
        q: str,
        *,
        group_id: str | None = None,
        filters: Mapping[str, str] | None = None,
        limit: int = 100,
    ) -> AsyncIterator[dict[str, Any]]:
        """`GET /search`: readable messages matching the words `q` (each a prefix), newest
        first, every page.

        Args:
            group_id: only this group's messages.
            filters: any of `typ` (text | notice | seizure), `from` and `to` (YYYY-MM-DD,
                inclusive), `country` (ISO alpha-2), `category`, `sender_org` (an
                organisation id); None values are left out.
            limit: page size (1-500).

        Raises:
            ValueError: an unknown filter name.
            ProblemError: 422 naming every bad filter; 404 for a group not visible.
        """
        params: dict[str, str | int] = {"q": q}
        if group_id is not None:
            params["group_id"] = group_id
        for name, value in (filters or {}).items():
            if name not in SEARCH_FILTERS:
                raise ValueError(f"unknown search filter {name!r}")
            if value is not None:
                params[name] = value
        return pages(self, "/search", "messages", params, limit)

    async def live_messages(
        self, groups: Mapping[str, int], *, heartbeat: float = 30.0
    ) -> AsyncGenerator[dict[str, Any], None]:
        """Follow groups live over `GET /api/v1/ws`: authenticate with the first frame,
        resume each group after the given seq (no gap, no duplicate), then yield every
        `{"type": "message", "group_id", "seq", "message"}` frame of those groups as it
        arrives, and `message.hidden` frames. Runs until the caller stops iterating.

        Args:
            groups: group id → the last seq already seen (0: from the first message).

        Raises:
            LiveClosed: the server closed the connection (session ended, fell behind ...).
            TransportError: the server could not be reached.
        """
        url = self.base_url.replace("http", "ws", 1) + API_PREFIX + "/ws"
        token = await self._access_token()
        try:
            async with self._http().ws_connect(url, heartbeat=heartbeat) as ws:
                await ws.send_json({"type": "auth", "token": token})
                ready = await ws.receive()
                frame = _frame(ready)
                if frame.get("type") != "ready":
                    raise _closed(ws, frame)
                await ws.send_json({"type": "resume", "groups": dict(groups)})
                wanted = set(groups)
                async for message in ws:
                    frame = _frame(message)
                    kind = frame.get("type")
                    if kind == "error":
                        raise _closed(ws, frame)
                    if kind in {"message", "message.hidden"} and frame.get("group_id") in wanted:
                        yield frame
                raise _closed(ws, {})
        except aiohttp.ClientError as exc:
            raise TransportError(f"GET {API_PREFIX}/ws: {type(exc).__name__}: {exc}") from exc


def _frame(message: aiohttp.WSMessage) -> dict[str, Any]:
    if message.type is aiohttp.WSMsgType.TEXT:
        try:
            value = json.loads(message.data)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}
    return {}


def _closed(ws: aiohttp.ClientWebSocketResponse, frame: Mapping[str, Any]) -> LiveClosed:
    problem = frame.get("problem")
    detail = problem.get("detail") if isinstance(problem, Mapping) else None
    code = ws.close_code
    return LiveClosed(
        code, f"the server closed the live connection (code {code}): {detail or 'no reason'}"
    )


__all__ = ["SEARCH_FILTERS", "LiveClosed", "MessagesApi", "segment"]
