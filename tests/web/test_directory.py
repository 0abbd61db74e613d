"""Organisations and users: admin writes, admin and moderator read, everything validated."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from cencomm.domain.users import Role
from tests.factories import PASSWORD, login, make_member
from tests.problems import assert_problem

ORGS = "/api/v1/organizations"
USERS = "/api/v1/users"


async def test_admin_creates_an_administration(client: TestClient[Any, Any]) -> None:
    admin = await make_member(client, Role.ADMIN)
    resp = await client.post(
        ORGS,
        json={
            "name": "Douane française",
            "kind": "administration",
            "country": "fr",
            "region": "EUROPE",
        },
        headers=admin.auth,
    )
    assert resp.status == 201
    body = await resp.json()
    assert body["country"] == "FR" and body["kind"] == "administration"
    got = await client.get(f"{ORGS}/{body['id']}", headers=admin.auth)
    assert (await got.json())["name"] == "Douane française"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "X", "kind": "administration"}, "body.country"),
        ({"name": "X", "kind": "administration", "country": "ZZ"}, "body.country"),
        ({"name": "X", "kind": "ministry", "country": "FR"}, "body.kind"),
        ({"name": "X", "kind": "rilo", "region": "ATLANTIS"}, "body.region"),
        ({"name": "", "kind": "partner"}, "body.name"),
        ({"name": "x" * 201, "kind": "partner"}, "body.name"),
        ({"name": "\u0007bell", "kind": "partner"}, "body.name"),
    ],
)
async def test_invalid_organisations_name_the_field(
    client: TestClient[Any, Any], body: dict[str, str], field: str
) -> None:
    admin = await make_member(client, Role.ADMIN)
    problem = await assert_problem(await client.post(ORGS, json=body, headers=admin.auth), 422)
    assert field in [e["field"] for e in problem["errors"]]


async def test_duplicate_organisation_name_is_409(client: TestClient[Any, Any]) -> None:
    admin = await make_member(client, Role.ADMIN)
    body = {"name": "RILO Western Europe", "kind": "rilo", "region": "EUROPE"}
    assert (await client.post(ORGS, json=body, headers=admin.auth)).status == 201
    resp = await client.post(ORGS, json=body, headers=admin.auth)
    await assert_problem(resp, 409, "duplicate-organization")


@pytest.mark.parametrize("role", [Role.MODERATOR, Role.ANALYST, Role.OFFICER, Role.OBSERVER])
async def test_only_admins_write_the_directory(client: TestClient[Any, Any], role: Role) -> None:
    member = await make_member(client, role)
    resp = await client.post(ORGS, json={"name": "N", "kind": "partner"}, headers=member.auth)
    await assert_problem(resp, 403, "forbidden")
    resp = await client.post(
        USERS,
        json={
            "username": "newbie",
            "display_name": "N",
            "organization_id": str(member.organization.id),
            "role": "officer",
            "password": PASSWORD,
        },
        headers=member.auth,
    )
    await assert_problem(resp, 403, "forbidden")


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.ADMIN, 200),
        (Role.MODERATOR, 200),
        (Role.ANALYST, 403),
        (Role.OFFICER, 403),
        (Role.OBSERVER, 403),
    ],
)
async def test_directory_reads(client: TestClient[Any, Any], role: Role, status: int) -> None:
    member = await make_member(client, role)
    for path in (ORGS, USERS):
        resp = await client.get(path, headers=member.auth)
        assert resp.status == status
    # Everyone may read their own organisation and themselves.
    assert (await client.get(f"{ORGS}/{member.organization.id}", headers=member.auth)).status == 200
    assert (await client.get(f"{USERS}/{member.id}", headers=member.auth)).status == 200


async def test_users_are_paged_with_a_cursor(client: TestClient[Any, Any]) -> None:
    admin = await make_member(client, Role.ADMIN)
    for _ in range(4):
        await make_member(client, Role.OFFICER)
    seen: list[str] = []
    after = None
    while True:
        params = {"limit": "2", **({"after": after} if after else {})}
        page = await (await client.get(USERS, params=params, headers=admin.auth)).json()
        seen += [u["username"] for u in page["users"]]
        after = page["next"]
        if after is None:
            break
    assert len(seen) == len(set(seen)) == 5
    assert seen == sorted(seen)
    resp = await client.get(USERS, params={"limit": "501"}, headers=admin.auth)
    await assert_problem(resp, 422, "validation-failed")
    resp = await client.get(USERS, params={"after": "%%%"}, headers=admin.auth)
    await assert_problem(resp, 422)


async def test_create_user_and_log_in(client: TestClient[Any, Any]) -> None:
    admin = await make_member(client, Role.ADMIN)
    body = {
        "username": "Officer.Dupont",
        "display_name": "Agent Dupont",
        "organization_id": str(admin.organization.id),
        "role": "officer",
        "password": "a long enough password",
    }
    resp = await client.post(USERS, json=body, headers=admin.auth)
    assert resp.status == 201
    created = await resp.json()
    assert created["username"] == "officer.dupont" and "password" not in created
    assert (await login(client, "officer.dupont", "a long enough password"))["access_token"]
    resp = await client.post(USERS, json=body, headers=admin.auth)
    await assert_problem(resp, 409, "duplicate-username")


@pytest.mark.parametrize(
    ("changes", "slug"),
    [
        ({"password": "short"}, "weak-password"),
        ({"username": "no spaces allowed"}, "validation-failed"),
        ({"username": "ab"}, "validation-failed"),
        ({"role": "superuser"}, "validation-failed"),
        ({"organization_id": "not-a-uuid"}, "validation-failed"),
        ({"organization_id": "00000000-0000-4000-8000-000000000000"}, "unknown-organization"),
    ],
)
async def test_invalid_users(
    client: TestClient[Any, Any], changes: dict[str, str], slug: str
) -> None:
    admin = await make_member(client, Role.ADMIN)
    body = {
        "username": "valid.name",
        "display_name": "V",
        "organization_id": str(admin.organization.id),
        "role": "officer",
        "password": "a long enough password",
        **changes,
    }
    await assert_problem(await client.post(USERS, json=body, headers=admin.auth), 422, slug)


async def test_patch_changes_role_and_answers_the_user(client: TestClient[Any, Any]) -> None:
    admin = await make_member(client, Role.ADMIN)
    officer = await make_member(client, Role.OFFICER)
    resp = await client.patch(
        f"{USERS}/{officer.id}",
        json={"role": "analyst", "display_name": "RILO"},
        headers=admin.auth,
    )
    assert resp.status == 200
    body = await resp.json()
    assert body["role"] == "analyst" and body["display_name"] == "RILO"
    me = await (await client.get("/api/v1/me", headers=officer.auth)).json()
    assert me["role"] == "analyst"


async def test_missing_and_malformed_ids_are_404(client: TestClient[Any, Any]) -> None:
    admin = await make_member(client, Role.ADMIN)
    for path in (
        f"{USERS}/00000000-0000-4000-8000-000000000000",
        f"{USERS}/nope",
        f"{ORGS}/00000000-0000-4000-8000-000000000000",
    ):
        await assert_problem(await client.get(path, headers=admin.auth), 404)


async def test_officer_cannot_see_other_users(client: TestClient[Any, Any]) -> None:
    officer = await make_member(client, Role.OFFICER)
    other = await make_member(client, Role.OFFICER)
    await assert_problem(await client.get(f"{USERS}/{other.id}", headers=officer.auth), 404)
