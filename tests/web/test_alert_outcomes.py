"""A seizure after a nil find is recorded; a seizure is never undone (review issue 12, item 14)."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from cencomm.app import create_app
from cencomm.domain.users import Role
from cencomm.settings import Settings
from tests.factories import Member, add_member, make_group, make_member
from tests.problems import assert_problem
from tests.web.live_helpers import live_settings, send_alert


@pytest.fixture
def app(settings: Settings) -> web.Application:
    return create_app(live_settings(settings))


async def _ack(client: TestClient[Any, Any], member: Member, alert_id: str, outcome: str) -> Any:
    return await client.post(
        f"/api/v1/alerts/{alert_id}/ack", json={"outcome": outcome}, headers=member.auth
    )


async def test_a_later_seizure_follows_a_nil_find_and_is_final(
    client: TestClient[Any, Any],
) -> None:
    mod = await make_member(client, Role.MODERATOR, with_key=True)
    group = await make_group(client, mod)
    officer = await make_member(client, Role.OFFICER)
    await add_member(client, mod, group, officer)
    sent = await send_alert(client, mod, {"groups": [group["id"]]})

    resp = await _ack(client, officer, sent["id"], "nil_find")
    assert resp.status == 200
    first = await resp.json()
    resp = await _ack(client, officer, sent["id"], "seized")
    assert resp.status == 200, await resp.text()
    assert await resp.json() == {"acknowledged_at": first["acknowledged_at"], "outcome": "seized"}

    view = await (await client.get(f"/api/v1/alerts/{sent['id']}", headers=mod.auth)).json()
    assert view["ack_summary"]["organizations"] == [
        {
            "id": str(officer.organization.id),
            "name": officer.organization.name,
            "acknowledged_at": first["acknowledged_at"],
            "outcome": "seized",
            "overdue": False,
        }
    ]

    for back in ("nil_find", "controlled", "received"):
        problem = await assert_problem(
            await _ack(client, officer, sent["id"], back), 409, "outcome-step-back"
        )
        assert problem["title"] == "Outcome cannot move back"
        assert problem["detail"] == (
            f"the outcome is seized, which is final: it cannot become {back}"
        )
