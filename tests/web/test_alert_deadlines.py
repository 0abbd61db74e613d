"""respond_by deadlines: overdue organisations, who hears of it, and never firing twice."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from cencomm.app import create_app
from cencomm.appkeys import SERVICES
from cencomm.domain.users import OrganizationKind, Region, Role
from cencomm.services.alert_deadlines import AlertSweeper
from cencomm.settings import Settings
from tests.clock import FakeClock
from tests.factories import add_member, make_group, make_member, make_organization
from tests.web.live_helpers import connect, frame, live_settings, send_alert


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(settings: Settings, clock: FakeClock) -> web.Application:
    return create_app(live_settings(settings), clock=clock)


async def _alert_with_deadline(client: TestClient[Any, Any], clock: FakeClock) -> dict[str, Any]:
    """An analyst's alert to two administrations (Europe, Asia) answerable within 200 s."""
    mod = await make_member(client, Role.MODERATOR)
    group = await make_group(client, mod)
    analyst = await make_member(client, Role.ANALYST, with_key=True)
    await add_member(client, mod, group, analyst)
    fr_org = await make_organization(client, country="FR", region=Region.EUROPE)
    jp_org = await make_organization(client, country="JP", region=Region.ASIA_PACIFIC)
    fr = await make_member(client, Role.OFFICER, organization=fr_org)
    jp = await make_member(client, Role.OFFICER, organization=jp_org)
    rilo_eu = await make_organization(
        client, kind=OrganizationKind.RILO, country=None, region=Region.EUROPE
    )
    rilo_ap = await make_organization(
        client, kind=OrganizationKind.RILO, country=None, region=Region.ASIA_PACIFIC
    )
    rilo_eu_user = await make_member(client, Role.ANALYST, organization=rilo_eu)
    rilo_ap_user = await make_member(client, Role.ANALYST, organization=rilo_ap)
    respond_by = int(clock.now().timestamp()) + 200
    sent = await send_alert(
        client,
        analyst,
        {"organizations": [str(fr_org.id), str(jp_org.id)]},
        respond_by=respond_by,
    )
    return {
        "alert": sent,
        "mod": mod,
        "analyst": analyst,
        "fr": fr,
        "jp": jp,
        "rilo_eu": rilo_eu_user,
        "rilo_ap": rilo_ap_user,
    }


async def test_overdue_organisations_are_escalated_once(
    client: TestClient[Any, Any], clock: FakeClock
) -> None:
    w = await _alert_with_deadline(client, clock)
    alert_id = w["alert"]["id"]
    sockets = {name: await connect(client, w[name]) for name in ("analyst", "mod", "rilo_eu")}
    ws_rilo_ap = await connect(client, w["rilo_ap"])
    ws_fr = await connect(client, w["fr"])  # connected after the alert went out
    resp = await client.post(f"/api/v1/alerts/{alert_id}/ack", json={}, headers=w["jp"].auth)
    assert resp.status == 200  # Japan answered in time
    for ws in (sockets["analyst"], sockets["mod"]):
        assert (await frame(ws))["type"] == "alert.ack"

    sweeper = client.app[SERVICES].alert_deadlines
    early = await sweeper.sweep_once(clock.now())
    assert early.overdue == 0
    clock.advance(201)
    result = await sweeper.sweep_once(clock.now())
    assert result.overdue == 1
    expected = {
        "type": "alert.overdue",
        "alert_id": alert_id,
        "organization_ids": [str(w["fr"].organization.id)],
    }
    for ws in sockets.values():  # the sender, moderators, the RILO of France's region
        assert await frame(ws) == expected
    assert (await client.app[SERVICES].alert_deadlines.sweep_once(clock.now())).overdue == 0

    resp = await client.get(f"/api/v1/alerts/{alert_id}", headers=w["analyst"].auth)
    orgs = {o["id"]: o for o in (await resp.json())["ack_summary"]["organizations"]}
    assert orgs[str(w["fr"].organization.id)]["overdue"] is True
    assert orgs[str(w["jp"].organization.id)]["overdue"] is False

    # Neither the Asia-Pacific RILO nor the overdue officer heard of it: their next frame is
    # about something else.
    resp = await client.post(f"/api/v1/alerts/{alert_id}/ack", json={}, headers=w["fr"].auth)
    assert resp.status == 200
    assert (await frame(ws_fr))["type"] == "alert.ack"
    mod = w["mod"]
    group = await make_group(client, mod)
    await add_member(client, mod, group, w["rilo_ap"])
    assert (await frame(ws_rilo_ap))["type"] == "membership"


async def test_two_sweepers_racing_fire_each_deadline_once(
    client: TestClient[Any, Any], clock: FakeClock
) -> None:
    w = await _alert_with_deadline(client, clock)
    services = client.app[SERVICES]
    settings = client.app[SERVICES].settings
    second = AlertSweeper(
        services.db,
        clock,
        services.audit,
        services.events,
        services.alerts.notifications,
        settings.alerts,
    )
    clock.advance(201)
    results = await asyncio.gather(
        services.alert_deadlines.sweep_once(clock.now()), second.sweep_once(clock.now())
    )
    assert sorted(r.overdue for r in results) == [0, 2]
    # Only one sweeper fired: one event for the sender and staff, one per regional RILO.
    assert sorted(len(r.events) for r in results) == [0, 3]
    ws = await connect(client, w["analyst"])
    # A restarted process (a new sweeper) finds nothing left to fire.
    again = AlertSweeper(
        services.db,
        clock,
        services.audit,
        services.events,
        services.alerts.notifications,
        settings.alerts,
    )
    assert (await again.sweep_once(clock.now())).overdue == 0
    await ws.close()


async def test_an_answered_organisation_is_never_overdue(
    client: TestClient[Any, Any], clock: FakeClock
) -> None:
    w = await _alert_with_deadline(client, clock)
    for member in (w["fr"], w["jp"]):
        resp = await client.post(
            f"/api/v1/alerts/{w['alert']['id']}/ack", json={}, headers=member.auth
        )
        assert resp.status == 200
    clock.advance(201)
    assert (await client.app[SERVICES].alert_deadlines.sweep_once(clock.now())).overdue == 0
