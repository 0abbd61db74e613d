"""`cencomm client groups ...` and `join-requests ...` as users run them: a member looks at
the group, an outsider asks to join, a member may not decide, the group's moderator does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from cencomm.domain.users import Role
from tests.client.shell import RUN_ONCE, login_shell, make_shell, one_line
from tests.factories import add_member, make_member

pytestmark = RUN_ONCE


async def test_groups_members_join_and_decide(client: TestClient[Any, Any], tmp_path: Path) -> None:
    officer = await make_shell(client, tmp_path, key=False)
    group_id = str(officer.group["id"])

    # A member lists, shows (by code, any case) and reads the roster.
    listed = await officer.ok("groups", "list")
    assert [(g["code"], g["id"], g["my_role"]) for g in listed["groups"]] == [
        ("STOP-2020", group_id, "member")
    ]
    code, out, err = await officer.text("groups", "show", "stop-2020")
    assert code == 0, err
    assert out.startswith("STOP-2020  Operation\n") and f"id: {group_id}" in out
    members = await officer.ok("groups", "members", group_id)
    roles = {m["user_id"]: m["role"] for m in members["members"]}
    assert roles[officer.member.id] == "member"

    # An outsider sees nothing of the group, asks to join; an unknown code answers the same.
    stranger = await make_member(client, Role.OFFICER)
    outsider = await login_shell(client, tmp_path, stranger, officer.group, key=False, name="out")
    code, out, err = await outsider.run("groups", "show", "STOP-2020")
    assert (code, out) == (1, "")
    assert "no group with code STOP-2020" in one_line(err)
    for name in ("STOP-2020", "NO-SUCH-OP"):
        asked = await outsider.ok("groups", "join", name, "--reason", "FR customs, Le Havre")
        assert asked == {"group_code": name, "status": "received"}
    code, out, err = await outsider.run("groups", "join", "STOP-2020", "--reason", "  ")
    assert (code, out) == (2, "")
    assert "--reason must not be empty" in one_line(err)

    # A plain member may not see or decide the requests.
    code, out, err = await officer.run("join-requests", "list", "--group", "STOP-2020")
    assert (code, out) == (1, "")
    assert one_line(err).startswith("cencomm client: 403 ")

    # The group's moderator lists the pending request, approves it; deciding twice is refused.
    admin = await make_member(client, Role.ADMIN)
    lead = await make_member(client, Role.OFFICER)
    await add_member(client, admin, officer.group, lead, role="moderator")
    moderator = await login_shell(client, tmp_path, lead, officer.group, key=False, name="mod")
    code, out, err = await moderator.text(
        "join-requests", "list", "--group", "STOP-2020", "--status", "pending"
    )
    assert code == 0, err
    assert stranger.user.username in out and "FR customs, Le Havre" in out
    pending = await moderator.ok("join-requests", "list", "--group", group_id)
    (request,) = pending["join_requests"]
    assert (request["user_id"], request["status"]) == (stranger.id, "pending")
    code, out, err = await officer.run("join-requests", "approve", request["id"])
    assert (code, out) == (1, "")
    assert one_line(err).startswith("cencomm client: 40")
    approved = await moderator.ok("join-requests", "approve", request["id"])
    assert (approved["id"], approved["status"]) == (request["id"], "approved")
    code, out, err = await moderator.run("join-requests", "reject", request["id"])
    assert (code, out) == (1, "")
    assert one_line(err).startswith("cencomm client: 409 ")

    # Admitted: the newcomer now sees the group.
    shown = await outsider.ok("groups", "show", "STOP-2020")
    assert (shown["id"], shown["my_role"]) == (group_id, "member")
    assert json.loads(json.dumps(shown))["status"] == "active"
