"""Seizure analytics timings: `GET /groups/{id}/analytics`, the seizures CSV and the operation
report over 10,000 and 1,000,000 seizure items in one group.

    .venv/bin/python -m bench.analytics_bench [--items 10000 1000000] [--database URL]

The data is inserted straight into the tables (`message`, the analytic rows and their daily
counters, by the storage function the rebuild uses), in batches, not posted: posting a million
items through signed envelopes would measure the writer (see post_bench), not the analytics.
These messages carry a placeholder instead of a JWS, so `cencomm analytics rebuild` does not
apply to a bench database. Reports hold 1 to 6 items (3.5 on average), from 99 administrations
in the six regions, over nine weeks, with 0 to 2 transit countries; 2 % are hidden and 10 % are
TLP:RED, so every filter has work to do.

The server runs in this process (aiohttp on a loopback socket) and so does its client: timings
include reading the answer. Each request is timed 5 times (3 for the report and for the CSV
up to 100,000 items, once above); the median is shown. PostgreSQL: pass an empty scratch
database (`--database postgresql+asyncpg://...`, every table is emptied first); the bench runs
`VACUUM ANALYZE` after loading, as autovacuum would.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import random
import resource
import statistics
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import Connection, insert, text, update
from sqlalchemy.ext.asyncio import create_async_engine

from bench.in_process import scratch_server
from cencomm.appkeys import DATABASE, SERVICES
from cencomm.domain.analytics import SeizureRows, week_start
from cencomm.domain.countries import COUNTRY_CODES
from cencomm.domain.seizures import Category, family_of
from cencomm.domain.users import Caller, OrganizationKind, Region, Role
from cencomm.services.directory import NewUser
from cencomm.storage.analytics import insert_seizure_rows
from cencomm.storage.tables import GroupRow, MessageRow

PASSWORD = "benchmark password 2026"  # noqa: S105
BATCH = 5_000  # reports per insert batch
START = date(2020, 5, 11)
WEEKS = 9
MODES = ["air", "sea", "road", "rail", "postal", "express_courier"]
DETECTION = ["risk_profiling", "intelligence", "xray", "canine", "random", "documentary"]
CONCEALMENT = ["mis_declaration", "hidden_in_cargo", "luggage", "body", "false_documents", "none"]
INFRINGEMENT = ["counterfeit", "falsified", "unauthorized", "substandard", "expired", "other"]
ORIGINS = ["CN", "IN", "TR", "AE", "HK", "PK", "VN", "TH"]
HUBS = ["AE", "SG", "NL", "BE", "HK", "QA", "TR"]
CATEGORIES = [c.value for c in Category]


async def _seed_directory(
    client: TestClient[Any, Any],
) -> tuple[str, dict[str, str], Any, list[Any]]:
    """99 administrations, an admin and an active group (through the services and the API)."""
    services = client.app[SERVICES]
    system = Caller.system()
    regions = list(Region)
    orgs = [
        await services.directory.create_organization(
            system, f"Customs {c}", OrganizationKind.ADMINISTRATION, c, regions[n % len(regions)]
        )
        for n, c in enumerate(sorted(COUNTRY_CODES)[:99])
    ]
    secretariat = await services.directory.create_organization(
        system, "Secretariat", OrganizationKind.SECRETARIAT, None, None
    )
    admin = await services.directory.create_user(
        system, NewUser("bench.admin", "Bench admin", secretariat.id, Role.ADMIN, PASSWORD)
    )
    auth = await _login(client)
    resp = await client.post(
        "/api/v1/groups", json={"code": "BENCH-OP", "name": "Bench operation"}, headers=auth
    )
    group_id = (await resp.json())["id"]
    resp = await client.patch(f"/api/v1/groups/{group_id}", json={"status": "active"}, headers=auth)
    assert resp.status == 200, await resp.text()
    return group_id, auth, admin, orgs


async def _login(client: TestClient[Any, Any]) -> dict[str, str]:
    resp = await client.post(
        "/api/v1/auth/login", json={"username": "bench.admin", "password": PASSWORD}
    )
    assert resp.status == 200, await resp.text()
    return {"Authorization": f"Bearer {(await resp.json())['access_token']}"}


def _batch(
    rng: random.Random,
    group_id: uuid.UUID,
    sender_id: uuid.UUID,
    orgs: list[Any],
    first_seq: int,
    items_wanted: int,
) -> tuple[list[dict[str, Any]], list[SeizureRows]]:
    """Rows for up to BATCH reports holding at most `items_wanted` items."""
    messages: list[dict[str, Any]] = []
    seizures: list[SeizureRows] = []
    now = datetime.now(UTC)
    seq = first_seq
    items_made = 0
    while len(seizures) < BATCH and items_made < items_wanted:
        seq += 1
        message_id = uuid.uuid4()
        org = orgs[rng.randrange(len(orgs))]
        day = START + timedelta(days=rng.randrange(WEEKS * 7))
        hc = "TLP:RED" if rng.random() < 0.10 else rng.choice(["TLP:GREEN", "TLP:AMBER"])
        hidden = rng.random() < 0.02
        common = {
            "message_id": message_id,
            "group_id": group_id,
            "occurred_on": day,
            "hc": hc,
            "hidden": hidden,
        }
        messages.append(
            {
                "id": message_id,
                "group_id": group_id,
                "seq": seq,
                "sender_id": sender_id,
                "sender_organization_id": org.id,
                "kid": "bench",
                "cid": str(message_id),
                "typ": "seizure",
                "hc": hc,
                "jws": "bench placeholder: not a JWS",
                "jws_sha256": message_id.bytes * 2,
                "created_at": now,
                "hidden": hidden,
            }
        )
        hubs = rng.sample(HUBS, rng.choice([0, 0, 1, 1, 2]))
        report = {
            **common,
            "country": org.country,
            "region": org.region.value,
            "location": None,
            "transport_mode": rng.choice(MODES),
            "origin": rng.choice(ORIGINS),
            "transit": hubs,
            "destination": org.country,
            "infringement": rng.choice(INFRINGEMENT),
            "detection": rng.choice(DETECTION),
            "concealment": rng.choice(CONCEALMENT),
            "seq": seq,
            "sender_organization_id": org.id,
            "reported_at": now,
            "week_start": week_start(day),
        }
        items = []
        for n in range(min(rng.randint(1, 6), items_wanted - items_made)):
            category = rng.choice(CATEGORIES)
            unit = "litres" if category == "sanitizer" else rng.choice(["units", "units", "kg"])
            items.append(
                {
                    **common,
                    "position": n,
                    "country": org.country,
                    "category": category,
                    "family": family_of(category).value,
                    "unit": unit,
                    "quantity": float(rng.randint(1, 20_000)),
                    "description": None,
                    "hs_code": "3004.90",
                }
            )
        items_made += len(items)
        transit = [{**common, "position": n, "country": c} for n, c in enumerate(hubs)]
        seizures.append(SeizureRows(report, items, transit))
    return messages, seizures


def _insert(
    connection: Connection, messages: list[dict[str, Any]], seizures: list[SeizureRows]
) -> None:
    """As the writer does: messages, analytic rows, and the daily counters of visible ones."""
    connection.execute(insert(MessageRow), messages)
    insert_seizure_rows(connection, seizures)


async def _load(
    client: TestClient[Any, Any], group_id: str, admin: Any, orgs: list[Any], n: int
) -> int:
    """Insert `n` items; returns the number of reports."""
    db = client.app[DATABASE]
    rng = random.Random(20200511)
    done = reports = seq = 0
    # Straight into the tables on a connection of the bench's own: the server's units of work
    # store verified posts only, and these rows carry a placeholder instead of a JWS.
    engine = create_async_engine(db.url)
    try:
        while done < n:
            messages, seizures = _batch(rng, uuid.UUID(group_id), admin.id, orgs, seq, n - done)
            async with engine.begin() as connection:
                await connection.run_sync(_insert, messages, seizures)
            seq += len(seizures)
            reports += len(seizures)
            done += sum(len(rows.items) for rows in seizures)
        async with engine.begin() as connection:
            await connection.execute(
                update(GroupRow).where(GroupRow.id == uuid.UUID(group_id)).values(last_seq=seq)
            )
    finally:
        await engine.dispose()
    # Statistics as autovacuum would gather them.
    engine = create_async_engine(db.url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        analyze = "VACUUM ANALYZE" if db.dialect == "postgresql" else "ANALYZE"
        await connection.execute(text(analyze))
    await engine.dispose()
    return reports


async def _timed(
    client: TestClient[Any, Any], path: str, auth: dict[str, str], runs: int
) -> tuple[float, int]:
    """Median seconds over `runs` requests, and the answer's size in bytes."""
    times, size = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        resp = await client.get(path, headers=auth)
        assert resp.status == 200, await resp.text()
        size = 0
        async for chunk in resp.content.iter_chunked(256 * 1024):
            size += len(chunk)
        times.append(time.perf_counter() - started)
    return statistics.median(times), size


async def bench(items: int, database: str | None) -> None:
    async with scratch_server(database) as client:
        group_id, auth, admin, orgs = await _seed_directory(client)
        started = time.perf_counter()
        reports = await _load(client, group_id, admin, orgs, items)
        load = time.perf_counter() - started
        auth = await _login(client)  # access tokens live minutes; loading may take longer
        base = f"/api/v1/groups/{group_id}"
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        csv_runs = 3 if items <= 100_000 else 1  # a million rows take a while
        rows = [
            ("analytics", *await _timed(client, f"{base}/analytics", auth, 5)),
            (
                "analytics ?from=&to= (2 weeks)",
                *await _timed(client, f"{base}/analytics?from=2020-05-18&to=2020-05-31", auth, 5),
            ),
            (
                "cross-group /analytics",
                *await _timed(client, f"/api/v1/analytics?group_id={group_id}", auth, 5),
            ),
            ("report (HTML)", *await _timed(client, f"{base}/report", auth, 3)),
            ("seizures.csv", *await _timed(client, f"{base}/seizures.csv", auth, csv_runs)),
        ]
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    dialect = "PostgreSQL" if database else "SQLite"
    print(
        f"\n{items:,} items in {reports:,} reports, {dialect}; loaded in {load:.1f} s "
        f"({platform.machine()}, Python {platform.python_version()})"
    )
    print("| request | median | answer size |\n|---|---|---|")
    for name, seconds, size in rows:
        print(f"| {name} | {seconds * 1000:,.0f} ms | {size / 1024:,.0f} KiB |")
    print(f"peak RSS growth during the requests: {(rss_after - rss_before) / 1024:,.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--database", help="an empty scratch PostgreSQL database URL")
    args = parser.parse_args()
    for items in args.items:
        asyncio.run(bench(items, args.database))


if __name__ == "__main__":
    main()
