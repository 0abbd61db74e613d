"""Overdue escalation to the regional RILOs: each hears of its own region's organisations only,
and may then follow up on that alert (review issue 12, item 12)."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from cencomm.app import create_app
from cencomm.appkeys import SERVICES
from cencomm.domain.users import OrganizationKind, Region, Role
from cencomm.settings import Settings
from tests.clock import FakeClock
from tests.factories import Member, add_member, make_group, make_member, make_organization
from tests.problems import assert_problem
from tests.web.live_helpers import connect, frame, live_settings, next_of, send_alert


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(settings: Settings, clock: FakeClock) -> web.Application:
    return create_app(live_settings(settings), clock=clock)


async def _rilo(client: TestClient[Any, Any], region: Region, *, with_key: bool = False) -> Member:
    org = await make_organization(client, kind=OrganizationKind.RILO, country=None, region=region)
    return await make_member(client, Role.ANALYST, organization=org, with_key=with_key)


async def _world(client: TestClient[Any, Any], clock: FakeClock) -> dict[str, Any]:
    """rilo.weu alerts Nigeria and Germany with 120 s to answer (the review's example)."""
    mod = await make_member(client, Role.MODERATOR)
    weu = await _rilo(client, Region.EUROPE, with_key=True)
    weu_colleague = await make_member(client, Role.ANALYST, organization=weu.organization)
    wa = await _rilo(client, Region.WEST_CENTRAL_AFRICA)
    wa_observer = await make_member(client, Role.OBSERVER, organization=wa.organization)
    ap = await _rilo(client, Region.ASIA_PACIFIC)
    ng_org = await make_organization(client, country="NG", region=Region.WEST_CENTRAL_AFRICA)
    de_org = await make_organization(client, country="DE", region=Region.EUROPE)
    ng = await make_member(client, Role.OFFICER, organization=ng_org)
    de = await make_member(client, Role.OFFICER, organization=de_org)
    sent = await send_alert(
        client,
        weu,
        {"organizations": [str(ng_org.id), str(de_org.id)]},
        respond_by=int(clock.now().timestamp()) + 120,
    )
    return {
        "alert": sent["id"],
        "mod": mod,
        "weu": weu,
        "weu_colleague": weu_colleague,
        "wa": wa,
        "wa_observer": wa_observer,
        "ap": ap,
        "ng": ng,
        "de": de,
    }


async def _get(client: TestClient[Any, Any], member: Member, path: str) -> Any:
    resp = await client.get(f"/api/v1{path}", headers=member.auth)
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def test_each_rilo_hears_only_of_its_own_regions_overdue_organisations(
    client: TestClient[Any, Any], clock: FakeClock
) -> None:
    w = await _world(client, clock)
    names = ("weu", "weu_colleague", "wa", "mod")
    sockets = {name: await connect(client, w[name]) for name in names}
    ws_ap = await connect(client, w["ap"])
    clock.advance(121)
    result = await client.app[SERVICES].alert_deadlines.sweep_once(clock.now())
    assert result.overdue == 2

    ng, de = str(w["ng"].organization.id), str(w["de"].organization.id)
    both = sorted([ng, de])
    expected = {"weu": both, "mod": both, "weu_colleague": [de], "wa": [ng]}
    for name, ws in sockets.items():
        overdue = await next_of(ws, "alert.overdue")
        assert overdue == {
            "type": "alert.overdue",
            "alert_id": w["alert"],
            "organization_ids": expected[name],
        }, name
    # One frame each: the next thing these sockets hear is an acknowledgement.
    resp = await client.post(f"/api/v1/alerts/{w['alert']}/ack", json={}, headers=w["ng"].auth)
    assert resp.status == 200
    assert (await frame(sockets["weu"]))["type"] == "alert.ack"
    # The West Africa RILO follows the answer of the organisation it was escalated.
    ack = await frame(sockets["wa"])
    assert (ack["type"], ack["organization_id"]) == ("alert.ack", ng)
    # Asia-Pacific heard nothing: its next frame is its own membership news.
    group = await make_group(client, w["mod"])
    await add_member(client, w["mod"], group, w["ap"])
    assert (await frame(ws_ap))["type"] == "membership"


async def test_a_rilo_reads_an_escalated_alert_and_its_regions_board(
    client: TestClient[Any, Any], clock: FakeClock
) -> None:
    w = await _world(client, clock)
    alert_path = f"/alerts/{w['alert']}"
    # Before escalation, the West Africa RILO has no business with this alert.
    await assert_problem(
        await client.get(f"/api/v1{alert_path}", headers=w["wa"].auth), 404, "not-found"
    )
    assert (await _get(client, w["wa"], "/alerts"))["alerts"] == []

    clock.advance(121)
    await client.app[SERVICES].alert_deadlines.sweep_once(clock.now())
    view = await _get(client, w["wa"], alert_path)
    assert view["id"] == w["alert"] and view["my_ack"] is None
    summary = view["ack_summary"]
    assert summary["region"] == "WEST_CENTRAL_AFRICA"
    assert summary["unlisted"] is None
    assert [o["id"] for o in summary["organizations"]] == [str(w["ng"].organization.id)]
    assert summary["organizations"][0]["overdue"] is True
    assert (summary["recipients"], summary["acknowledged"]) == (1, 0)  # Nigeria's officer
    listed = await _get(client, w["wa"], "/alerts")
    assert [a["id"] for a in listed["alerts"]] == [w["alert"]]
    assert listed["alerts"][0]["ack_summary"] is None

    # Nigeria answers late: the RILO sees it on its board.
    resp = await client.post(
        f"/api/v1{alert_path}/ack", json={"outcome": "controlled"}, headers=w["ng"].auth
    )
    assert resp.status == 200
    board = (await _get(client, w["wa"], alert_path))["ack_summary"]
    assert board["organizations"][0]["outcome"] == "controlled"
    assert board["acknowledged"] == 1

    # The European colleague of the sender sees Germany only; the sender the whole board.
    colleague = (await _get(client, w["weu_colleague"], alert_path))["ack_summary"]
    assert [o["id"] for o in colleague["organizations"]] == [str(w["de"].organization.id)]
    sender = (await _get(client, w["weu"], alert_path))["ack_summary"]
    assert len(sender["organizations"]) == 2 and sender["region"] is None

    # Other regions' RILOs and a RILO's observers still get nothing; nor may a RILO answer.
    for outsider in (w["ap"], w["wa_observer"]):
        resp = await client.get(f"/api/v1{alert_path}", headers=outsider.auth)
        await assert_problem(resp, 404, "not-found")
        assert (await _get(client, outsider, "/alerts"))["alerts"] == []
    resp = await client.post(f"/api/v1{alert_path}/ack", json={}, headers=w["wa"].auth)
    await assert_problem(resp, 404, "not-found")
