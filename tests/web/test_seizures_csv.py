"""GET /groups/{id}/seizures.csv: one row per item, RFC 4180, formulas neutralised, streamed,
never TLP:RED, observers narrowed, hidden reports left out, every export audited."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

from aiohttp.test_utils import TestClient

from cencomm.appkeys import SERVICES
from cencomm.domain.audit import AuditFilter
from cencomm.domain.users import Region, Role
from cencomm.services.analytics import CSV_PAGE
from tests.factories import add_member, make_group, make_member, make_organization, post_message
from tests.problems import assert_problem
from tests.web.analytics_helpers import API, build_dataset, report

HEADER = [
    "message_id", "seq", "occurred_on", "country", "organization", "origin", "transit",
    "destination", "transport_mode", "detection", "concealment", "infringement", "category",
    "quantity", "unit", "hs_code",
]  # fmt: skip


def rows_of(raw: bytes) -> list[list[str]]:
    text = raw.decode("utf-8")
    assert text.endswith("\r\n")
    return list(csv.reader(io.StringIO(text, newline="")))


async def test_one_row_per_item_in_seq_order_without_red(client: TestClient[Any, Any]) -> None:
    data = await build_dataset(client)
    resp = await client.get(f"{data.url}/seizures.csv", headers=data.senders["de"].auth)
    assert resp.status == 200, await resp.text()
    assert resp.headers["Content-Type"].startswith("text/csv")
    disposition = resp.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="cencomm-seizures-')
    rows = rows_of(await resp.read())
    assert rows[0][: len(HEADER)] == HEADER  # the standard form's columns come after
    assert all(row[len(HEADER) :] == [""] * 16 for row in rows[1:])  # none here
    rows = [row[: len(HEADER)] for row in rows]
    fr, de = data.senders["fr"].organization.name, data.senders["de"].organization.name
    r1, r2, r3, _r4, r5 = (m["id"] for m in data.messages)
    assert rows[1:] == [
        [r1, "1", "2020-05-11", "FR", fr, "CN", "AE", "FR", "air", "risk_profiling",
         "mis_declaration", "counterfeit", "masks", "1000", "units", ""],
        [r1, "1", "2020-05-11", "FR", fr, "CN", "AE", "FR", "air", "risk_profiling",
         "mis_declaration", "counterfeit", "medicines", "200", "units", ""],
        [r2, "2", "2020-05-17", "FR", fr, "CN", "AE;NL", "FR", "sea", "xray",
         "hidden_in_cargo", "counterfeit", "sanitizer", "50", "litres", ""],
        [r2, "2", "2020-05-17", "FR", fr, "CN", "AE;NL", "FR", "sea", "xray",
         "hidden_in_cargo", "counterfeit", "masks", "10", "kg", ""],
        [r3, "3", "2020-05-26", "DE", de, "IN", "", "DE", "road", "intelligence",
         "mis_declaration", "falsified", "medicines", "300", "units", ""],
        [r3, "3", "2020-05-26", "DE", de, "IN", "", "DE", "road", "intelligence",
         "mis_declaration", "falsified", "gloves", "400", "units", ""],
        # R4 is TLP:RED: never in a CSV, whoever asks.
        [r5, "5", "2020-05-12", "DE", de, "CN", "", "DE", "postal", "documentary",
         "mis_declaration", "counterfeit", "test_kits", "20", "units", ""],
    ]  # fmt: skip


async def test_observers_hidden_reports_and_dates_narrow_the_rows(
    client: TestClient[Any, Any],
) -> None:
    data = await build_dataset(client)
    resp = await client.get(f"{data.url}/seizures.csv", headers=data.observer.auth)
    seqs = [row[1] for row in rows_of(await resp.read())[1:]]
    assert seqs == ["1", "1", "2", "2", "5"]  # no AMBER+STRICT (R3), no RED (R4)
    resp = await client.post(
        f"{API}/messages/{data.messages[0]['id']}/hide",
        json={"reason": "wrong"},
        headers=data.owner.auth,
    )
    assert resp.status == 200
    resp = await client.get(
        f"{data.url}/seizures.csv", params={"from": "2020-05-12"}, headers=data.owner.auth
    )
    seqs = [row[1] for row in rows_of(await resp.read())[1:]]
    assert seqs == ["2", "2", "3", "3", "5"]
    resp = await client.get(
        f"{data.url}/seizures.csv", params={"to": "someday"}, headers=data.owner.auth
    )
    await assert_problem(resp, 422, "validation-failed")


async def test_formulas_are_neutralised_and_fields_quoted(client: TestClient[Any, Any]) -> None:
    admin = await make_member(client, Role.ADMIN)
    group = await make_group(client, admin)
    names = ['=HYPERLINK("http://x.invalid","a, b")', "+1 Customs", "-2+3", "@SUM(A1)"]
    for n, name in enumerate(names):
        org = await make_organization(client, country="FR", region=Region.EUROPE, name=name)
        officer = await make_member(client, Role.OFFICER, organization=org, with_key=True)
        await add_member(client, admin, group, officer)
        body = report(
            "FR", f"2020-05-1{n}", "air", ("CN", [], "FR"), [("masks", 1.5, "units")],
            "counterfeit", "xray", "none",
        )  # fmt: skip
        body["items"][0]["hs_code"] = "6307.90"
        await post_message(client, officer, group, "seizure", hc="TLP:GREEN", body=body)
    resp = await client.get(f"{API}/groups/{group['id']}/seizures.csv", headers=admin.auth)
    raw = await resp.read()
    # RFC 4180: quotes doubled inside a quoted field holding a comma or a quote.
    assert b'"\'=HYPERLINK(""http://x.invalid"",""a, b"")"' in raw
    rows = rows_of(raw)[1:]
    assert [row[4] for row in rows] == [f"'{name}" for name in names]
    assert {row[13] for row in rows} == {"1.5"}
    assert {row[15] for row in rows} == {"6307.90"}


async def test_large_exports_stream_page_by_page(client: TestClient[Any, Any]) -> None:
    admin = await make_member(client, Role.ADMIN)
    group = await make_group(client, admin)
    org = await make_organization(client, country="FR", region=Region.EUROPE)
    officer = await make_member(client, Role.OFFICER, organization=org, with_key=True)
    await add_member(client, admin, group, officer)
    reports = CSV_PAGE // 50 + 1  # more items than one page holds
    items = [("masks", float(q), "units") for q in range(1, 51)]
    for _ in range(reports):
        body = report(
            "FR", "2020-05-11", "air", ("CN", [], "FR"), items, "counterfeit", "xray", "none"
        )
        await post_message(client, officer, group, "seizure", hc="TLP:GREEN", body=body)
    resp = await client.get(f"{API}/groups/{group['id']}/seizures.csv", headers=admin.auth)
    assert resp.status == 200
    assert "Content-Length" not in resp.headers  # streamed, chunk by chunk
    assert resp.headers.get("Transfer-Encoding") == "chunked"
    rows = rows_of(await resp.read())[1:]
    assert len(rows) == reports * 50 > CSV_PAGE
    keys = [(int(row[1]), float(row[13])) for row in rows]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)


async def test_each_export_is_audited_and_non_members_get_404(
    client: TestClient[Any, Any],
) -> None:
    data = await build_dataset(client)
    for _ in range(2):
        resp = await client.get(f"{data.url}/seizures.csv", headers=data.observer.auth)
        assert resp.status == 200
        await resp.read()
    entries = await client.app[SERVICES].db.read(
        lambda unit: unit.audit.list_entries(
            AuditFilter(action="group.seizures_export"), after=None, limit=10
        )
    )
    assert [(e.actor_id, e.group_id) for e in entries] == [
        (data.observer.user.id, uuid.UUID(data.group["id"]))
    ] * 2
    outsider = await make_member(client, Role.OFFICER)
    resp = await client.get(f"{data.url}/seizures.csv", headers=outsider.auth)
    await assert_problem(resp, 404, "not-found")
