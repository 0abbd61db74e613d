"""`GET /alerts` reads the caller's acknowledgements in one query, however long the page is
(review issue 12, item 18b)."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from cencomm.app import create_app
from cencomm.domain.users import OrganizationKind, Region, Role
from cencomm.settings import Settings
from tests.factories import Member, add_member, make_group, make_member, make_organization
from tests.web.live_helpers import live_settings, send_alert
from tests.web.statements import recorded_statements


@pytest.fixture
def app(settings: Settings) -> web.Application:
    return create_app(live_settings(settings))


async def _statements_for_listing(client: TestClient[Any, Any], member: Member) -> tuple[int, Any]:
    with recorded_statements(client) as statements:
        resp = await client.get("/api/v1/alerts?limit=500", headers=member.auth)
    assert resp.status == 200, await resp.text()
    return len(statements), await resp.json()


@pytest.mark.parametrize("role", [Role.OFFICER, Role.ANALYST])
async def test_listing_alerts_runs_the_same_statements_for_two_or_six(
    client: TestClient[Any, Any], role: Role
) -> None:
    mod = await make_member(client, Role.MODERATOR, with_key=True)
    group = await make_group(client, mod)
    org = await make_organization(
        client,
        kind=OrganizationKind.RILO if role is Role.ANALYST else OrganizationKind.ADMINISTRATION,
        country=None if role is Role.ANALYST else "FR",
        region=Region.EUROPE,
    )
    reader = await make_member(client, role, organization=org)
    await add_member(client, mod, group, reader)
    counts = []
    for total in (2, 6):
        while True:
            sent = await send_alert(client, mod, {"groups": [group["id"]]})
            resp = await client.post(
                f"/api/v1/alerts/{sent['id']}/ack", json={}, headers=reader.auth
            )
            assert resp.status == 200
            count, page = await _statements_for_listing(client, reader)
            if len(page["alerts"]) == total:
                break
        assert all(a["my_ack"]["outcome"] == "received" for a in page["alerts"])
        counts.append(count)
    assert counts[0] == counts[1], counts
