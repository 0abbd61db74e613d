"""A socket never reads with the role its user had at connect time (review issue 12, item 1).

Every `resume` and every read from the database re-reads the user's session and role; a role
change closes the user's open sockets with 4409 at once, and the client reconnects with the
same token to carry on under the new role, exactly as HTTP decides.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp import ClientWebSocketResponse, WSMsgType
from aiohttp.test_utils import TestClient

from cencomm.appkeys import DATABASE
from cencomm.domain.users import Role
from cencomm.settings import Settings
from cencomm.storage.unit import Unit
from tests.factories import Member, add_member, make_group, make_member, post_message
from tests.web.live_helpers import WAIT, close_code, connect, frame, live_settings

API = "/api/v1"
WITHHELD = ("TLP:RED", "TLP:AMBER+STRICT")
CLOSE_ROLE_CHANGED = 4409  # docs/websocket.md: reconnect with the same token, then resume


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return live_settings(settings)


async def _set_role(client: TestClient[Any, Any], admin: Member, user: Member, role: Role) -> None:
    resp = await client.patch(
        f"{API}/users/{user.id}", json={"role": role.value}, headers=admin.auth
    )
    assert resp.status == 200, await resp.text()


async def _until_closed(ws: ClientWebSocketResponse) -> tuple[int, list[dict[str, Any]]]:
    """Frames until the server closes, stopping early (and failing) at the first message frame:
    a socket whose role changed must not serve anything before it closes."""
    frames: list[dict[str, Any]] = []
    while True:
        msg = await ws.receive(timeout=WAIT)
        if msg.type != WSMsgType.TEXT:
            assert msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED), msg
            assert ws.close_code is not None
            return ws.close_code, frames
        data = json.loads(msg.data)
        frames.append(data)
        assert data["type"] != "message", f"served after the role change: {frames}"


async def _red_group(client: TestClient[Any, Any]) -> tuple[Member, dict[str, Any], Member]:
    """An admin, an active group whose messages are TLP:RED, TLP:AMBER+STRICT then TLP:GREEN,
    and the officer who posted them."""
    admin = await make_member(client, Role.ADMIN)
    group = await make_group(client, admin)
    author = await make_member(client, Role.OFFICER, with_key=True)
    await add_member(client, admin, group, author)
    for hc in (*WITHHELD, "TLP:GREEN"):
        await post_message(client, author, group, hc=hc)
    return admin, group, author


async def test_a_demoted_moderators_socket_cannot_resume_a_group_they_are_not_in(
    client: TestClient[Any, Any],
) -> None:
    """The review's case: a global moderator demoted to officer resumes a group they are not a
    member of. The socket closes with 4409 instead; reconnected, it gets `not-found`."""
    admin, group, _ = await _red_group(client)
    moderator = await make_member(client, Role.MODERATOR)
    ws = await connect(client, moderator)
    await _set_role(client, admin, moderator, Role.OFFICER)
    await ws.send_json({"type": "resume", "groups": {group["id"]: 0}})
    code, _ = await _until_closed(ws)
    assert code == CLOSE_ROLE_CHANGED

    again = await connect(client, moderator, {group["id"]: 0})  # the same token still works
    data = await frame(again)
    assert data["type"] == "error" and data["problem"]["status"] == 404, data
    resp = await client.get(f"{API}/groups/{group['id']}/messages", headers=moderator.auth)
    assert resp.status == 404  # exactly as HTTP decides


async def test_a_member_demoted_to_observer_gets_no_withheld_messages_through_resume(
    client: TestClient[Any, Any],
) -> None:
    admin, group, author = await _red_group(client)
    member = await make_member(client, Role.OFFICER)
    await add_member(client, admin, group, member)
    ws = await connect(client, member)
    await _set_role(client, admin, member, Role.OBSERVER)
    await ws.send_json({"type": "resume", "groups": {group["id"]: 0}})
    code, _ = await _until_closed(ws)
    assert code == CLOSE_ROLE_CHANGED

    again = await connect(client, member, {group["id"]: 0})
    assert (await frame(again))["message"]["hc"] == "TLP:GREEN"
    await post_message(client, author, group, hc="TLP:RED")
    await post_message(client, author, group, hc="TLP:CLEAR")
    data = await frame(again)  # the live TLP:RED one was skipped too
    assert (data["seq"], data["message"]["hc"]) == (5, "TLP:CLEAR")
    resp = await client.get(f"{API}/groups/{group['id']}/messages", headers=member.auth)
    assert [m["hc"] for m in (await resp.json())["messages"]] == ["TLP:GREEN", "TLP:CLEAR"]


async def test_a_resume_rereads_the_role_even_when_no_notice_arrived(
    client: TestClient[Any, Any],
) -> None:
    """The role is changed in the database behind the server's back (as if the bus lost the
    notice): the next resume still reads it, and closes rather than serve the old role."""
    _, group, _ = await _red_group(client)
    moderator = await make_member(client, Role.MODERATOR)
    ws = await connect(client, moderator)

    def change(unit: Unit) -> None:
        users = unit.users
        user = users.get(moderator.user.id)
        users.update_profile(
            user.id,
            display_name=user.display_name,
            role=Role.OFFICER,
            disabled=False,
            email=user.email,
        )

    await client.app[DATABASE].write(change)
    await ws.send_json({"type": "resume", "groups": {group["id"]: 0}})
    code, _ = await _until_closed(ws)
    assert code == CLOSE_ROLE_CHANGED


async def test_a_role_change_closes_every_socket_of_that_user_and_no_other(
    client: TestClient[Any, Any],
) -> None:
    admin = await make_member(client, Role.ADMIN)
    group = await make_group(client, admin)
    officer = await make_member(client, Role.OFFICER)
    bystander = await make_member(client, Role.OFFICER)
    sockets = [await connect(client, officer) for _ in range(2)]
    other = await connect(client, bystander)
    await _set_role(client, admin, officer, Role.ANALYST)  # a promotion closes them too
    for ws in sockets:
        code, frames = await close_code(ws)
        assert (code, frames) == (CLOSE_ROLE_CHANGED, [])
    await add_member(client, admin, group, bystander)  # the bystander's socket is still served
    assert await frame(other) == {"type": "membership", "group_id": group["id"], "change": "added"}
    await other.close()


async def test_changes_other_than_the_role_leave_sockets_open(client: TestClient[Any, Any]) -> None:
    admin = await make_member(client, Role.ADMIN)
    group = await make_group(client, admin)
    officer = await make_member(client, Role.OFFICER, with_key=True)
    await add_member(client, admin, group, officer)
    ws = await connect(client, officer)
    for body in ({"display_name": "Renamed"}, {"role": "officer"}):
        resp = await client.patch(f"{API}/users/{officer.id}", json=body, headers=admin.auth)
        assert resp.status == 200
    await post_message(client, officer, group, hc="TLP:GREEN")
    assert (await frame(ws))["seq"] == 1
    await ws.close()


async def test_a_socket_of_a_user_disabled_behind_the_servers_back_closes_with_4401(
    client: TestClient[Any, Any],
) -> None:
    """The session is re-read from the database on resume: a user disabled without a notice
    (the bus lost it) is unauthenticated there, as on HTTP."""
    _, group, _ = await _red_group(client)
    moderator = await make_member(client, Role.MODERATOR)
    ws = await connect(client, moderator)

    def change(unit: Unit) -> None:
        users = unit.users
        user = users.get(moderator.user.id)
        users.update_profile(
            user.id,
            display_name=user.display_name,
            role=user.role,
            disabled=True,
            email=user.email,
        )

    await client.app[DATABASE].write(change)
    await ws.send_json({"type": "resume", "groups": {group["id"]: 0}})
    code, _ = await _until_closed(ws)
    assert code == 4401
