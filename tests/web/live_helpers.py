"""Helpers for live-event tests: sockets that authenticate and resume, frames with timeouts."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import replace
from typing import Any

from aiohttp import ClientWebSocketResponse, WSMsgType
from aiohttp.test_utils import TestClient

from cencomm.settings import AlertsSettings, HubSettings, NotificationsSettings, Settings
from tests.factories import Member, sign

WAIT = 10.0  # upper bound for one receive; tests never depend on timing
WS = "/api/v1/ws"


def live_settings(settings: Settings, **hub: Any) -> Settings:
    """No background sweeper or outbox sender (tests drive them), and the hub as given."""
    return replace(
        settings,
        hub=replace(HubSettings(), **hub),
        alerts=AlertsSettings(sweep_interval=0),
        notifications=NotificationsSettings(poll_interval=0, delay=60),
    )


async def frame(ws: ClientWebSocketResponse, wait: float = WAIT) -> dict[str, Any]:
    msg = await ws.receive(timeout=wait)
    assert msg.type == WSMsgType.TEXT, (msg.type, msg.data, ws.close_code)
    data: dict[str, Any] = json.loads(msg.data)
    return data


async def close_code(ws: ClientWebSocketResponse, wait: float = WAIT) -> tuple[int, list[Any]]:
    """Read until the server closes; returns the close code and the frames before it."""
    frames = []
    while True:
        msg = await ws.receive(timeout=wait)
        if msg.type == WSMsgType.TEXT:
            frames.append(json.loads(msg.data))
            continue
        assert msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING), msg
        code = ws.close_code
        assert code is not None
        return code, frames


async def connect(
    client: TestClient[Any, Any],
    member: Member,
    resume: dict[str, int] | None = None,
    **headers: str,
) -> ClientWebSocketResponse:
    """A socket past `ready`, with `resume` sent (an empty one when None: live from now)."""
    ws = await client.ws_connect(WS, headers=headers or None)
    await ws.send_json({"type": "auth", "token": member.access_token})
    ready = await frame(ws)
    assert ready == {"type": "ready", "user_id": member.id}, ready
    await ws.send_json({"type": "resume", "groups": resume or {}})
    return ws


async def next_of(ws: ClientWebSocketResponse, kind: str, wait: float = WAIT) -> dict[str, Any]:
    """The next frame of type `kind`, skipping others."""
    while True:
        data = await frame(ws, wait)
        if data["type"] == kind:
            return data


def alert_payload(
    member: Member,
    to: dict[str, Any],
    *,
    hc: str = "TLP:AMBER",
    priority: str = "flash",
    ack_required: bool = True,
    respond_by: int | None = None,
    expires_at: int | None = None,
    title: str = "Counterfeit masks via CN-AE route",
    text: str = "Check consignments declared as textiles.",
) -> dict[str, Any]:
    now = int(time.time())
    body: dict[str, Any] = {
        "title": title,
        "text": text,
        "priority": priority,
        "ack_required": ack_required,
    }
    if respond_by is not None:
        body["respond_by"] = respond_by
    if expires_at is not None:
        body["expires_at"] = expires_at
    return {
        "v": 1,
        "typ": "alert",
        "cid": str(uuid.uuid4()),
        "sub": member.id,
        "iat": now,
        "hc": hc,
        "body": body,
        "to": to,
    }


async def send_alert(
    client: TestClient[Any, Any],
    member: Member,
    to: dict[str, Any],
    *,
    status: int = 201,
    **body: Any,
) -> dict[str, Any]:
    resp = await client.post(
        "/api/v1/alerts",
        json={"jws": sign(member, alert_payload(member, to, **body))},
        headers=member.auth,
    )
    data: dict[str, Any] = await resp.json(content_type=None)
    assert resp.status == status, data
    return data
