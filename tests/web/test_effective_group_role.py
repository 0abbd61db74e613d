"""A user's own membership decides their group role over their organisation's (review issue
12, item 3): a moderator can restrict one user below the rest of their organisation, and every
path (HTTP reads, posting, search, live delivery, alert recipients, `my_role`) agrees."""

from __future__ import annotations

from dataclasses import dataclass
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
    make_organization,
    post_message,
    sign,
)
from tests.web.live_helpers import connect, frame, live_settings, send_alert

API = "/api/v1"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return live_settings(settings)


@dataclass
class Setup:
    admin: Member
    group: dict[str, Any]
    author: Member
    user: Member  # in an organisation that is a member of the group


async def _setup(client: TestClient[Any, Any], organization_role: str, own_role: str) -> Setup:
    """`user`'s organisation joins the group as `organization_role`, then `user` alone as
    `own_role`."""
    admin = await make_member(client, Role.ADMIN, with_key=True)
    group = await make_group(client, admin)
    author = await make_member(client, Role.OFFICER, with_key=True)
    await add_member(client, admin, group, author)
    organization = await make_organization(client)
    user = await make_member(client, Role.OFFICER, organization=organization, with_key=True)
    resp = await client.post(
        f"{API}/groups/{group['id']}/members",
        json={"organization_id": str(organization.id), "role": organization_role},
        headers=admin.auth,
    )
    assert resp.status == 201, await resp.text()
    resp = await client.post(
        f"{API}/groups/{group['id']}/members",
        json={"user_id": user.id, "role": own_role},
        headers=admin.auth,
    )
    assert resp.status == 201, await resp.text()
    assert (await resp.json())["role"] == own_role
    return Setup(admin, group, author, user)


async def _my_role(client: TestClient[Any, Any], s: Setup) -> str | None:
    resp = await client.get(f"{API}/groups/{s.group['id']}", headers=s.user.auth)
    assert resp.status == 200, await resp.text()
    role: str | None = (await resp.json())["my_role"]
    listed = await (await client.get(f"{API}/groups", headers=s.user.auth)).json()
    assert [g["my_role"] for g in listed["groups"] if g["id"] == s.group["id"]] == [role]
    return role


async def test_a_user_made_observer_is_an_observer_though_their_organisation_is_a_member(
    client: TestClient[Any, Any],
) -> None:
    s = await _setup(client, organization_role="member", own_role="observer")
    gid = s.group["id"]
    assert await _my_role(client, s) == "observer"
    roster = await (await client.get(f"{API}/groups/{gid}/members", headers=s.user.auth)).json()
    assert [m["role"] for m in roster["members"] if m["user_id"] == s.user.id] == ["observer"]

    ws = await connect(client, s.user)
    for hc in ("TLP:RED", "TLP:AMBER+STRICT", "TLP:GREEN"):
        await post_message(client, s.author, s.group, hc=hc)
    data = await frame(ws)  # live delivery: only the TLP:GREEN one
    assert (data["seq"], data["message"]["hc"]) == (3, "TLP:GREEN")
    await ws.close()
    resp = await client.get(f"{API}/groups/{gid}/messages", headers=s.user.auth)
    assert [m["hc"] for m in (await resp.json())["messages"]] == ["TLP:GREEN"]
    resp = await client.get(f"{API}/search", params={"q": "masks"}, headers=s.user.auth)
    assert [m["hc"] for m in (await resp.json())["messages"]] == ["TLP:GREEN"]

    # Read-only: no post, and no alert to the group.
    resp = await client.post(
        f"{API}/groups/{gid}/messages",
        json={"jws": sign(s.user, envelope(s.user, gid, hc="TLP:GREEN"))},
        headers=s.user.auth,
    )
    assert resp.status == 403, await resp.text()
    await send_alert(client, s.user, {"groups": [gid]}, hc="TLP:GREEN", status=403)

    # Alerts to the group: a TLP:RED one does not reach them; a TLP:GREEN one does, read-only.
    red = await send_alert(client, s.admin, {"groups": [gid]}, hc="TLP:RED")
    green = await send_alert(client, s.admin, {"groups": [gid]}, hc="TLP:GREEN")
    assert (await client.get(f"{API}/alerts/{red['id']}", headers=s.user.auth)).status == 404
    assert (await client.get(f"{API}/alerts/{green['id']}", headers=s.user.auth)).status == 200
    resp = await client.post(f"{API}/alerts/{green['id']}/ack", json={}, headers=s.user.auth)
    assert resp.status == 403


async def test_a_user_made_member_cannot_moderate_though_their_organisation_moderates(
    client: TestClient[Any, Any],
) -> None:
    s = await _setup(client, organization_role="moderator", own_role="member")
    assert await _my_role(client, s) == "member"
    resp = await client.patch(
        f"{API}/groups/{s.group['id']}", json={"name": "Renamed"}, headers=s.user.auth
    )
    assert resp.status == 403, await resp.text()


async def test_removing_the_users_own_membership_restores_the_organisations_role(
    client: TestClient[Any, Any],
) -> None:
    s = await _setup(client, organization_role="member", own_role="observer")
    resp = await client.delete(
        f"{API}/groups/{s.group['id']}/members/{s.user.id}",
        params={"reason": "restriction lifted"},
        headers=s.admin.auth,
    )
    assert resp.status == 204, await resp.text()
    assert await _my_role(client, s) == "member"
    await post_message(client, s.user, s.group, hc="TLP:RED")
