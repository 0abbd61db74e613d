"""The cost of one unit of work in each execution model considered for `storage/db.py`.

The same small units (a read of three statements; a write of an update, an insert and a commit)
run N times, one after another and then 64 at a time, through:
- `async`: an `AsyncSession` over aiosqlite (the model the services used before): every
  statement is a hop to the driver's thread and back to the event loop;
- `thread`: a synchronous `Session` run to completion in a worker thread (the model chosen):
  one hop per unit;
- `cencomm`: the product's `Database.write` / `Database.read` (the `thread` model plus its task,
  lock and unit object).
SQLite file with the server's pragmas (`synchronous=FULL`, WAL). Prints µs per unit and the event
loop's CPU share (the GIL is shared: CPU the loop spends on database work is CPU requests lack).

    .venv/bin/python -m bench.unit_bench [--units 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import platform
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session

from cencomm.settings import load_settings
from cencomm.storage.db import Database, _configure_sqlite, _sync_sqlite_engine
from cencomm.storage.migrate import upgrade
from cencomm.storage.tables import GroupRow, OrganizationRow, UserRow
from cencomm.storage.unit import Unit

CONCURRENCY = 64


def _seed(url: str) -> tuple[uuid.UUID, uuid.UUID]:
    engine = _sync_sqlite_engine(url, load_settings(None, {}).database)
    org, group = uuid.uuid4(), uuid.uuid4()
    now = datetime.now(UTC)
    with Session(engine) as session, session.begin():
        session.execute(
            insert(OrganizationRow).values(
                id=org, name="Bench", kind="customs", country="FR", created_at=now
            )
        )
        session.execute(
            insert(GroupRow).values(
                id=group, code="BENCH", name="Bench", status="active", created_at=now
            )
        )
    engine.dispose()
    return org, group


def _read(session: Session, org: uuid.UUID, group: uuid.UUID) -> None:
    session.execute(select(GroupRow).where(GroupRow.id == group)).first()
    session.execute(select(OrganizationRow).where(OrganizationRow.id == org)).first()
    session.execute(select(UserRow.id).where(UserRow.organization_id == org).limit(5)).all()


def _write(session: Session, group: uuid.UUID) -> None:
    session.execute(update(GroupRow).where(GroupRow.id == group).values(last_seq=GroupRow.last_seq))
    session.execute(
        update(GroupRow).where(GroupRow.id == group).values(description=str(uuid.uuid4()))
    )


async def _async_read(session: AsyncSession, org: uuid.UUID, group: uuid.UUID) -> None:
    (await session.execute(select(GroupRow).where(GroupRow.id == group))).first()
    (await session.execute(select(OrganizationRow).where(OrganizationRow.id == org))).first()
    (await session.execute(select(UserRow.id).where(UserRow.organization_id == org).limit(5))).all()


async def _async_write(session: AsyncSession, group: uuid.UUID) -> None:
    await session.execute(
        update(GroupRow).where(GroupRow.id == group).values(last_seq=GroupRow.last_seq)
    )
    await session.execute(
        update(GroupRow).where(GroupRow.id == group).values(description=str(uuid.uuid4()))
    )


async def _timed(units: int, one: Callable[[], Awaitable[None]]) -> tuple[float, float, float]:
    """µs per unit in sequence, µs per unit 64 at a time, loop-thread CPU share (concurrent)."""
    start = time.perf_counter()
    for _ in range(units):
        await one()
    sequential = (time.perf_counter() - start) / units * 1e6
    queue = iter(range(units))

    async def worker() -> None:
        for _ in queue:
            await one()

    cpu, start = time.thread_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    wall = time.perf_counter() - start
    return sequential, wall / units * 1e6, (time.thread_time() - cpu) / wall


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--units", type=int, default=2000)
    args = parser.parse_args()
    settings = load_settings(None, {}).database
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        await upgrade(url)
        org, group = _seed(url)

        engine = create_async_engine(url)
        _configure_sqlite(engine.sync_engine, settings, immediate=True)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        lock = asyncio.Lock()

        async def async_read() -> None:
            async with sessions() as session, session.begin():
                await _async_read(session, org, group)

        async def async_write() -> None:
            async with lock, sessions() as session, session.begin():
                await _async_write(session, group)

        sync_engine = _sync_sqlite_engine(url, settings, pool_size=4, max_overflow=0)
        _configure_sqlite(sync_engine, settings, immediate=True)
        writer = concurrent.futures.ThreadPoolExecutor(1)
        readers = concurrent.futures.ThreadPoolExecutor(4)
        loop = asyncio.get_running_loop()

        def sync_read() -> None:
            with Session(sync_engine) as session, session.begin():
                _read(session, org, group)

        def sync_write() -> None:
            with Session(sync_engine) as session, session.begin():
                _write(session, group)

        async def thread_read() -> None:
            await loop.run_in_executor(readers, sync_read)

        async def thread_write() -> None:
            async with lock:
                await loop.run_in_executor(writer, sync_write)

        db = Database(url, settings)

        def unit_read(unit: Unit) -> None:
            _read(unit._session, org, group)

        def unit_write(unit: Unit) -> None:
            _write(unit._session, group)

        async def cencomm_read() -> None:
            await db.read(unit_read)

        async def cencomm_write() -> None:
            await db.write(unit_write)

        print(
            f"SQLite (synchronous={settings.sqlite_synchronous}), {args.units} units; "
            f"{platform.machine()}, {len(__import__('os').sched_getaffinity(0))} cores, "
            f"Python {platform.python_version()}"
        )
        print(f"{'model':<10}{'unit':<7}{'µs sequential':>15}{'µs at 64':>11}{'loop CPU':>10}")
        cases = (
            ("async", "read", async_read),
            ("thread", "read", thread_read),
            ("cencomm", "read", cencomm_read),
            ("async", "write", async_write),
            ("thread", "write", thread_write),
            ("cencomm", "write", cencomm_write),
        )
        for model, kind, one in cases:
            await one()  # warm up: connections, statement caches
            sequential, concurrent_us, loop_cpu = await _timed(args.units, one)
            print(f"{model:<10}{kind:<7}{sequential:>15.0f}{concurrent_us:>11.0f}{loop_cpu:>10.0%}")
        await db.dispose()
        await engine.dispose()
        sync_engine.dispose()
        writer.shutdown()
        readers.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
