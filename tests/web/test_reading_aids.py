"""What readers need besides the signed content: a group's `last_seq` (for unread counts) and
the sender organisation's name on messages and alerts."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from cencomm.domain.users import Role
from tests.factories import add_member, make_group, make_member, post_message
from tests.web.live_helpers import send_alert


async def test_last_seq_follows_the_newest_message(client: TestClient[Any, Any]) -> None:
    mod = await make_member(client, Role.MODERATOR, with_key=True)
    group = await make_group(client, mod)
    officer = await make_member(client, Role.OFFICER)
    await add_member(client, mod, group, officer)
    assert group.get("last_seq", 0) == 0
    for expected in (1, 2):
        await post_message(client, mod, group)
        one = await (await client.get(f"/api/v1/groups/{group['id']}", headers=officer.auth)).json()
        assert one["last_seq"] == expected
        listed = await (await client.get("/api/v1/groups", headers=officer.auth)).json()
        assert [g["last_seq"] for g in listed["groups"]] == [expected]


async def test_senders_carry_their_organisation_name(client: TestClient[Any, Any]) -> None:
    mod = await make_member(client, Role.MODERATOR, with_key=True)
    group = await make_group(client, mod)
    officer = await make_member(client, Role.OFFICER)
    await add_member(client, mod, group, officer)
    posted = await post_message(client, mod, group)
    message = await (
        await client.get(f"/api/v1/messages/{posted['id']}", headers=officer.auth)
    ).json()
    assert message["sender"]["organization_name"] == mod.organization.name
    timeline = await (
        await client.get(f"/api/v1/groups/{group['id']}/messages", headers=officer.auth)
    ).json()
    assert timeline["messages"][0]["sender"]["organization_name"] == mod.organization.name

    sent = await send_alert(client, mod, {"groups": [group["id"]]})
    alert = await (await client.get(f"/api/v1/alerts/{sent['id']}", headers=officer.auth)).json()
    assert alert["sender"]["organization_name"] == mod.organization.name
    inbox = await (await client.get("/api/v1/alerts", headers=officer.auth)).json()
    assert inbox["alerts"][0]["sender"]["organization_name"] == mod.organization.name
