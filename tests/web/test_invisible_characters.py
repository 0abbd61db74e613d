"""Names people read as labels refuse bidi controls and invisible characters (UI spoofing)."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from cencomm.domain.users import Role
from tests.factories import make_group, make_member, make_organization
from tests.problems import assert_problem

# Right-to-left override, isolates, marks, zero-width space/joiners, word joiner, BOM, soft hyphen,
# and the line and paragraph separators.
INVISIBLE = [
    "\u202e",
    "\u202a",
    "\u2066",
    "\u2069",
    "\u200e",
    "\u200f",
    "\u061c",
    "\u200b",
    "\u200c",
    "\u200d",
    "\u2060",
    "\ufeff",
    "\u00ad",
    "\u2028",
    "\u2029",
]


def _spoof(char: str) -> str:
    return f"Agent {char}Dupont"


@pytest.mark.parametrize("char", INVISIBLE, ids=lambda c: f"U+{ord(c):04X}")
async def test_display_names_refuse_invisible_characters(
    client: TestClient[Any, Any], char: str
) -> None:
    admin = await make_member(client, Role.ADMIN)
    body = {
        "username": "spoofer",
        "display_name": _spoof(char),
        "organization_id": str(admin.organization.id),
        "role": "officer",
        "password": "a long enough password",
    }
    resp = await client.post("/api/v1/users", json=body, headers=admin.auth)
    problem = await assert_problem(resp, 422, "validation-failed")
    assert problem["errors"][0]["field"] == "body.display_name"

    resp = await client.patch(
        f"/api/v1/users/{admin.id}", json={"display_name": _spoof(char)}, headers=admin.auth
    )
    problem = await assert_problem(resp, 422, "validation-failed")
    assert problem["errors"][0]["field"] == "body.display_name"


@pytest.mark.parametrize("char", INVISIBLE, ids=lambda c: f"U+{ord(c):04X}")
async def test_group_names_and_codes_refuse_invisible_characters(
    client: TestClient[Any, Any], char: str
) -> None:
    admin = await make_member(client, Role.ADMIN)
    resp = await client.post(
        "/api/v1/groups", json={"code": "OP-SAFE", "name": _spoof(char)}, headers=admin.auth
    )
    problem = await assert_problem(resp, 422, "validation-failed")
    assert problem["errors"][0]["field"] == "body.name"
    resp = await client.post(
        "/api/v1/groups", json={"code": f"OP{char}STOP", "name": "Stop"}, headers=admin.auth
    )
    problem = await assert_problem(resp, 422, "validation-failed")
    assert problem["errors"][0]["field"] == "body.code"

    group = await make_group(client, admin)
    resp = await client.patch(
        f"/api/v1/groups/{group['id']}", json={"name": _spoof(char)}, headers=admin.auth
    )
    problem = await assert_problem(resp, 422, "validation-failed")
    assert problem["errors"][0]["field"] == "body.name"


@pytest.mark.parametrize("char", ["\u202e", "\u200b"], ids=lambda c: f"U+{ord(c):04X}")
async def test_organisation_names_refuse_invisible_characters(
    client: TestClient[Any, Any], char: str
) -> None:
    admin = await make_member(client, Role.ADMIN)
    resp = await client.post(
        "/api/v1/organizations",
        json={"name": f"Customs{char} Authority", "kind": "partner"},
        headers=admin.auth,
    )
    problem = await assert_problem(resp, 422, "validation-failed")
    assert problem["errors"][0]["field"] == "body.name"


@pytest.mark.parametrize(
    "name", ["Agent Dupont", "Zoë Ørsted-Łukasz", "محمد رضا", "דוד כהן", "王小明", "Ἀθηνᾶ"]
)
async def test_names_in_any_script_are_kept(client: TestClient[Any, Any], name: str) -> None:
    admin = await make_member(client, Role.ADMIN)
    org = await make_organization(client)
    body = {
        "username": f"user{abs(hash(name)) % 10**8}",
        "display_name": name,
        "organization_id": str(org.id),
        "role": "officer",
        "password": "a long enough password",
    }
    resp = await client.post("/api/v1/users", json=body, headers=admin.auth)
    assert resp.status == 201, await resp.text()
    assert (await resp.json())["display_name"] == name
    resp = await client.post(
        "/api/v1/groups", json={"code": "OP-NAMES", "name": name}, headers=admin.auth
    )
    assert resp.status == 201, await resp.text()
