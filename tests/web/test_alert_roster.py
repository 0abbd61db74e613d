"""The roster rule on an alert's acknowledgement board: a group whose roster is hidden does not
give away its members' organisations through `ack_summary` (review issue 12, item 4)."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from cencomm.app import create_app
from cencomm.domain.users import Region, Role
from cencomm.settings import Settings
from tests.factories import Member, add_member, make_group, make_member, make_organization
from tests.web.live_helpers import live_settings, send_alert


@pytest.fixture
def app(settings: Settings) -> web.Application:
    return create_app(live_settings(settings))


async def _hidden_roster_world(
    client: TestClient[Any, Any], *, roster_visible: bool, tag: str = "a"
) -> dict[str, Any]:
    """A group of three administrations; France has two officers, one of whom sends."""
    mod = await make_member(client, Role.MODERATOR)
    group = await make_group(client, mod, roster_visible=roster_visible)
    orgs = {
        code: await make_organization(client, country=code, region=region, name=name)
        for code, region, name in (
            ("FR", Region.EUROPE, f"Douane francaise ({tag})"),
            ("DE", Region.EUROPE, f"Zoll Deutschland ({tag})"),
            ("NG", Region.WEST_CENTRAL_AFRICA, f"Nigeria Customs ({tag})"),
        )
    }
    sender = await make_member(client, Role.OFFICER, organization=orgs["FR"], with_key=True)
    colleague = await make_member(client, Role.OFFICER, organization=orgs["FR"])
    de = await make_member(client, Role.OFFICER, organization=orgs["DE"])
    ng = await make_member(client, Role.OFFICER, organization=orgs["NG"])
    for member in (sender, colleague, de, ng):
        await add_member(client, mod, group, member)
    return {"mod": mod, "group": group, "sender": sender, "de": de, "ng": ng, "orgs": orgs}


async def _summary(client: TestClient[Any, Any], member: Member, alert_id: str) -> dict[str, Any]:
    resp = await client.get(f"/api/v1/alerts/{alert_id}", headers=member.auth)
    assert resp.status == 200, await resp.text()
    summary: dict[str, Any] = (await resp.json())["ack_summary"]
    return summary


async def test_a_member_sending_to_a_hidden_roster_group_sees_counts_not_names(
    client: TestClient[Any, Any],
) -> None:
    w = await _hidden_roster_world(client, roster_visible=False)
    sent = await send_alert(client, w["sender"], {"groups": [w["group"]["id"]]})
    resp = await client.post(f"/api/v1/alerts/{sent['id']}/ack", json={}, headers=w["de"].auth)
    assert resp.status == 200

    resp = await client.get(f"/api/v1/alerts/{sent['id']}", headers=w["sender"].auth)
    raw = await resp.text()
    for hidden in ("DE", "NG"):
        assert w["orgs"][hidden].name not in raw
        assert str(w["orgs"][hidden].id) not in raw
    summary = (await resp.json())["ack_summary"]
    # Counts stay whole: the moderator, the colleague, Germany and Nigeria; Germany answered.
    assert (summary["recipients"], summary["acknowledged"]) == (4, 1)
    # Only the sender's own organisation is named (the colleague is a recipient).
    assert [o["id"] for o in summary["organizations"]] == [str(w["orgs"]["FR"].id)]
    assert summary["organizations"][0]["name"] == w["orgs"]["FR"].name
    # The rest is counted: the moderator's Secretariat, Germany (answered), Nigeria.
    assert summary["unlisted"] == {"organizations": 3, "acknowledged": 1, "overdue": 0}
    assert summary["region"] is None

    # Staff see the whole board, names included.
    full = await _summary(client, w["mod"], sent["id"])
    assert {o["name"] for o in full["organizations"]} >= {
        w["orgs"][code].name for code in ("FR", "DE", "NG")
    }
    assert full["unlisted"] is None


async def test_a_visible_roster_or_a_group_moderator_sees_every_name(
    client: TestClient[Any, Any],
) -> None:
    w = await _hidden_roster_world(client, roster_visible=True)
    sent = await send_alert(client, w["sender"], {"groups": [w["group"]["id"]]})
    names = {o["name"] for o in (await _summary(client, w["sender"], sent["id"]))["organizations"]}
    assert {w["orgs"][code].name for code in ("FR", "DE", "NG")} <= names

    hidden = await _hidden_roster_world(client, roster_visible=False, tag="b")
    await add_member(client, hidden["mod"], hidden["group"], hidden["sender"], role="moderator")
    sent = await send_alert(client, hidden["sender"], {"groups": [hidden["group"]["id"]]})
    summary = await _summary(client, hidden["sender"], sent["id"])
    assert {hidden["orgs"][c].name for c in ("FR", "DE", "NG")} <= {
        o["name"] for o in summary["organizations"]
    }
    assert summary["unlisted"] is None


async def test_organisations_the_sender_named_stay_named(client: TestClient[Any, Any]) -> None:
    """An analyst who targets a hidden-roster group and, by name, one organisation in it sees
    that organisation on the board, and only counts for the others."""
    w = await _hidden_roster_world(client, roster_visible=False)
    analyst = await make_member(client, Role.ANALYST, with_key=True)
    await add_member(client, w["mod"], w["group"], analyst)
    sent = await send_alert(
        client,
        analyst,
        {"groups": [w["group"]["id"]], "organizations": [str(w["orgs"]["NG"].id)]},
    )
    summary = await _summary(client, analyst, sent["id"])
    assert [o["name"] for o in summary["organizations"]] == [w["orgs"]["NG"].name]
    assert summary["unlisted"] == {"organizations": 3, "acknowledged": 0, "overdue": 0}
