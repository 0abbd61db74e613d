"""Alerts: recipients fixed when sent (every target kind and role), reading, acknowledgements."""

from __future__ import annotations

import time
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from cencomm.app import create_app
from cencomm.domain.users import OrganizationKind, Region, Role
from cencomm.settings import Settings
from tests.clock import FakeClock
from tests.factories import (
    Member,
    add_member,
    envelope,
    make_group,
    make_member,
    make_organization,
    post_message,
    seizure_body,
    sign,
)
from tests.problems import assert_problem
from tests.web.live_helpers import alert_payload, connect, frame, live_settings, send_alert


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(settings: Settings, clock: FakeClock) -> web.Application:
    return create_app(live_settings(settings), clock=clock)


async def _world(client: TestClient[Any, Any]) -> dict[str, Any]:
    """A moderator's active group with two officers (two administrations) and an observer."""
    mod = await make_member(client, Role.MODERATOR, with_key=True)
    group = await make_group(client, mod)
    fr = await make_member(client, Role.OFFICER, with_key=True)
    de_org = await make_organization(client, country="DE", region=Region.EUROPE)
    de = await make_member(client, Role.OFFICER, organization=de_org, with_key=True)
    observer = await make_member(client, Role.OBSERVER)
    for member in (fr, de):
        await add_member(client, mod, group, member)
    await add_member(client, mod, group, observer, role="observer")
    return {"mod": mod, "group": group, "fr": fr, "de": de, "observer": observer}


async def _get(client: TestClient[Any, Any], member: Member, path: str) -> Any:
    resp = await client.get(f"/api/v1{path}", headers=member.auth)
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def _ack(client: TestClient[Any, Any], member: Member, alert_id: str, **body: Any) -> Any:
    return await client.post(f"/api/v1/alerts/{alert_id}/ack", json=body, headers=member.auth)


# -- sending: who may target what, and who receives --------------------------------------


async def test_an_officer_alerts_the_members_of_a_group_they_post_in(
    client: TestClient[Any, Any],
) -> None:
    w = await _world(client)
    sent = await send_alert(client, w["fr"], {"groups": [w["group"]["id"]]})
    # mod, de and the observer (TLP:AMBER); never the sender; orgs that answer: mod's and de's
    assert sent["recipients"] == 3 and sent["organizations"] == 2
    assert set(sent) == {"id", "recipients", "organizations"}


async def test_officers_may_not_target_organizations_regions_or_all(
    client: TestClient[Any, Any],
) -> None:
    w = await _world(client)
    org = str(w["de"].organization.id)
    for to in ({"organizations": [org]}, {"regions": ["EUROPE"]}, {"all": True}):
        resp = await client.post(
            "/api/v1/alerts",
            json={"jws": sign(w["fr"], alert_payload(w["fr"], to))},
            headers=w["fr"].auth,
        )
        await assert_problem(resp, 403, "alert-target-not-allowed")


async def test_officers_may_not_target_groups_they_cannot_post_in(
    client: TestClient[Any, Any],
) -> None:
    w = await _world(client)
    other = await make_group(client, w["mod"])
    closed = await make_group(client, w["mod"], status="closed")
    await add_member(client, w["mod"], closed, w["fr"])
    watched = await make_group(client, w["mod"])
    await add_member(client, w["mod"], watched, w["fr"], role="observer")
    for group, status, slug in (
        (other, 422, "unknown-recipient"),  # not a member: as if it did not exist
        (closed, 409, "group-not-active"),
        (watched, 403, "read-only"),
    ):
        resp = await client.post(
            "/api/v1/alerts",
            json={"jws": sign(w["fr"], alert_payload(w["fr"], {"groups": [group["id"]]}))},
            headers=w["fr"].auth,
        )
        body = await assert_problem(resp, status, slug)
        if status == 422:
            assert body["errors"][0]["field"] == "to.groups[0]"


async def test_analysts_target_organizations_and_regions_but_not_all(
    client: TestClient[Any, Any],
) -> None:
    await _world(client)
    analyst = await make_member(client, Role.ANALYST, with_key=True)
    asia = await make_organization(client, country="JP", region=Region.ASIA_PACIFIC)
    jp = await make_member(client, Role.OFFICER, organization=asia)
    sent = await send_alert(client, analyst, {"organizations": [str(asia.id)]})
    assert (sent["recipients"], sent["organizations"]) == (1, 1)
    by_region = await send_alert(client, analyst, {"regions": ["ASIA_PACIFIC"]})
    assert by_region["recipients"] == 1
    view = await _get(client, jp, f"/alerts/{by_region['id']}")
    assert view["my_ack"] is None and view["ack_summary"] is None
    europe = await send_alert(client, analyst, {"regions": ["EUROPE"]})
    assert europe["recipients"] == 4  # every organisation made here is in EUROPE
    resp = await client.post(
        "/api/v1/alerts",
        json={"jws": sign(analyst, alert_payload(analyst, {"all": True}))},
        headers=analyst.auth,
    )
    await assert_problem(resp, 403, "alert-target-not-allowed")


async def test_moderators_alert_everyone(client: TestClient[Any, Any]) -> None:
    w = await _world(client)
    sent = await send_alert(client, w["mod"], {"all": True})
    assert sent["recipients"] == 3  # every enabled user but the sender
    view = await _get(client, w["observer"], f"/alerts/{sent['id']}")
    assert view["id"] == sent["id"]


async def test_observers_never_send_alerts(client: TestClient[Any, Any]) -> None:
    w = await _world(client)
    resp = await client.post("/api/v1/alerts", json={"jws": "a.b.c"}, headers=w["observer"].auth)
    await assert_problem(resp, 403, "read-only")


async def test_red_alerts_go_to_named_recipients_and_never_to_observers(
    client: TestClient[Any, Any],
) -> None:
    w = await _world(client)
    resp = await client.post(
        "/api/v1/alerts",
        json={"jws": sign(w["mod"], alert_payload(w["mod"], {"all": True}, hc="TLP:RED"))},
        headers=w["mod"].auth,
    )
    await assert_problem(resp, 422, "invalid-recipients")
    sent = await send_alert(client, w["mod"], {"groups": [w["group"]["id"]]}, hc="TLP:RED")
    assert sent["recipients"] == 2  # fr and de; the group's observer is left out
    resp = await client.get(f"/api/v1/alerts/{sent['id']}", headers=w["observer"].auth)
    await assert_problem(resp, 404, "not-found")


async def test_unknown_organizations_and_empty_audiences_are_refused(
    client: TestClient[Any, Any],
) -> None:
    w = await _world(client)
    missing = "00000000-0000-4000-8000-000000000000"
    resp = await client.post(
        "/api/v1/alerts",
        json={"jws": sign(w["mod"], alert_payload(w["mod"], {"organizations": [missing]}))},
        headers=w["mod"].auth,
    )
    await assert_problem(resp, 422, "unknown-recipient")
    lonely = await make_group(client, w["mod"])
    resp = await client.post(
        "/api/v1/alerts",
        json={"jws": sign(w["mod"], alert_payload(w["mod"], {"groups": [lonely["id"]]}))},
        headers=w["mod"].auth,
    )
    await assert_problem(resp, 422, "no-recipients")


async def test_alerts_are_verified_like_messages(client: TestClient[Any, Any]) -> None:
    w = await _world(client)
    message = envelope(w["fr"], w["group"]["id"])
    resp = await client.post(
        "/api/v1/alerts", json={"jws": sign(w["fr"], message)}, headers=w["fr"].auth
    )
    await assert_problem(resp, 422, "unknown-typ")
    payload = alert_payload(w["fr"], {"groups": [w["group"]["id"]]}, title="x")
    token = sign(w["fr"], payload)
    forged = token[:-6] + ("AAAAAA" if not token.endswith("AAAAAA") else "BBBBBB")
    resp = await client.post("/api/v1/alerts", json={"jws": forged}, headers=w["fr"].auth)
    await assert_problem(resp, 422, "bad-signature")
    payload["sub"] = w["de"].id
    resp = await client.post(
        "/api/v1/alerts", json={"jws": sign(w["fr"], payload)}, headers=w["fr"].auth
    )
    await assert_problem(resp, 422, "unknown-key")
    stale = alert_payload(w["fr"], {"groups": [w["group"]["id"]]})
    stale["iat"] = int(time.time()) - 1000
    resp = await client.post(
        "/api/v1/alerts", json={"jws": sign(w["fr"], stale)}, headers=w["fr"].auth
    )
    await assert_problem(resp, 422, "stale-iat")


async def test_a_repeated_cid_returns_the_original_or_conflicts(
    client: TestClient[Any, Any],
) -> None:
    w = await _world(client)
    payload = alert_payload(w["fr"], {"groups": [w["group"]["id"]]})
    token = sign(w["fr"], payload)
    first = await client.post("/api/v1/alerts", json={"jws": token}, headers=w["fr"].auth)
    again = await client.post("/api/v1/alerts", json={"jws": token}, headers=w["fr"].auth)
    assert (first.status, again.status) == (201, 200)
    assert (await first.json()) == (await again.json())
    payload["body"] = {**payload["body"], "title": "Changed"}
    other = await client.post(
        "/api/v1/alerts", json={"jws": sign(w["fr"], payload)}, headers=w["fr"].auth
    )
    await assert_problem(other, 409, "duplicate-cid")


# -- reading -------------------------------------------------------------------------------


async def test_reading_an_alert_and_who_sees_the_summary(client: TestClient[Any, Any]) -> None:
    w = await _world(client)
    respond_by = int(time.time()) + 3600
    sent = await send_alert(client, w["fr"], {"groups": [w["group"]["id"]]}, respond_by=respond_by)
    mine = await _get(client, w["fr"], f"/alerts/{sent['id']}")
    assert set(mine) == {
        "id",
        "jws",
        "content",
        "sender",
        "created_at",
        "hc",
        "priority",
        "ack_required",
        "respond_by",
        "expires_at",
        "my_ack",
        "ack_summary",
    }
    assert mine["sender"]["id"] == w["fr"].id and mine["priority"] == "flash"
    assert mine["respond_by"].endswith("Z") and mine["ack_required"] is True
    assert mine["ack_summary"]["recipients"] == 3 and mine["ack_summary"]["acknowledged"] == 0
    orgs = mine["ack_summary"]["organizations"]
    assert {o["id"] for o in orgs} == {str(w["mod"].organization.id), str(w["de"].organization.id)}
    assert all(o["acknowledged_at"] is None and o["overdue"] is False for o in orgs)
    received = await _get(client, w["de"], f"/alerts/{sent['id']}")
    assert received["jws"] == mine["jws"] and received["ack_summary"] is None
    stranger = await make_member(client, Role.OFFICER)
    resp = await client.get(f"/api/v1/alerts/{sent['id']}", headers=stranger.auth)
    await assert_problem(resp, 404, "not-found")
    admin = await make_member(client, Role.ADMIN)
    assert (await _get(client, admin, f"/alerts/{sent['id']}"))["ack_summary"] is not None


async def test_listing_received_and_sent_alerts_with_paging_and_active_filter(
    client: TestClient[Any, Any], clock: FakeClock
) -> None:
    w = await _world(client)
    now = int(clock.now().timestamp())
    short = await send_alert(client, w["fr"], {"groups": [w["group"]["id"]]}, expires_at=now + 60)
    clock.advance(1)
    lasting = await send_alert(client, w["mod"], {"groups": [w["group"]["id"]]})
    page = await _get(client, w["de"], "/alerts?limit=1")
    assert [a["id"] for a in page["alerts"]] == [lasting["id"]] and page["next"]
    rest = await _get(client, w["de"], f"/alerts?limit=1&after={page['next']}")
    assert [a["id"] for a in rest["alerts"]] == [short["id"]]
    sent_by_fr = await _get(client, w["fr"], "/alerts")
    assert {a["id"] for a in sent_by_fr["alerts"]} == {short["id"], lasting["id"]}
    clock.advance(120)
    active = await _get(client, w["de"], "/alerts?active=true")
    assert [a["id"] for a in active["alerts"]] == [lasting["id"]] and active["next"] is None


# -- acknowledging -------------------------------------------------------------------------


async def test_the_first_ack_is_idempotent_and_outcomes_only_move_forward(
    client: TestClient[Any, Any],
) -> None:
    w = await _world(client)
    sent = await send_alert(client, w["fr"], {"groups": [w["group"]["id"]]})
    first = await _ack(client, w["de"], sent["id"])
    assert first.status == 200
    ack = await first.json()
    assert set(ack) == {"acknowledged_at", "outcome"} and ack["outcome"] == "received"
    again = await _ack(client, w["de"], sent["id"])
    assert await again.json() == ack
    forward = await (await _ack(client, w["de"], sent["id"], outcome="controlled")).json()
    assert forward == {"acknowledged_at": ack["acknowledged_at"], "outcome": "controlled"}
    back = await _ack(client, w["de"], sent["id"], outcome="received")
    await assert_problem(back, 409, "outcome-step-back")
    final = await (await _ack(client, w["de"], sent["id"], outcome="nil_find")).json()
    assert final["outcome"] == "nil_find"
    back_from_final = await _ack(client, w["de"], sent["id"], outcome="controlled")
    await assert_problem(back_from_final, 409, "outcome-step-back")
    skipped = await (await _ack(client, w["mod"], sent["id"], outcome="seized")).json()
    assert skipped["outcome"] == "seized"  # steps may be skipped
    summary = (await _get(client, w["fr"], f"/alerts/{sent['id']}"))["ack_summary"]
    assert summary["acknowledged"] == 2
    de_org = next(o for o in summary["organizations"] if o["id"] == str(w["de"].organization.id))
    assert de_org["acknowledged_at"] == ack["acknowledged_at"] and de_org["outcome"] == "nil_find"
    mine = await _get(client, w["de"], f"/alerts/{sent['id']}")
    assert mine["my_ack"]["outcome"] == "nil_find"


async def test_only_recipients_acknowledge(client: TestClient[Any, Any]) -> None:
    w = await _world(client)
    sent = await send_alert(client, w["fr"], {"groups": [w["group"]["id"]]})
    stranger = await make_member(client, Role.OFFICER)
    await assert_problem(await _ack(client, stranger, sent["id"]), 404, "not-found")
    await assert_problem(await _ack(client, w["fr"], sent["id"]), 404, "not-found")  # the sender
    await assert_problem(await _ack(client, w["observer"], sent["id"]), 403, "read-only")


async def test_a_seized_outcome_links_a_seizure_report_the_caller_may_read(
    client: TestClient[Any, Any],
) -> None:
    w = await _world(client)
    sent = await send_alert(client, w["mod"], {"groups": [w["group"]["id"]]})
    report = await post_message(client, w["fr"], w["group"], "seizure", body=seizure_body("FR"))
    text = await post_message(client, w["fr"], w["group"])
    for message_id, outcome in ((text["id"], "seized"), (report["id"], "controlled")):
        resp = await _ack(
            client, w["fr"], sent["id"], outcome=outcome, seizure_message_id=message_id
        )
        await assert_problem(resp, 422, "invalid-seizure-link")
    other_group = await make_group(client, w["mod"])
    await add_member(client, w["mod"], other_group, w["de"])
    hidden_report = await post_message(
        client, w["de"], other_group, "seizure", body=seizure_body("DE")
    )
    resp = await _ack(
        client, w["fr"], sent["id"], outcome="seized", seizure_message_id=hidden_report["id"]
    )
    await assert_problem(resp, 422, "invalid-seizure-link")
    resp = await _ack(
        client, w["fr"], sent["id"], outcome="seized", seizure_message_id=report["id"], note="ok"
    )
    assert resp.status == 200 and (await resp.json())["outcome"] == "seized"
    mine = await _get(client, w["fr"], f"/alerts/{sent['id']}")
    assert mine["my_ack"]["seizure_message_id"] == report["id"]


# -- live frames ---------------------------------------------------------------------------


async def test_alert_and_ack_frames_reach_the_right_people(client: TestClient[Any, Any]) -> None:
    w = await _world(client)
    admin = await make_member(client, Role.ADMIN)
    stranger = await make_member(client, Role.OFFICER)
    ws_de = await connect(client, w["de"])
    ws_sender = await connect(client, w["fr"])
    ws_admin = await connect(client, admin)
    ws_stranger = await connect(client, stranger)
    sent = await send_alert(client, w["fr"], {"groups": [w["group"]["id"]]})
    alert = await frame(ws_de)
    assert set(alert) == {"type", "alert"} and alert["type"] == "alert"
    assert alert["alert"]["id"] == sent["id"] and alert["alert"]["my_ack"] is None
    view = await _get(client, w["de"], f"/alerts/{sent['id']}")
    assert alert["alert"] == view
    ack = await (await _ack(client, w["de"], sent["id"], outcome="controlled")).json()
    expected = {
        "type": "alert.ack",
        "alert_id": sent["id"],
        "user_id": w["de"].id,
        "organization_id": str(w["de"].organization.id),
        "acknowledged_at": ack["acknowledged_at"],
        "outcome": "controlled",
    }
    assert await frame(ws_sender) == expected
    assert await frame(ws_admin) == expected
    assert await frame(ws_de) == expected  # their own organisation sees it was answered
    # The stranger got nothing: the next frame it sees is its own membership news.
    await add_member(client, w["mod"], w["group"], stranger)
    assert (await frame(ws_stranger))["type"] == "membership"


@pytest.mark.parametrize("target", ["organizations", "regions"])
async def test_moderators_reach_organisations_and_regions(
    target: str, client: TestClient[Any, Any]
) -> None:
    w = await _world(client)
    to: dict[str, Any] = (
        {"organizations": [str(w["de"].organization.id)]}
        if target == "organizations"
        else {"regions": ["EUROPE"]}
    )
    sent = await send_alert(client, w["mod"], to)
    expected = 1 if target == "organizations" else 3  # fr, de, observer: all in EUROPE
    assert sent["recipients"] == expected
    assert (await _get(client, w["de"], f"/alerts/{sent['id']}"))["id"] == sent["id"]


async def test_rilos_are_organisations_too(client: TestClient[Any, Any]) -> None:
    mod = await make_member(client, Role.MODERATOR, with_key=True)
    rilo = await make_organization(
        client, kind=OrganizationKind.RILO, country=None, region=Region.EUROPE
    )
    await make_member(client, Role.ANALYST, organization=rilo)
    sent = await send_alert(client, mod, {"organizations": [str(rilo.id)]})
    assert sent == {"id": sent["id"], "recipients": 1, "organizations": 1}
