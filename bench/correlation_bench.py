"""Correlation timings (issue 20): `GET /messages/{id}/related` over 1,000,000 indexed
identifiers, and signed posts of seizure reports with 20 identifiers against reports with none.

    .venv/bin/python -m bench.correlation_bench [--identifiers 1000000] [--posts 400]
        [--database URL]

The million identifiers are inserted straight into the tables (`message`, `seizure_report` and
`report_identifier`, by the storage function the writer and the rebuild use), in batches, not
posted: posting 100,000 reports through signed envelopes would measure the writer (see
post_bench), not the lookup. These messages carry a placeholder instead of a JWS. Each report
holds 10 identifiers: a vessel (from a pool of one per 50 reports), two documents (one per
report), five containers (two and a half per report) and two parties (one per 10 reports), so
a vessel or a consignee links dozens of reports and most documents and containers a few; the
reports are spread over 10 operations, 10 % are TLP:RED and 2 % hidden.

`related` is asked for 200 random reports by an analyst who reads 3 of the 10 operations (so
`elsewhere` has work to do) and by an admin (every operation readable); median and p95.

Posts: one officer's 8 concurrent clients post pre-signed reports to the loaded database,
alternately `--posts` without identifiers and `--posts` with 20 (a vessel, four bills of
lading, ten containers, five parties), three rounds; posts per second, the median round.

The server runs in this process (aiohttp on a loopback socket) and so does its client: timings
include sending the request and reading the answer. PostgreSQL: pass an empty scratch database
(`--database postgresql+asyncpg://...`, every table is emptied first); the bench runs
`VACUUM ANALYZE` after loading, as autovacuum would.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import platform
import random
import statistics
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from unittest import mock

from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, insert, text, update
from sqlalchemy.ext.asyncio import create_async_engine

from bench.in_process import scratch_server
from cencomm.appkeys import DATABASE, SERVICES
from cencomm.crypto.jws import sign_compact
from cencomm.crypto.keys import b64url_encode, jwk_thumbprint, raw_public_key
from cencomm.domain.analytics import SeizureRows, week_start
from cencomm.domain.identifiers import iso6346_check_digit
from cencomm.domain.users import Caller, OrganizationKind, Region, Role
from cencomm.services.directory import NewUser
from cencomm.storage.analytics import insert_seizure_tables
from cencomm.storage.tables import GroupRow, MessageRow

PASSWORD = "benchmark password 2026"  # noqa: S105
API = "/api/v1"
BATCH = 5_000  # reports per insert batch
PER_REPORT = 10  # identifiers per loaded report
GROUPS = 10
READ_BY_ANALYST = 3
COUNTRIES = ("FR", "DE", "ES", "IT", "NL", "BE", "PL", "PT", "AT", "SE")
START = date(2020, 5, 11)
LOOKUPS = 200
CLIENTS = 8
ROUNDS = 3


@dataclass
class World:
    admin: dict[str, str]
    analyst: dict[str, str]
    officer: dict[str, str]
    officer_id: str
    key: Ed25519PrivateKey
    kid: str
    group_ids: list[str]
    orgs: list[Any]


async def _login(client: TestClient[Any, Any], username: str) -> dict[str, str]:
    resp = await client.post(f"{API}/auth/login", json={"username": username, "password": PASSWORD})
    assert resp.status == 200, await resp.text()
    return {"Authorization": f"Bearer {(await resp.json())['access_token']}"}


async def _seed(client: TestClient[Any, Any]) -> World:
    """Ten administrations, an admin, an analyst in 3 of 10 active operations, an officer (with
    a signing key) in the first (through the services and the API)."""
    services = client.app[SERVICES]
    system = Caller.system()
    orgs = [
        await services.directory.create_organization(
            system, f"Customs {c}", OrganizationKind.ADMINISTRATION, c, Region.EUROPE
        )
        for c in COUNTRIES
    ]
    secretariat = await services.directory.create_organization(
        system, "Secretariat", OrganizationKind.SECRETARIAT, None, None
    )
    rilo = await services.directory.create_organization(
        system, "RILO WE", OrganizationKind.RILO, None, Region.EUROPE
    )
    users = {}
    for username, org, role in (
        ("bench.admin", secretariat, Role.ADMIN),
        ("bench.analyst", rilo, Role.ANALYST),
        ("bench.officer", orgs[0], Role.OFFICER),
    ):
        users[username] = await services.directory.create_user(
            system, NewUser(username, username, org.id, role, PASSWORD)
        )
    admin = await _login(client, "bench.admin")
    group_ids = []
    for n in range(GROUPS):
        resp = await client.post(
            f"{API}/groups", json={"code": f"BENCH-{n:02d}", "name": "Bench"}, headers=admin
        )
        group_id = (await resp.json())["id"]
        resp = await client.patch(
            f"{API}/groups/{group_id}", json={"status": "active"}, headers=admin
        )
        assert resp.status == 200, await resp.text()
        group_ids.append(group_id)
    for n in range(READ_BY_ANALYST):
        resp = await client.post(
            f"{API}/groups/{group_ids[n]}/members",
            json={"user_id": str(users["bench.analyst"].id), "role": "member"},
            headers=admin,
        )
        assert resp.status == 201, await resp.text()
    resp = await client.post(
        f"{API}/groups/{group_ids[0]}/members",
        json={"user_id": str(users["bench.officer"].id), "role": "member"},
        headers=admin,
    )
    assert resp.status == 201, await resp.text()
    officer = await _login(client, "bench.officer")
    key = Ed25519PrivateKey.generate()
    raw = raw_public_key(key.public_key())
    resp = await client.post(
        f"{API}/keys", json={"public_key": b64url_encode(raw)}, headers=officer
    )
    assert resp.status == 201, await resp.text()
    return World(
        admin=admin,
        analyst=await _login(client, "bench.analyst"),
        officer=officer,
        officer_id=str(users["bench.officer"].id),
        key=key,
        kid=jwk_thumbprint(raw),
        group_ids=group_ids,
        orgs=orgs,
    )


def _identifiers(rng: random.Random, reports: int) -> list[tuple[str, str]]:
    """A report's ten (kind, value) pairs, drawn from pools sized on the number of reports."""
    pairs = {("vessel", f"IMO{rng.randrange(max(1, reports // 50)):07d}")}
    while len(pairs) < 3:
        pairs.add(("document", f"BL{rng.randrange(reports):09d}"))
    while len(pairs) < 8:
        pairs.add(("container", f"BNCU{rng.randrange(reports * 5 // 2):07d}"))
    while len(pairs) < PER_REPORT:
        pairs.add(("party", f"consignee {rng.randrange(max(1, reports // 10))}"))
    return sorted(pairs)


def _batch(
    rng: random.Random, world: World, sender_id: uuid.UUID, first_seq: dict[str, int], reports: int
) -> tuple[list[dict[str, Any]], list[SeizureRows]]:
    messages: list[dict[str, Any]] = []
    seizures: list[SeizureRows] = []
    now = datetime.now(UTC)
    for _ in range(BATCH):
        group_id = world.group_ids[rng.randrange(GROUPS)]
        first_seq[group_id] += 1
        seq = first_seq[group_id]
        message_id = uuid.uuid4()
        org = world.orgs[rng.randrange(len(world.orgs))]
        day = START + timedelta(days=rng.randrange(63))
        hc = "TLP:RED" if rng.random() < 0.10 else rng.choice(["TLP:GREEN", "TLP:AMBER"])
        hidden = rng.random() < 0.02
        gid = uuid.UUID(group_id)
        messages.append(
            {
                "id": message_id,
                "group_id": gid,
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
        report = {
            "message_id": message_id,
            "group_id": gid,
            "occurred_on": day,
            "hc": hc,
            "hidden": hidden,
            "country": org.country,
            "region": org.region.value,
            "location": None,
            "transport_mode": "sea",
            "origin": "CN",
            "transit": [],
            "destination": org.country,
            "infringement": "counterfeit",
            "detection": "risk_profiling",
            "concealment": "mis_declaration",
            "seq": seq,
            "sender_organization_id": org.id,
            "reported_at": now,
            "week_start": week_start(day),
        }
        identifiers = [
            {"message_id": message_id, "group_id": gid, "kind": k, "value": v, "label": v}
            for k, v in _identifiers(rng, reports)
        ]
        seizures.append(SeizureRows(report, [], [], identifiers))
    return messages, seizures


def _insert(
    connection: Connection, messages: list[dict[str, Any]], seizures: list[SeizureRows]
) -> None:
    connection.execute(insert(MessageRow), messages)
    insert_seizure_tables(connection, seizures)


async def _load(client: TestClient[Any, Any], world: World, identifiers: int) -> list[str]:
    """Insert the reports; returns the ids of the visible ones the analyst may read."""
    db = client.app[DATABASE]
    rng = random.Random(20201206)
    reports = max(BATCH, identifiers // PER_REPORT // BATCH * BATCH)
    seqs = dict.fromkeys(world.group_ids, 0)
    sender_id = uuid.UUID(world.officer_id)
    readable: list[str] = []
    analyst_groups = {uuid.UUID(g) for g in world.group_ids[:READ_BY_ANALYST]}
    # Straight into the tables on a connection of the bench's own: the server's units of work
    # store verified posts only, and these rows carry a placeholder instead of a JWS.
    engine = create_async_engine(db.url)
    try:
        for _ in range(reports // BATCH):
            messages, seizures = _batch(rng, world, sender_id, seqs, reports)
            async with engine.begin() as connection:
                await connection.run_sync(_insert, messages, seizures)
            readable += [
                str(m["id"])
                for m in messages
                if m["group_id"] in analyst_groups and not m["hidden"]
            ]
        async with engine.begin() as connection:
            for group_id, seq in seqs.items():
                await connection.execute(
                    update(GroupRow).where(GroupRow.id == uuid.UUID(group_id)).values(last_seq=seq)
                )
    finally:
        await engine.dispose()
    engine = create_async_engine(db.url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        analyze = "VACUUM ANALYZE" if db.dialect == "postgresql" else "ANALYZE"
        await connection.execute(text(analyze))
    await engine.dispose()
    return readable


def _ms(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000


async def _related(
    client: TestClient[Any, Any], auth: dict[str, str], message_ids: list[str]
) -> tuple[float, float, float]:
    """Median and p95 ms of `related`, and the mean number of related reports answered."""
    times, found = [], 0
    for message_id in message_ids:
        started = time.perf_counter()
        resp = await client.get(f"{API}/messages/{message_id}/related", headers=auth)
        answer = await resp.json()
        times.append(time.perf_counter() - started)
        assert resp.status == 200, answer
        found += len(answer["related"])
    return *_ms(times), found / len(message_ids)


def _container(serial: int) -> str:
    head = f"BNCU{serial:06d}"
    return f"{head}{iso6346_check_digit(head)}"


def _imo(serial: int) -> str:
    digits = f"{serial:06d}"
    check = sum(int(d) * w for d, w in zip(digits, range(7, 1, -1), strict=True)) % 10
    return f"IMO {digits}{check}"


def _body(rng: random.Random, with_identifiers: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "occurred_on": "2020-05-20",
        "country": "FR",
        "transport_mode": "sea",
        "route": {"origin": "CN", "destination": "FR"},
        "items": [{"category": "masks", "quantity": 12000, "unit": "units"}],
        "infringement": "counterfeit",
        "detection": "risk_profiling",
        "concealment": "mis_declaration",
    }
    if with_identifiers:  # 1 + 4 + 10 + 5 = 20 identifiers
        body["conveyance"] = {
            "mode": "vessel",
            "vessel_name": "Bench Star",
            "imo": _imo(rng.randrange(10**6)),
        }
        body["documents"] = [
            {"type": "bl", "number": f"BL-{rng.randrange(10**9):09d}"} for _ in range(4)
        ]
        body["containers"] = sorted({_container(rng.randrange(10**6)) for _ in range(10)})
        body["parties"] = [
            {"role": "consignee", "name": f"Consignee {rng.randrange(10**5)} GmbH", "country": "DE"}
            for _ in range(5)
        ]
    return body


async def _posts(
    client: TestClient[Any, Any], world: World, rng: random.Random, n: int, with_ids: bool
) -> tuple[float, float]:
    """Posts per second of `n` pre-signed reports from CLIENTS concurrent clients, and the
    CPU milliseconds per post of this process (server and client; its database threads too):
    less at the mercy of other work on a shared machine than the rate."""
    group_id = world.group_ids[0]
    envelopes = [
        sign_compact(
            {
                "v": 1,
                "typ": "seizure",
                "cid": str(uuid.uuid4()),
                "sub": world.officer_id,
                "iat": int(time.time()),
                "grp": group_id,
                "hc": "TLP:AMBER",
                "body": _body(rng, with_ids),
            },
            world.key,
            world.kid,
        )
        for _ in range(n)
    ]
    queue = iter(envelopes)

    async def worker() -> None:
        for jws in queue:
            resp = await client.post(
                f"{API}/groups/{group_id}/messages", json={"jws": jws}, headers=world.officer
            )
            assert resp.status == 201, await resp.text()

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(CLIENTS)))
    return n / (time.perf_counter() - started), (time.process_time() - cpu) * 1000 / n


def _index_switched_off() -> contextlib.AbstractContextManager[object]:
    """The writer stores no identifiers while this lasts (the server runs in this process):
    the same reports are then verified, validated and stored without their correlation rows,
    which isolates what indexing them costs from what a larger report costs to check."""
    return mock.patch("cencomm.domain.analytics.identifiers_of", lambda _parts: ())


async def bench(identifiers: int, posts: int, database: str | None) -> None:
    async with scratch_server(database) as client:
        world = await _seed(client)
        started = time.perf_counter()
        readable = await _load(client, world, identifiers)
        load = time.perf_counter() - started
        # Access tokens live minutes; loading may take longer.
        world.admin = await _login(client, "bench.admin")
        world.analyst = await _login(client, "bench.analyst")
        world.officer = await _login(client, "bench.officer")
        sample = random.Random(7).sample(readable, LOOKUPS)
        await _related(client, world.analyst, sample[:20])  # warm the caches
        analyst = await _related(client, world.analyst, sample)
        admin = await _related(client, world.admin, sample)
        rng = random.Random(11)
        plain: list[tuple[float, float]] = []
        identified: list[tuple[float, float]] = []
        unindexed: list[tuple[float, float]] = []
        for _ in range(ROUNDS):
            plain.append(await _posts(client, world, rng, posts, False))
            identified.append(await _posts(client, world, rng, posts, True))
            with _index_switched_off():
                unindexed.append(await _posts(client, world, rng, posts, True))
    dialect = "PostgreSQL" if database else "SQLite"
    loaded = len(readable) and identifiers // PER_REPORT // BATCH * BATCH * PER_REPORT
    print(
        f"\n{loaded:,} identifiers in {loaded // PER_REPORT:,} reports over {GROUPS} "
        f"operations, {dialect}; loaded in {load:.1f} s ({platform.machine()}, "
        f"Python {platform.python_version()})"
    )
    print("| request | median | p95 | related reports (mean) |\n|---|---|---|---|")
    for name, (median, p95, mean) in (
        (f"related, analyst ({READ_BY_ANALYST} of {GROUPS} operations)", analyst),
        ("related, admin (every operation)", admin),
    ):
        print(f"| {name} | {median:.1f} ms | {p95:.1f} ms | {mean:.1f} |")
    rate_plain = statistics.median(r for r, _ in plain)
    rate_ids = statistics.median(r for r, _ in identified)
    cpu_plain = statistics.median(c for _, c in plain)
    cpu_ids = statistics.median(c for _, c in identified)
    print(
        f"posts ({CLIENTS} clients, {posts} per round, median of {ROUNDS} rounds): "
        f"no identifiers {rate_plain:,.0f}/s, 20 identifiers {rate_ids:,.0f}/s "
        f"({(rate_plain / rate_ids - 1) * 100:+.1f} % time per post); CPU per post "
        f"{cpu_plain:.2f} ms and {cpu_ids:.2f} ms ({(cpu_ids / cpu_plain - 1) * 100:+.1f} %); "
        "rounds: "
        + ", ".join(f"{a[0]:,.0f}/{b[0]:,.0f}" for a, b in zip(plain, identified, strict=True))
    )
    rate_off = statistics.median(r for r, _ in unindexed)
    cpu_off = statistics.median(c for _, c in unindexed)
    print(
        "what the correlation index costs a post (the same 20-identifier reports with the "
        f"index switched off): {rate_off:,.0f}/s against {rate_ids:,.0f}/s "
        f"({(rate_off / rate_ids - 1) * 100:+.1f} % time per post); CPU per post "
        f"{cpu_off:.2f} ms and {cpu_ids:.2f} ms ({(cpu_ids / cpu_off - 1) * 100:+.1f} %)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--identifiers", type=int, default=1_000_000)
    parser.add_argument("--posts", type=int, default=400, help="posts per round and kind")
    parser.add_argument("--database", help="an empty scratch PostgreSQL database URL")
    args = parser.parse_args()
    asyncio.run(bench(args.identifiers, args.posts, args.database))


if __name__ == "__main__":
    main()
