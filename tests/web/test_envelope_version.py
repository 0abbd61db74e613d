"""`v` is the integer 1: `1.0`, `true` or `"1"` are no version of the envelope."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from cencomm.domain.users import Role
from tests.factories import add_member, envelope, make_group, make_member, sign
from tests.problems import assert_problem


@pytest.mark.parametrize("version", [1.0, True, "1", 2, 0, None])
async def test_only_the_integer_1_is_version_1(client: TestClient[Any, Any], version: Any) -> None:
    admin = await make_member(client, Role.ADMIN)
    group = await make_group(client, admin)
    officer = await make_member(client, Role.OFFICER, with_key=True)
    await add_member(client, admin, group, officer)
    jws = sign(officer, envelope(officer, group["id"], v=version) | {"v": version})
    resp = await client.post(
        f"/api/v1/groups/{group['id']}/messages", json={"jws": jws}, headers=officer.auth
    )
    problem = await assert_problem(resp, 422, "invalid-claims")
    assert problem["errors"][0]["field"] == "v"
    resp = await client.get(f"/api/v1/groups/{group['id']}/messages", headers=officer.auth)
    assert (await resp.json())["messages"] == []

    resp = await client.post(
        f"/api/v1/groups/{group['id']}/messages",
        json={"jws": sign(officer, envelope(officer, group["id"], v=1))},
        headers=officer.auth,
    )
    assert resp.status == 201, await resp.text()
