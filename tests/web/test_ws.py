"""Live events over the WebSocket: authentication, frames, resume, policy, revocation, limits."""

from __future__ import annotations

import asyncio
import random
from dataclasses import replace
from typing import Any

import pytest
from aiohttp import WSMsgType, WSServerHandshakeError
from aiohttp.test_utils import TestClient

from cencomm.appkeys import HUB
from cencomm.domain.users import Role
from cencomm.settings import HttpSettings, Settings
from tests.factories import add_member, make_group, make_member, post_message
from tests.web.live_helpers import WS, close_code, connect, frame, live_settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    live = live_settings(settings, auth_timeout=0.5, max_connections_per_user=3)
    return replace(live, http=HttpSettings(allowed_origins=("https://ops.example.org",)))


async def _setup(client: TestClient[Any, Any]) -> tuple[Any, dict[str, Any], Any]:
    mod = await make_member(client, Role.MODERATOR)
    group = await make_group(client, mod)
    officer = await make_member(client, Role.OFFICER, with_key=True)
    await add_member(client, mod, group, officer)
    return mod, group, officer


# -- authentication ----------------------------------------------------------------------


async def test_auth_frame_without_token_is_refused_with_4401(client: TestClient[Any, Any]) -> None:
    ws = await client.ws_connect(WS)
    await ws.send_json({"type": "auth"})
    code, frames = await close_code(ws)
    assert code == 4401
    assert frames[0]["type"] == "error"
    assert frames[0]["problem"]["status"] == 401


async def test_bad_token_is_refused_with_4401(client: TestClient[Any, Any]) -> None:
    ws = await client.ws_connect(WS)
    await ws.send_json({"type": "auth", "token": "not.a.token"})
    code, frames = await close_code(ws)
    assert code == 4401
    assert frames[0]["problem"]["type"] == "urn:cencomm:problem:invalid-token"


async def test_no_auth_frame_in_time_closes_with_4401(client: TestClient[Any, Any]) -> None:
    ws = await client.ws_connect(WS)  # says nothing; the server's auth_timeout is 0.5 s here
    code, frames = await close_code(ws)
    assert code == 4401
    assert frames[0]["problem"]["type"] == "urn:cencomm:problem:auth-timeout"


async def test_a_frame_other_than_auth_first_closes_with_4401(client: TestClient[Any, Any]) -> None:
    mod = await make_member(client, Role.MODERATOR)
    ws = await client.ws_connect(WS)
    await ws.send_json({"type": "resume", "groups": {}, "token": mod.access_token})
    code, _ = await close_code(ws)
    assert code == 4401


async def test_ready_names_the_user(client: TestClient[Any, Any]) -> None:
    officer = await make_member(client, Role.OFFICER)
    ws = await client.ws_connect(WS)
    await ws.send_json({"type": "auth", "token": officer.access_token})
    assert await frame(ws) == {"type": "ready", "user_id": officer.id}


# -- frames --------------------------------------------------------------------------------


async def test_a_post_reaches_members_as_a_message_frame(client: TestClient[Any, Any]) -> None:
    mod, group, officer = await _setup(client)
    ws = await connect(client, mod)
    posted = await post_message(client, officer, group)
    data = await frame(ws)
    assert set(data) == {"type", "group_id", "seq", "message"}
    assert data["type"] == "message" and data["group_id"] == group["id"] and data["seq"] == 1
    message = data["message"]
    assert message["id"] == posted["id"] and message["seq"] == 1
    resp = await client.get(f"/api/v1/messages/{posted['id']}", headers=mod.auth)
    assert message == await resp.json()  # exactly what the HTTP API shows


async def test_resume_sends_history_then_live(client: TestClient[Any, Any]) -> None:
    mod, group, officer = await _setup(client)
    for _ in range(5):
        await post_message(client, officer, group)
    ws = await connect(client, mod, {group["id"]: 2})
    assert [(await frame(ws))["seq"] for _ in range(3)] == [3, 4, 5]
    await post_message(client, officer, group)
    assert (await frame(ws))["seq"] == 6


async def test_resume_of_an_invisible_group_answers_not_found(client: TestClient[Any, Any]) -> None:
    _, group, _ = await _setup(client)
    stranger = await make_member(client, Role.OFFICER)
    ws = await connect(client, stranger, {group["id"]: 0})
    data = await frame(ws)
    assert data["type"] == "error"
    assert data["problem"]["type"] == "urn:cencomm:problem:not-found"


async def test_a_malformed_client_frame_gets_an_error_and_the_socket_stays(
    client: TestClient[Any, Any],
) -> None:
    mod, group, officer = await _setup(client)
    ws = await connect(client, mod)
    await ws.send_str("{not json")
    assert (await frame(ws))["problem"]["type"] == "urn:cencomm:problem:invalid-frame"
    await post_message(client, officer, group)
    assert (await frame(ws))["type"] == "message"


async def test_resume_is_gapless_and_without_duplicates_under_concurrent_posts(
    client: TestClient[Any, Any],
) -> None:
    mod, group, officer = await _setup(client)
    readers = [await make_member(client, Role.OFFICER) for _ in range(3)]
    for reader in readers:
        await add_member(client, mod, group, reader)
    total = 60
    posted: list[int] = []
    progress = asyncio.Condition()

    async def post_all() -> None:
        for _ in range(total):
            seq = (await post_message(client, officer, group))["seq"]
            async with progress:
                posted.append(seq)
                progress.notify_all()

    async def follow(member: Any, start_after: int) -> tuple[int, list[int]]:
        async with progress:  # join while posts keep arriving
            await progress.wait_for(lambda: len(posted) >= start_after)
        after = random.randint(0, len(posted))  # any seq seen so far
        ws = await connect(client, member, {group["id"]: after})
        seqs: list[int] = []
        while not seqs or seqs[-1] < total:
            data = await frame(ws)
            if data["type"] == "message":
                seqs.append(data["seq"])
        await ws.close()
        return after, seqs

    rng = random.Random(7)
    clients = [follow(readers[i % len(readers)], rng.randint(0, total - 10)) for i in range(9)] + [
        follow(mod, 0)
    ]
    poster = asyncio.create_task(post_all())
    results = await asyncio.wait_for(asyncio.gather(*clients), timeout=120)
    await poster
    assert posted == list(range(1, total + 1))
    for after, seqs in results:
        assert seqs == list(range(after + 1, total + 1)), (after, seqs)


# -- policy --------------------------------------------------------------------------------


async def test_observers_never_get_red_or_amber_strict_messages_live(
    client: TestClient[Any, Any],
) -> None:
    mod, group, officer = await _setup(client)
    observer = await make_member(client, Role.OBSERVER)
    await add_member(client, mod, group, observer, role="observer")
    ws_observer = await connect(client, observer)
    ws_mod = await connect(client, mod)
    await post_message(client, officer, group, hc="TLP:RED")
    await post_message(client, officer, group, hc="TLP:AMBER+STRICT")
    await post_message(client, officer, group, hc="TLP:GREEN")
    assert [(await frame(ws_mod))["seq"] for _ in range(3)] == [1, 2, 3]
    data = await frame(ws_observer)
    assert data["seq"] == 3 and data["message"]["hc"] == "TLP:GREEN"


async def test_hidden_messages_are_announced_and_show_no_jws_to_members(
    client: TestClient[Any, Any],
) -> None:
    mod, group, officer = await _setup(client)
    posted = await post_message(client, officer, group)
    ws = await connect(client, officer, {group["id"]: 0})
    assert (await frame(ws))["message"]["jws"] is not None
    resp = await client.post(
        f"/api/v1/messages/{posted['id']}/hide", json={"reason": "duplicate"}, headers=mod.auth
    )
    assert resp.status == 200
    assert await frame(ws) == {
        "type": "message.hidden",
        "group_id": group["id"],
        "message_id": posted["id"],
    }
    ws2 = await connect(client, officer, {group["id"]: 0})
    again = await frame(ws2)
    assert again["message"]["hidden"] is True and again["message"]["jws"] is None


async def test_a_removed_member_stops_receiving_at_once(client: TestClient[Any, Any]) -> None:
    mod, group, officer = await _setup(client)
    member = await make_member(client, Role.OFFICER)
    await add_member(client, mod, group, member)
    ws = await connect(client, member)
    watcher = await connect(client, mod)
    await post_message(client, officer, group)
    assert (await frame(ws))["seq"] == 1
    resp = await client.delete(
        f"/api/v1/groups/{group['id']}/members/{member.id}", headers=mod.auth
    )
    assert resp.status == 204
    assert await frame(ws) == {"type": "membership", "group_id": group["id"], "change": "removed"}
    await post_message(client, officer, group)
    assert (await frame(watcher))["seq"] == 1
    assert (await frame(watcher))["seq"] == 2  # the post went out: the removed member got nothing
    await ws.send_json({"type": "resume", "groups": {group["id"]: 0}})
    data = await frame(ws)
    assert data["type"] == "error" and data["problem"]["status"] == 404


async def test_an_added_member_is_told_and_follows_live(client: TestClient[Any, Any]) -> None:
    mod, group, officer = await _setup(client)
    newcomer = await make_member(client, Role.OFFICER)
    ws = await connect(client, newcomer)
    await add_member(client, mod, group, newcomer)
    assert await frame(ws) == {"type": "membership", "group_id": group["id"], "change": "added"}
    await post_message(client, officer, group)
    assert (await frame(ws))["seq"] == 1


# -- revocation ----------------------------------------------------------------------------


async def test_logout_closes_that_sessions_sockets_with_4401(client: TestClient[Any, Any]) -> None:
    mod, _, officer = await _setup(client)
    ws = await connect(client, officer)
    other = await connect(client, mod)
    resp = await client.post("/api/v1/auth/logout", headers=officer.auth)
    assert resp.status == 204
    code, _ = await close_code(ws)
    assert code == 4401
    assert not other.closed


async def test_disabling_a_user_closes_their_sockets_with_4401(
    client: TestClient[Any, Any],
) -> None:
    admin = await make_member(client, Role.ADMIN)
    officer = await make_member(client, Role.OFFICER)
    ws = await connect(client, officer)
    resp = await client.patch(
        f"/api/v1/users/{officer.id}", json={"disabled": True}, headers=admin.auth
    )
    assert resp.status == 200
    code, _ = await close_code(ws)
    assert code == 4401


async def test_refresh_token_reuse_closes_the_sessions_sockets(
    client: TestClient[Any, Any],
) -> None:
    officer = await make_member(client, Role.OFFICER)
    ws = await connect(client, officer)
    first = await client.post("/api/v1/auth/refresh", json={"refresh_token": officer.refresh_token})
    assert first.status == 200
    reused = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": officer.refresh_token}
    )
    assert reused.status == 401
    code, _ = await close_code(ws)
    assert code == 4401


# -- limits --------------------------------------------------------------------------------


async def test_foreign_origins_are_refused_and_listed_ones_allowed(
    client: TestClient[Any, Any],
) -> None:
    officer = await make_member(client, Role.OFFICER)
    with pytest.raises(WSServerHandshakeError) as refused:
        await client.ws_connect(WS, origin="https://evil.example.com")
    assert refused.value.status == 403
    host = f"http://{client.host}:{client.port}"
    for origin in (host, "https://ops.example.org"):
        ws = await client.ws_connect(WS, origin=origin)
        await ws.send_json({"type": "auth", "token": officer.access_token})
        assert (await frame(ws))["type"] == "ready"
        await ws.close()


async def test_connections_per_user_are_capped(client: TestClient[Any, Any]) -> None:
    officer = await make_member(client, Role.OFFICER)
    sockets = [await connect(client, officer) for _ in range(3)]  # the cap is 3 here
    ws = await client.ws_connect(WS)
    await ws.send_json({"type": "auth", "token": officer.access_token})
    code, frames = await close_code(ws)
    assert code == 4429
    assert frames[0]["problem"]["type"] == "urn:cencomm:problem:too-many-connections"
    await sockets[0].close()
    again = await connect(client, officer)  # a closed one frees its place
    assert not again.closed


async def test_shutdown_closes_every_socket_with_1001(client: TestClient[Any, Any]) -> None:
    officer = await make_member(client, Role.OFFICER)
    ws = await connect(client, officer)
    waiting = await client.ws_connect(WS)  # not authenticated yet
    await client.app.shutdown()
    for socket in (ws, waiting):
        msg = await socket.receive(timeout=10)
        assert msg.type is WSMsgType.CLOSE and msg.data == 1001, msg  # the server's close frame
    assert client.app[HUB].connected == 0
