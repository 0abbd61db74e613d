"""Audit log benchmark: audited actions per second (with the tree-head signer running), and the
time `cencomm audit verify` needs for a log of 1,000,000 entries.

    .venv/bin/python -m bench.audit_bench [--actions 3000] [--concurrency 8] [--entries 1000000]

Both parts use scratch SQLite files (default settings: WAL, synchronous=FULL).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import platform
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import create_async_engine

from cencomm.domain.audit import AuditEntry, AuditRecord
from cencomm.domain.clock import SystemClock
from cencomm.domain.ids import UserId
from cencomm.services.audit import AuditTrail
from cencomm.services.audit_log import AuditLogService
from cencomm.services.audit_verify import verify_log
from cencomm.services.background import BackgroundJobs
from cencomm.settings import DatabaseSettings
from cencomm.storage.db import Database
from cencomm.storage.keyring import load_or_create_server_keys
from cencomm.storage.migrate import upgrade
from cencomm.storage.tables import AuditEntryRow, AuditSequence


async def audited_actions(tmp: Path, actions: int, concurrency: int) -> float:
    """Audited actions per second (printed, with the cost of one signed tree head)."""
    url = f"sqlite+aiosqlite:///{tmp / 'actions.db'}"
    await upgrade(url)
    db = Database(url, DatabaseSettings(url=url))
    keys = load_or_create_server_keys(tmp / "data")
    trail = AuditTrail(SystemClock())
    service = AuditLogService(db, SystemClock(), trail, keys.audit, "bench")
    signer = BackgroundJobs()
    signer.add(service.job())
    signer.start()
    queue = iter(range(actions))
    actor = UserId(uuid.uuid4())

    async def worker() -> None:
        for i in queue:
            record = AuditRecord(
                action="message.post",
                actor_id=actor,
                target_type="message",
                target_id=str(uuid.uuid4()),
                ip="192.0.2.1",
                details={"seq": i, "hc": "TLP:AMBER"},
            )
            # One unit of work = one audited change.
            await db.write(functools.partial(trail.append, record=record))

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    await signer.stop()

    await trail_tail(service)
    sign_started = time.perf_counter()
    signed = 0
    for _ in range(20):
        await db.write(lambda unit: trail.append(unit, AuditRecord(action="bench.sign")))
        signed += (await service.sign_tree_head()) is not None
    per_head = (time.perf_counter() - sign_started) / 20
    await db.dispose()
    print(
        f"audited actions: {actions / elapsed:,.0f}/s ({actions} transactions, concurrency "
        f"{concurrency}, tree-head signer running)"
    )
    print(
        f"append one entry + extend + sign a tree head: {per_head * 1000:.1f} ms ({signed} heads)"
    )
    return actions / elapsed


async def trail_tail(service: AuditLogService) -> None:
    await service.sign_tree_head()


async def verify_million(tmp: Path, entries: int) -> None:
    url = f"sqlite+aiosqlite:///{tmp / 'million.db'}"
    await upgrade(url)
    engine = create_async_engine(url)
    started = time.perf_counter()
    base = datetime(2026, 11, 1, tzinfo=UTC)
    actors = [uuid.uuid4() for _ in range(50)]
    async with engine.begin() as conn:
        for first in range(0, entries, 50_000):
            rows = []
            for i in range(first, min(entries, first + 50_000)):
                entry = AuditEntry(
                    index=i,
                    at=base + timedelta(milliseconds=i),
                    action="message.post",
                    actor_id=actors[i % 50],
                    organization_id=None,
                    target_type="message",
                    target_id=str(i),
                    group_id=None,
                    ip="192.0.2.1",
                    details={"seq": i, "hc": "TLP:GREEN"},
                )
                rows.append(
                    {
                        "index": i,
                        "at": entry.at,
                        "action": entry.action,
                        "actor_id": entry.actor_id,
                        "organization_id": None,
                        "target_type": entry.target_type,
                        "target_id": entry.target_id,
                        "group_id": None,
                        "ip": entry.ip,
                        "details": entry.details,
                        "leaf_hash": entry.leaf_hash(),
                    }
                )
            await conn.execute(insert(AuditEntryRow), rows)
        await conn.execute(update(AuditSequence).values(next_index=entries))
    await engine.dispose()
    generated = time.perf_counter() - started

    db = Database(url, DatabaseSettings(url=url))
    keys = load_or_create_server_keys(tmp / "data")
    service = AuditLogService(db, SystemClock(), AuditTrail(SystemClock()), keys.audit, "bench")
    started = time.perf_counter()
    head = await service.sign_tree_head()
    extended = time.perf_counter() - started
    assert head is not None and head.tree_size == entries

    started = time.perf_counter()
    result = await verify_log(db, keys.audit_keys)
    verified = time.perf_counter() - started
    await db.dispose()
    assert result.ok, result.problem
    print(f"generate {entries:,} entries: {generated:.1f} s")
    print(f"hash them into the tree, store subtrees, sign: {extended:.1f} s")
    print(
        f"audit verify of {entries:,} entries: {verified:.1f} s "
        f"({entries / verified:,.0f} entries/s)"
    )


async def main(actions: int, concurrency: int, entries: int, as_json: bool = False) -> None:
    print(f"{platform.machine()} {platform.python_version()} {datetime.now(UTC):%Y-%m-%d}")
    with tempfile.TemporaryDirectory() as tmp:
        rate = await audited_actions(Path(tmp), actions, concurrency)
        if entries:
            await verify_million(Path(tmp), entries)
    if as_json:  # the last line, for `python -m bench`
        print(json.dumps({"actions_per_second": rate}))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--actions", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--json", action="store_true", help="end with the rate as a JSON line")
    args = parser.parse_args()
    asyncio.run(main(args.actions, args.concurrency, args.entries, args.json))
