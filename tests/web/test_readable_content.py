"""Readable content: every message, alert and search result carries its decoded payload claims
beside the verbatim JWS (null when the JWS is withheld), over HTTP and in live frames."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from cencomm.domain.users import Role
from cencomm.settings import Settings
from tests.factories import (
    Member,
    add_member,
    envelope,
    make_group,
    make_member,
    seizure_body,
    sign,
)
from tests.web.live_helpers import alert_payload, connect, live_settings, next_of


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return live_settings(settings)


def _claims(jws: str) -> dict[str, Any]:
    """Decoded independently of the server's code: base64url of the middle segment."""
    segment = jws.split(".")[1]
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    )
    return decoded


async def _setup(client: TestClient[Any, Any]) -> tuple[Member, dict[str, Any], Member]:
    mod = await make_member(client, Role.MODERATOR, with_key=True)
    group = await make_group(client, mod)
    officer = await make_member(client, Role.OFFICER, with_key=True)
    await add_member(client, mod, group, officer)
    return mod, group, officer


async def _post(
    client: TestClient[Any, Any], member: Member, group: dict[str, Any], payload: dict[str, Any]
) -> str:
    resp = await client.post(
        f"/api/v1/groups/{group['id']}/messages",
        json={"jws": sign(member, payload)},
        headers=member.auth,
    )
    assert resp.status == 201, await resp.text()
    posted: dict[str, Any] = await resp.json()
    return str(posted["id"])


async def _get(client: TestClient[Any, Any], member: Member, path: str, **params: str) -> Any:
    resp = await client.get(f"/api/v1{path}", params=params, headers=member.auth)
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def test_message_get_and_list_carry_the_signed_claims(client: TestClient[Any, Any]) -> None:
    mod, group, officer = await _setup(client)
    first = envelope(officer, group["id"], "text", hc="TLP:GREEN")
    first_id = await _post(client, officer, group, first)
    report = envelope(officer, group["id"], "seizure", body=seizure_body("FR"), reply_to=first_id)
    report_id = await _post(client, officer, group, report)

    single = await _get(client, mod, f"/messages/{report_id}")
    assert single["content"] == report == _claims(single["jws"])
    assert single["content"]["body"]["items"][0]["hs_code"] == "6307.90"
    assert single["content"]["reply_to"] == first_id
    page = await _get(client, officer, f"/groups/{group['id']}/messages")
    assert [m["content"] for m in page["messages"]] == [first, report]


async def test_hidden_message_has_null_content_except_for_moderators(
    client: TestClient[Any, Any],
) -> None:
    mod, group, officer = await _setup(client)
    payload = envelope(officer, group["id"], "text", body={"text": "wrong container number"})
    message_id = await _post(client, officer, group, payload)
    resp = await client.post(
        f"/api/v1/messages/{message_id}/hide", json={"reason": "typo"}, headers=mod.auth
    )
    assert resp.status == 200
    assert (await resp.json())["content"] == payload  # the moderator sees it

    shown = await _get(client, officer, f"/messages/{message_id}")
    assert shown["hidden"] is True and shown["jws"] is None and shown["content"] is None
    [listed] = (await _get(client, officer, f"/groups/{group['id']}/messages"))["messages"]
    assert listed["jws"] is None and listed["content"] is None
    assert (await _get(client, mod, f"/messages/{message_id}"))["content"] == payload


async def test_search_results_carry_content(client: TestClient[Any, Any]) -> None:
    _, group, officer = await _setup(client)
    payload = envelope(officer, group["id"], "notice", body={"title": "Route", "text": "via AE"})
    await _post(client, officer, group, payload)
    found = await _get(client, officer, "/search", q="route")
    assert [m["content"] for m in found["messages"]] == [payload]


async def test_alerts_get_and_list_carry_content(client: TestClient[Any, Any]) -> None:
    mod, group, officer = await _setup(client)
    payload = alert_payload(mod, {"groups": [group["id"]]}, title="Flagged consignment")
    resp = await client.post("/api/v1/alerts", json={"jws": sign(mod, payload)}, headers=mod.auth)
    assert resp.status == 201, await resp.text()
    alert_id = (await resp.json())["id"]
    single = await _get(client, officer, f"/alerts/{alert_id}")
    assert single["content"] == payload == _claims(single["jws"])
    listed = await _get(client, officer, "/alerts")
    assert [a["content"] for a in listed["alerts"]] == [payload]


async def test_live_message_and_alert_frames_carry_content(client: TestClient[Any, Any]) -> None:
    mod, group, officer = await _setup(client)
    ws = await connect(client, officer)
    try:
        payload = envelope(officer, group["id"], "text", body={"text": "live words"})
        await _post(client, officer, group, payload)
        frame = await next_of(ws, "message")
        assert frame["message"]["content"] == payload
        alert = alert_payload(mod, {"groups": [group["id"]]})
        resp = await client.post("/api/v1/alerts", json={"jws": sign(mod, alert)}, headers=mod.auth)
        assert resp.status == 201
        assert (await next_of(ws, "alert"))["alert"]["content"] == alert
    finally:
        await ws.close()


async def test_live_hidden_message_resumed_without_content(client: TestClient[Any, Any]) -> None:
    mod, group, officer = await _setup(client)
    message_id = await _post(client, officer, group, envelope(officer, group["id"]))
    resp = await client.post(
        f"/api/v1/messages/{message_id}/hide", json={"reason": "duplicate"}, headers=mod.auth
    )
    assert resp.status == 200
    ws = await connect(client, officer, resume={group["id"]: 0})
    try:
        frame = await next_of(ws, "message")
        assert frame["message"]["hidden"] is True
        assert frame["message"]["jws"] is None and frame["message"]["content"] is None
    finally:
        await ws.close()


async def test_observers_never_get_amber_strict_or_red_content(
    client: TestClient[Any, Any],
) -> None:
    mod, group, officer = await _setup(client)
    observer = await make_member(client, Role.OBSERVER)
    await add_member(client, mod, group, observer, role="observer")
    ws = await connect(client, observer)
    try:
        for hc in ("TLP:RED", "TLP:AMBER+STRICT"):
            body = {"text": f"secret words {hc}"}
            await _post(client, officer, group, envelope(officer, group["id"], hc=hc, body=body))
        green = envelope(officer, group["id"], hc="TLP:GREEN", body={"text": "secret words ok"})
        await _post(client, officer, group, green)
        frame = await next_of(ws, "message")  # the first frame the observer gets is GREEN
        assert frame["message"]["content"] == green
    finally:
        await ws.close()
    page = await _get(client, observer, f"/groups/{group['id']}/messages")
    assert [m["content"] for m in page["messages"]] == [green]
    found = await _get(client, observer, "/search", q="secret")
    assert [m["content"] for m in found["messages"]] == [green]
