"""GET /analytics?group_id=..&group_id=..: the same answer over several groups, for admins,
moderators and analysts, over groups the caller can read."""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp.test_utils import TestClient

from cencomm.domain.analytics import MAX_GROUPS
from cencomm.domain.users import Role
from tests.factories import add_member, make_group, make_member, post_message
from tests.problems import assert_problem
from tests.web.analytics_helpers import API, Dataset, build_dataset, report


async def second_group(client: TestClient[Any, Any], data: Dataset) -> dict[str, Any]:
    """Another operation with one report from the French officer: R6, masks CN → FR."""
    group = await make_group(client, data.owner)
    await add_member(client, data.owner, group, data.senders["fr"])
    body = report(
        "FR", "2020-05-13", "air", ("CN", ["SG"], "FR"), [("masks", 500, "units")],
        "counterfeit", "risk_profiling", "luggage",
    )  # fmt: skip
    await post_message(client, data.senders["fr"], group, "seizure", hc="TLP:GREEN", body=body)
    return group


def query(*group_ids: str, **extra: str) -> str:
    params = "&".join(f"group_id={g}" for g in group_ids)
    more = "".join(f"&{k}={v}" for k, v in extra.items())
    return f"{API}/analytics?{params}{more}"


async def test_staff_add_up_several_groups(client: TestClient[Any, Any]) -> None:
    data = await build_dataset(client)
    other = await second_group(client, data)
    moderator = await make_member(client, Role.MODERATOR)
    resp = await client.get(query(data.group["id"], other["id"]), headers=moderator.auth)
    assert resp.status == 200, await resp.text()
    answer = await resp.json()
    assert answer["interceptions"] == 6
    assert answer["totals"]["medical_supplies_units"] == 1920
    assert answer["routes"][0] == {"origin": "CN", "destination": "FR", "interceptions": 3}
    assert answer["transit"] == [
        {"country": "AE", "interceptions": 3},
        {"country": "NL", "interceptions": 1},
        {"country": "SG", "interceptions": 1},
    ]
    assert answer["by_week"][0] == {"week_start": "2020-05-11", "interceptions": 4}
    # A group named twice counts once; from/to apply as for one group.
    resp = await client.get(
        query(other["id"], other["id"], **{"from": "2020-05-13", "to": "2020-05-13"}),
        headers=moderator.auth,
    )
    assert (await resp.json())["interceptions"] == 1


async def test_an_analyst_compares_only_groups_they_read(client: TestClient[Any, Any]) -> None:
    data = await build_dataset(client)
    other = await second_group(client, data)
    resp = await client.get(query(data.group["id"]), headers=data.analyst.auth)
    assert resp.status == 200
    assert (await resp.json())["interceptions"] == 5
    # The analyst is not in the other group: 404 exactly as for a missing one.
    resp = await client.get(query(data.group["id"], other["id"]), headers=data.analyst.auth)
    hidden = await assert_problem(resp, 404, "not-found")
    resp = await client.get(query(data.group["id"], str(uuid.uuid4())), headers=data.analyst.auth)
    missing = await assert_problem(resp, 404, "not-found")
    assert hidden["detail"] == missing["detail"]


async def test_an_analyst_observing_a_group_counts_what_observers_read(
    client: TestClient[Any, Any],
) -> None:
    data = await build_dataset(client)
    analyst = await make_member(client, Role.ANALYST)
    await add_member(client, data.owner, data.group, analyst, role="observer")
    resp = await client.get(query(data.group["id"]), headers=analyst.auth)
    assert (await resp.json())["interceptions"] == 3  # no AMBER+STRICT, no RED


async def test_officers_and_observers_may_not_compare_groups(
    client: TestClient[Any, Any],
) -> None:
    data = await build_dataset(client)
    for member in (data.senders["fr"], data.observer):
        resp = await client.get(query(data.group["id"]), headers=member.auth)
        await assert_problem(resp, 403, "forbidden")


async def test_group_ids_are_validated(client: TestClient[Any, Any]) -> None:
    data = await build_dataset(client)
    resp = await client.get(f"{API}/analytics", headers=data.owner.auth)
    await assert_problem(resp, 422, "validation-failed")
    resp = await client.get(query("nope", data.group["id"], "x"), headers=data.owner.auth)
    body = await assert_problem(resp, 422, "validation-failed")
    assert [e["field"] for e in body["errors"]] == ["query.group_id[0]", "query.group_id[2]"]
    too_many = [str(uuid.uuid4()) for _ in range(MAX_GROUPS + 1)]
    resp = await client.get(query(*too_many), headers=data.owner.auth)
    await assert_problem(resp, 422, "validation-failed")
    resp = await client.get(query(data.group["id"], to="2020-13-01"), headers=data.owner.auth)
    body = await assert_problem(resp, 422, "validation-failed")
    assert [e["field"] for e in body["errors"]] == ["query.to"]
