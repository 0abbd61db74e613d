"""GET /groups/{id}/analytics on a hand-computed dataset: exact figures and the order of every
list, hidden reports, from/to, observers' narrowing, validation, and the rebuild from the JWS."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import text

from cencomm.appkeys import SERVICES
from cencomm.domain.users import Role
from cencomm.storage.unit import Unit
from tests.conftest import PG_URL
from tests.factories import make_member
from tests.problems import assert_problem
from tests.web.analytics_helpers import API, build_dataset, get_json


def counts(*pairs: tuple[str, int]) -> list[dict[str, Any]]:
    return [{"name": name, "interceptions": n} for name, n in pairs]


# Every figure worked out by hand from the five reports in analytics_helpers.REPORTS.
EXPECTED_MEMBER: dict[str, Any] = {
    "interceptions": 5,
    "reporting_countries": 3,
    "totals": {"medicines_units": 1500, "medical_supplies_units": 1420, "sanitizer_litres": 50},
    "by_category": [
        {"category": "medicines", "unit": "units", "quantity": 1500},
        {"category": "masks", "unit": "kg", "quantity": 10},
        {"category": "masks", "unit": "units", "quantity": 1000},
        {"category": "gloves", "unit": "units", "quantity": 400},
        {"category": "test_kits", "unit": "units", "quantity": 20},
        {"category": "sanitizer", "unit": "litres", "quantity": 50},
    ],
    "routes": [
        {"origin": "CN", "destination": "FR", "interceptions": 2},
        {"origin": "CN", "destination": "DE", "interceptions": 1},
        {"origin": "IN", "destination": "DE", "interceptions": 1},
        {"origin": "IN", "destination": "NG", "interceptions": 1},
    ],
    "transport_modes": counts(("air", 2), ("postal", 1), ("road", 1), ("sea", 1)),
    "detection": counts(
        ("risk_profiling", 2), ("documentary", 1), ("intelligence", 1), ("xray", 1)
    ),
    "concealment": counts(("mis_declaration", 3), ("hidden_in_cargo", 1), ("luggage", 1)),
    "infringement": counts(("counterfeit", 3), ("falsified", 1), ("substandard", 1)),
    "by_week": [
        {"week_start": "2020-05-11", "interceptions": 3},
        {"week_start": "2020-05-18", "interceptions": 0},
        {"week_start": "2020-05-25", "interceptions": 1},
        {"week_start": "2020-06-01", "interceptions": 0},
        {"week_start": "2020-06-08", "interceptions": 1},
    ],
    "by_region": [
        {"region": "EUROPE", "interceptions": 4},
        {"region": "WEST_CENTRAL_AFRICA", "interceptions": 1},
    ],
    "by_country": [
        {"country": "DE", "interceptions": 2, "medicines_units": 300,
         "medical_supplies_units": 420, "sanitizer_litres": 0},
        {"country": "FR", "interceptions": 2, "medicines_units": 200,
         "medical_supplies_units": 1000, "sanitizer_litres": 50},
        {"country": "NG", "interceptions": 1, "medicines_units": 1000,
         "medical_supplies_units": 0, "sanitizer_litres": 0},
    ],
    "transit": [{"country": "AE", "interceptions": 3}, {"country": "NL", "interceptions": 1}],
    "top_products": [
        {"category": "medicines", "unit": "units", "quantity": 1500, "interceptions": 3,
         "share": 0.5137},
        {"category": "gloves", "unit": "units", "quantity": 400, "interceptions": 1,
         "share": 0.137},
        {"category": "masks", "unit": "kg", "quantity": 10, "interceptions": 1, "share": 1.0},
        {"category": "masks", "unit": "units", "quantity": 1000, "interceptions": 1,
         "share": 0.3425},
        {"category": "sanitizer", "unit": "litres", "quantity": 50, "interceptions": 1,
         "share": 1.0},
        {"category": "test_kits", "unit": "units", "quantity": 20, "interceptions": 1,
         "share": 0.0068},
    ],
}  # fmt: skip


def without_times(answer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answer.items() if k not in ("first_report_at", "last_report_at")}


async def test_analytics_of_a_hand_computed_operation(client: TestClient[Any, Any]) -> None:
    data = await build_dataset(client)
    answer = await get_json(client, f"{data.url}/analytics", data.senders["fr"])
    assert without_times(answer) == EXPECTED_MEMBER
    times = [m["created_at"] for m in data.messages]
    assert answer["first_report_at"] == min(times)
    assert answer["last_report_at"] == max(times)


async def test_an_empty_group_has_zero_figures(client: TestClient[Any, Any]) -> None:
    data = await build_dataset(client)
    answer = await get_json(client, f"{data.url}/analytics", data.owner, **{"from": "2021-01-01"})
    assert answer["interceptions"] == 0
    assert answer["totals"] == {
        "medicines_units": 0,
        "medical_supplies_units": 0,
        "sanitizer_litres": 0,
    }
    assert answer["by_week"] == answer["routes"] == answer["top_products"] == []
    assert answer["first_report_at"] is None and answer["last_report_at"] is None


async def test_observers_count_only_what_they_may_read(client: TestClient[Any, Any]) -> None:
    data = await build_dataset(client)
    answer = await get_json(client, f"{data.url}/analytics", data.observer)
    # R3 (TLP:AMBER+STRICT) and R4 (TLP:RED) are withheld from observers.
    assert answer["interceptions"] == 3
    assert answer["reporting_countries"] == 2
    assert answer["totals"] == {
        "medicines_units": 200,
        "medical_supplies_units": 1020,
        "sanitizer_litres": 50,
    }
    assert answer["transit"] == [
        {"country": "AE", "interceptions": 2},
        {"country": "NL", "interceptions": 1},
    ]
    assert answer["by_week"] == [{"week_start": "2020-05-11", "interceptions": 3}]
    assert [c["country"] for c in answer["by_country"]] == ["FR", "DE"]


async def test_hidden_reports_drop_out_and_come_back(client: TestClient[Any, Any]) -> None:
    data = await build_dataset(client)
    first = data.messages[0]["id"]
    resp = await client.post(
        f"{API}/messages/{first}/hide", json={"reason": "duplicate"}, headers=data.owner.auth
    )
    assert resp.status == 200, await resp.text()
    hidden = await get_json(client, f"{data.url}/analytics", data.owner)
    assert hidden["interceptions"] == 4
    assert hidden["totals"]["medicines_units"] == 1300
    assert hidden["routes"][0] == {"origin": "CN", "destination": "DE", "interceptions": 1}
    assert hidden["transit"] == [
        {"country": "AE", "interceptions": 2},
        {"country": "NL", "interceptions": 1},
    ]
    resp = await client.post(f"{API}/messages/{first}/unhide", headers=data.owner.auth)
    assert resp.status == 200, await resp.text()
    shown = await get_json(client, f"{data.url}/analytics", data.owner)
    assert without_times(shown) == EXPECTED_MEMBER


async def test_from_and_to_narrow_on_occurred_on_inclusively(
    client: TestClient[Any, Any],
) -> None:
    data = await build_dataset(client)
    answer = await get_json(
        client, f"{data.url}/analytics", data.owner, **{"from": "2020-05-12", "to": "2020-05-26"}
    )
    # R5 (05-12), R2 (05-17), R3 (05-26): both ends included.
    assert answer["interceptions"] == 3
    assert answer["by_week"] == [
        {"week_start": "2020-05-11", "interceptions": 2},
        {"week_start": "2020-05-18", "interceptions": 0},
        {"week_start": "2020-05-25", "interceptions": 1},
    ]
    only_from = await get_json(
        client, f"{data.url}/analytics", data.owner, **{"from": "2020-06-10"}
    )
    assert only_from["interceptions"] == 1
    only_to = await get_json(client, f"{data.url}/analytics", data.owner, to="2020-05-11")
    assert only_to["interceptions"] == 1


async def test_bad_dates_are_all_reported_together(client: TestClient[Any, Any]) -> None:
    data = await build_dataset(client)
    resp = await client.get(
        f"{data.url}/analytics",
        params={"from": "2020-02-30", "to": "yesterday"},
        headers=data.owner.auth,
    )
    body = await assert_problem(resp, 422, "validation-failed")
    assert [e["field"] for e in body["errors"]] == ["query.from", "query.to"]
    resp = await client.get(
        f"{data.url}/analytics",
        params={"from": "2020-06-01", "to": "2020-05-01"},
        headers=data.owner.auth,
    )
    body = await assert_problem(resp, 422, "validation-failed")
    assert [e["field"] for e in body["errors"]] == ["query.to"]
    for params in ({"from": "2020-5-1"}, {"to": "20200501"}, {"week": "1"}):
        resp = await client.get(f"{data.url}/analytics", params=params, headers=data.owner.auth)
        await assert_problem(resp, 422, "validation-failed")
    resp = await client.get(
        f"{data.url}/analytics?from=2020-05-01&from=2020-05-02", headers=data.owner.auth
    )
    await assert_problem(resp, 422, "validation-failed")


async def test_a_non_member_gets_404_as_for_a_missing_group(client: TestClient[Any, Any]) -> None:
    data = await build_dataset(client)
    outsider = await make_member(client, Role.OFFICER)
    resp = await client.get(f"{data.url}/analytics", headers=outsider.auth)
    hidden = await assert_problem(resp, 404, "not-found")
    resp = await client.get(
        f"{API}/groups/00000000-0000-4000-8000-000000000000/analytics", headers=outsider.auth
    )
    missing = await assert_problem(resp, 404, "not-found")
    assert hidden["detail"] == missing["detail"]


async def test_rebuild_from_the_jws_gives_identical_answers(client: TestClient[Any, Any]) -> None:
    data = await build_dataset(client)
    resp = await client.post(
        f"{API}/messages/{data.messages[1]['id']}/hide",
        json={"reason": "duplicate"},
        headers=data.owner.auth,
    )
    assert resp.status == 200
    views = [
        (data.owner, {}),
        (data.observer, {}),
        (data.owner, {"from": "2020-05-12", "to": "2020-05-26"}),
    ]
    before = [await get_json(client, f"{data.url}/analytics", who, **p) for who, p in views]
    csv_before = await (
        await client.get(f"{data.url}/seizures.csv", headers=data.owner.auth)
    ).read()
    counts = await client.app[SERVICES].analytics.rebuild()
    assert (counts.reports, counts.items, counts.transit) == (5, 8, 4)
    after = [await get_json(client, f"{data.url}/analytics", who, **p) for who, p in views]
    assert after == before
    csv_after = await (await client.get(f"{data.url}/seizures.csv", headers=data.owner.auth)).read()
    assert csv_after == csv_before
    # Hidden state survives the rebuild, and unhiding still brings the report back.
    resp = await client.post(
        f"{API}/messages/{data.messages[1]['id']}/unhide", headers=data.owner.auth
    )
    assert resp.status == 200
    shown = await get_json(client, f"{data.url}/analytics", data.owner)
    assert without_times(shown) == EXPECTED_MEMBER


@pytest.mark.skipif(not PG_URL, reason="SQLite has one writer: two hides never overlap there")
async def test_a_report_hidden_twice_at_once_is_subtracted_once(
    client: TestClient[Any, Any],
) -> None:
    """Two processes hiding one report at the same moment both pass the message check: while
    the first transaction is open, the second runs; only one may take it off the counters."""
    data = await build_dataset(client)
    message_id = uuid.UUID(data.messages[0]["id"])
    db = client.app[SERVICES].db
    first_done = asyncio.Event()
    lock_wait = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )

    def first(unit: Unit) -> None:
        unit.analytics.set_seizure_hidden(message_id, True)
        first_done.set()  # PostgreSQL units run on the event loop's thread (run_sync)
        # Stay open until the second transaction waits on our locks. Each statement yields
        # to the event loop (the async driver), so the second one runs meanwhile.
        session = unit._session  # raw SQL: no store asks PostgreSQL about lock waits
        for _ in range(2000):  # polls; nothing is timed (the bound only ends a failing run)
            # Within a transaction pg_stat_activity is a snapshot: take a fresh one each time.
            session.execute(text("SELECT pg_stat_clear_snapshot()"))
            if session.execute(lock_wait).scalar_one():
                return
            session.execute(text("SELECT pg_sleep(0.01)"))
        raise AssertionError("the second hide never waited on the first one's locks")

    async def second() -> None:
        await asyncio.wait_for(first_done.wait(), 30)
        await db.write(lambda unit: unit.analytics.set_seizure_hidden(message_id, True))

    tasks = [asyncio.create_task(db.write(first)), asyncio.create_task(second())]
    await asyncio.wait_for(asyncio.gather(*tasks), 30)
    hidden = await get_json(client, f"{data.url}/analytics", data.owner)
    assert hidden["interceptions"] == 4
    assert hidden["routes"][0] == {"origin": "CN", "destination": "DE", "interceptions": 1}
