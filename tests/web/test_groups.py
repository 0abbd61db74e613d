"""Operation groups: lifecycle, membership, roster, join requests, and what non-members learn."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from cencomm.domain.users import Role
from tests.factories import add_member, make_group, make_member
from tests.problems import assert_problem

GROUPS = "/api/v1/groups"
MISSING = "00000000-0000-4000-8000-000000000000"


async def test_moderator_opens_a_planned_group_and_leads_it(client: TestClient[Any, Any]) -> None:
    mod = await make_member(client, Role.MODERATOR)
    resp = await client.post(
        GROUPS,
        json={
            "code": "stop-2020",
            "name": "Operation STOP",
            "description": "COVID-19 medicines",
            "starts_at": "2020-05-11T00:00:00Z",
            "ends_at": "2020-07-12T23:59:59Z",
        },
        headers=mod.auth,
    )
    assert resp.status == 201
    group = await resp.json()
    assert group["code"] == "STOP-2020" and group["status"] == "planned"
    assert group["my_role"] == "moderator"
    members = await (await client.get(f"{GROUPS}/{group['id']}/members", headers=mod.auth)).json()
    assert [(m["user_id"], m["role"]) for m in members["members"]] == [(mod.id, "moderator")]


@pytest.mark.parametrize("role", [Role.ANALYST, Role.OFFICER, Role.OBSERVER])
async def test_only_staff_open_groups(client: TestClient[Any, Any], role: Role) -> None:
    member = await make_member(client, role)
    resp = await client.post(GROUPS, json={"code": "OPX", "name": "X"}, headers=member.auth)
    await assert_problem(resp, 403)


async def test_duplicate_code_is_409(client: TestClient[Any, Any]) -> None:
    mod = await make_member(client, Role.MODERATOR)
    await make_group(client, mod, code="DUP-1")
    resp = await client.post(GROUPS, json={"code": "dup-1", "name": "Again"}, headers=mod.auth)
    await assert_problem(resp, 409, "duplicate-group-code")


@pytest.mark.parametrize(
    "body",
    [
        {"code": "a", "name": "short code"},
        {"code": "has space", "name": "x"},
        {"code": "OK-1", "name": ""},
        {"code": "OK-1", "name": "x", "starts_at": "2020-05-11"},
        {
            "code": "OK-1",
            "name": "x",
            "starts_at": "2020-05-11T00:00:00Z",
            "ends_at": "2020-05-10T00:00:00Z",
        },
        {"code": "OK-1", "name": "x", "roster_visible": "no"},
    ],
)
async def test_invalid_groups_are_422(
    client: TestClient[Any, Any], body: dict[str, object]
) -> None:
    mod = await make_member(client, Role.MODERATOR)
    await assert_problem(await client.post(GROUPS, json=body, headers=mod.auth), 422)


async def test_lifecycle_transitions(client: TestClient[Any, Any]) -> None:
    mod = await make_member(client, Role.MODERATOR)
    group = await make_group(client, mod, status="planned")
    url = f"{GROUPS}/{group['id']}"

    async def move(status: str) -> int:
        return (
            await client.patch(url, json={"status": status, "reason": "ops"}, headers=mod.auth)
        ).status

    assert await move("closed") == 409  # planned cannot close
    assert await move("active") == 200
    assert await move("archived") == 409
    assert await move("closed") == 200
    assert await move("active") == 200  # reopen
    assert await move("closed") == 200
    assert await move("archived") == 200
    resp = await client.patch(url, json={"status": "active"}, headers=mod.auth)
    await assert_problem(resp, 409, "invalid-transition")


async def test_group_moderator_may_patch_members_may_not(client: TestClient[Any, Any]) -> None:
    mod = await make_member(client, Role.MODERATOR)
    group = await make_group(client, mod)
    lead = await make_member(client, Role.OFFICER)
    officer = await make_member(client, Role.OFFICER)
    await add_member(client, mod, group, lead, "moderator")
    await add_member(client, mod, group, officer)
    url = f"{GROUPS}/{group['id']}"
    assert (await client.patch(url, json={"name": "Renamed"}, headers=lead.auth)).status == 200
    await assert_problem(await client.patch(url, json={"name": "No"}, headers=officer.auth), 403)


async def test_non_members_learn_nothing(client: TestClient[Any, Any]) -> None:
    mod = await make_member(client, Role.MODERATOR)
    group = await make_group(client, mod)
    stranger = await make_member(client, Role.OFFICER)
    for path in (
        f"{GROUPS}/{group['id']}",
        f"{GROUPS}/{group['id']}/members",
        f"{GROUPS}/{group['id']}/join-requests",
    ):
        hidden = await assert_problem(await client.get(path, headers=stranger.auth), 404)
        missing = await assert_problem(
            await client.get(path.replace(group["id"], MISSING), headers=stranger.auth), 404
        )
        assert set(hidden) == set(missing)
        assert {k: v for k, v in hidden.items() if k not in ("instance", "request_id")} == {
            k: v for k, v in missing.items() if k not in ("instance", "request_id")
        }
    resp = await client.patch(f"{GROUPS}/{group['id']}", json={"name": "x"}, headers=stranger.auth)
    await assert_problem(resp, 404)
    listed = await (await client.get(GROUPS, headers=stranger.auth)).json()
    assert listed["groups"] == []


async def test_organisation_membership_covers_future_users(client: TestClient[Any, Any]) -> None:
    mod = await make_member(client, Role.MODERATOR)
    group = await make_group(client, mod)
    first = await make_member(client, Role.OFFICER)
    resp = await client.post(
        f"{GROUPS}/{group['id']}/members",
        json={"organization_id": str(first.organization.id), "role": "member"},
        headers=mod.auth,
    )
    assert resp.status == 201
    later = await make_member(client, Role.OFFICER, organization=first.organization)
    got = await client.get(f"{GROUPS}/{group['id']}", headers=later.auth)
    assert got.status == 200 and (await got.json())["my_role"] == "member"
    resp = await client.delete(
        f"{GROUPS}/{group['id']}/organizations/{first.organization.id}", headers=mod.auth
    )
    assert resp.status == 204
    await assert_problem(await client.get(f"{GROUPS}/{group['id']}", headers=later.auth), 404)


async def test_removal_takes_effect_at_once(client: TestClient[Any, Any]) -> None:
    mod = await make_member(client, Role.MODERATOR)
    group = await make_group(client, mod)
    officer = await make_member(client, Role.OFFICER)
    await add_member(client, mod, group, officer)
    assert (await client.get(f"{GROUPS}/{group['id']}", headers=officer.auth)).status == 200
    resp = await client.delete(
        f"{GROUPS}/{group['id']}/members/{officer.id}",
        params={"reason": "left the operation"},
        headers=mod.auth,
    )
    assert resp.status == 204
    await assert_problem(await client.get(f"{GROUPS}/{group['id']}", headers=officer.auth), 404)
    resp = await client.delete(f"{GROUPS}/{group['id']}/members/{officer.id}", headers=mod.auth)
    await assert_problem(resp, 404)


async def test_the_last_moderator_stays(client: TestClient[Any, Any]) -> None:
    mod = await make_member(client, Role.MODERATOR)
    group = await make_group(client, mod)
    url = f"{GROUPS}/{group['id']}/members"
    await assert_problem(
        await client.delete(f"{url}/{mod.id}", headers=mod.auth), 409, "last-moderator"
    )
    resp = await client.post(url, json={"user_id": mod.id, "role": "member"}, headers=mod.auth)
    await assert_problem(resp, 409, "last-moderator")
    deputy = await make_member(client, Role.OFFICER)
    await add_member(client, mod, group, deputy, "moderator")
    # Two concurrent removals of the two moderators: one must be refused.
    results = await asyncio.gather(
        client.delete(f"{url}/{mod.id}", headers=mod.auth),
        client.delete(f"{url}/{deputy.id}", headers=mod.auth),
    )
    assert sorted(r.status for r in results) == [204, 409]


async def test_hidden_roster_shows_moderators_and_own_organisation(
    client: TestClient[Any, Any],
) -> None:
    mod = await make_member(client, Role.MODERATOR)
    group = await make_group(client, mod, roster_visible=False)
    a = await make_member(client, Role.OFFICER)
    a_colleague = await make_member(client, Role.OFFICER, organization=a.organization)
    b = await make_member(client, Role.OFFICER)
    for m in (a, a_colleague, b):
        await add_member(client, mod, group, m)
    seen = await (await client.get(f"{GROUPS}/{group['id']}/members", headers=a.auth)).json()
    ids = {m["user_id"] for m in seen["members"]}
    assert ids == {mod.id, a.id, a_colleague.id}
    full = await (await client.get(f"{GROUPS}/{group['id']}/members", headers=mod.auth)).json()
    assert len(full["members"]) == 4


async def test_add_member_validation(client: TestClient[Any, Any]) -> None:
    mod = await make_member(client, Role.MODERATOR)
    group = await make_group(client, mod)
    url = f"{GROUPS}/{group['id']}/members"
    observer = await make_member(client, Role.OBSERVER)
    for body, status in [
        ({"user_id": MISSING, "role": "member"}, 422),
        ({"organization_id": MISSING, "role": "member"}, 422),
        ({"role": "member"}, 422),
        (
            {
                "user_id": observer.id,
                "organization_id": str(observer.organization.id),
                "role": "member",
            },
            422,
        ),
        ({"user_id": observer.id, "role": "member"}, 422),
        ({"user_id": observer.id, "role": "chief"}, 422),
    ]:
        await assert_problem(await client.post(url, json=body, headers=mod.auth), status)
    resp = await client.post(
        url, json={"user_id": observer.id, "role": "observer"}, headers=mod.auth
    )
    assert resp.status == 201
    again = await client.post(
        url, json={"user_id": observer.id, "role": "observer"}, headers=mod.auth
    )
    assert again.status == 200


async def test_join_request_reveals_nothing_about_codes(client: TestClient[Any, Any]) -> None:
    mod = await make_member(client, Role.MODERATOR)
    group = await make_group(client, mod, code="REAL-OP")
    officer = await make_member(client, Role.OFFICER)
    answers = []
    for code in ("REAL-OP", "NO-SUCH-OP", "bad code!"):
        resp = await client.post(
            "/api/v1/join-requests",
            json={"group_code": code, "reason": "we intercepted masks"},
            headers=officer.auth,
        )
        assert resp.status == 202
        answers.append(await resp.read())
    assert len(set(answers)) == 1
    pending = await (
        await client.get(f"{GROUPS}/{group['id']}/join-requests", headers=mod.auth)
    ).json()
    assert [r["user_id"] for r in pending["join_requests"]] == [officer.id]
    assert pending["join_requests"][0]["status"] == "pending"


async def test_approve_admits_and_concurrent_decisions_race_cleanly(
    client: TestClient[Any, Any],
) -> None:
    mod = await make_member(client, Role.MODERATOR)
    group = await make_group(client, mod, code="JOIN-OP")
    deputy = await make_member(client, Role.OFFICER)
    await add_member(client, mod, group, deputy, "moderator")
    officer = await make_member(client, Role.OFFICER)
    await client.post(
        "/api/v1/join-requests", json={"group_code": "JOIN-OP", "reason": "r"}, headers=officer.auth
    )
    requests = await (
        await client.get(f"{GROUPS}/{group['id']}/join-requests", headers=mod.auth)
    ).json()
    request_id = requests["join_requests"][0]["id"]
    # The officer cannot decide their own request, nor see it.
    await assert_problem(
        await client.post(f"/api/v1/join-requests/{request_id}/approve", headers=officer.auth), 404
    )
    results = await asyncio.gather(
        *(
            client.post(f"/api/v1/join-requests/{request_id}/approve", headers=who.auth)
            for who in (mod, deputy, mod, deputy)
        )
    )
    assert sorted(r.status for r in results) == [200, 409, 409, 409]
    got = await client.get(f"{GROUPS}/{group['id']}", headers=officer.auth)
    assert (await got.json())["my_role"] == "member"
    resp = await client.post(f"/api/v1/join-requests/{request_id}/reject", headers=mod.auth)
    await assert_problem(resp, 409, "already-decided")


async def test_reject_does_not_admit(client: TestClient[Any, Any]) -> None:
    mod = await make_member(client, Role.MODERATOR)
    group = await make_group(client, mod, code="REJ-OP")
    officer = await make_member(client, Role.OFFICER)
    await client.post(
        "/api/v1/join-requests", json={"group_code": "REJ-OP", "reason": "r"}, headers=officer.auth
    )
    requests = await (
        await client.get(
            f"{GROUPS}/{group['id']}/join-requests", params={"status": "pending"}, headers=mod.auth
        )
    ).json()
    request_id = requests["join_requests"][0]["id"]
    resp = await client.post(f"/api/v1/join-requests/{request_id}/reject", headers=mod.auth)
    assert resp.status == 200 and (await resp.json())["status"] == "rejected"
    await assert_problem(await client.get(f"{GROUPS}/{group['id']}", headers=officer.auth), 404)


async def test_join_requests_name_the_requester_for_group_moderators(
    client: TestClient[Any, Any],
) -> None:
    # A group moderator who is not staff cannot read the directory: the list says who asks.
    mod = await make_member(client, Role.MODERATOR)
    group = await make_group(client, mod, code="NAME-OP")
    deputy = await make_member(client, Role.OFFICER)
    await add_member(client, mod, group, deputy, "moderator")
    await assert_problem(await client.get(f"/api/v1/users/{mod.id}", headers=deputy.auth), 404)
    officer = await make_member(client, Role.OFFICER)
    await client.post(
        "/api/v1/join-requests", json={"group_code": "NAME-OP", "reason": "r"}, headers=officer.auth
    )
    listed = await (
        await client.get(f"{GROUPS}/{group['id']}/join-requests", headers=deputy.auth)
    ).json()
    [request] = listed["join_requests"]
    assert request["user_id"] == officer.id
    assert request["username"] == officer.user.username
    assert request["display_name"] == officer.user.display_name
    assert request["organization_name"] == officer.organization.name
    assert request["organization_id"] == str(officer.organization.id)
    # Members who do not moderate learn nothing of requests.
    member = await make_member(client, Role.OFFICER)
    await add_member(client, mod, group, member)
    await assert_problem(
        await client.get(f"{GROUPS}/{group['id']}/join-requests", headers=member.auth), 403
    )


async def test_staff_see_every_group(client: TestClient[Any, Any]) -> None:
    mod = await make_member(client, Role.MODERATOR)
    group = await make_group(client, mod)
    admin = await make_member(client, Role.ADMIN)
    got = await client.get(f"{GROUPS}/{group['id']}", headers=admin.auth)
    assert got.status == 200 and (await got.json())["my_role"] is None
    listed = await (await client.get(GROUPS, headers=admin.auth)).json()
    assert group["id"] in [g["id"] for g in listed["groups"]]
