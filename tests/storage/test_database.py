"""Database.write / read: units run to completion, commit or roll back whole, and say when."""

from __future__ import annotations

import asyncio
import functools
import threading
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import event

from cencomm.domain.ids import OrganizationId
from cencomm.domain.users import Organization, OrganizationKind
from cencomm.settings import Settings
from cencomm.storage.changes import Changed
from cencomm.storage.db import Database
from cencomm.storage.unit import Unit


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    database = Database(settings.database_url, settings.database)
    yield database
    await database.dispose()


def _organization(name: str) -> Organization:
    return Organization(
        id=OrganizationId(uuid.uuid4()),
        name=name,
        kind=OrganizationKind.ADMINISTRATION,
        country="FR",
        region=None,
        created_at=datetime.now(UTC),
    )


async def test_a_unit_commits_what_it_wrote_and_returns_its_result(db: Database) -> None:
    org = _organization("Douane française")

    def work(unit: Unit) -> str:
        unit.organizations.insert(org)
        return "done"

    assert await db.write(work) == "done"
    found = await db.read(lambda unit: unit.organizations.find(org.id))
    assert found is not None and found.name == "Douane française"


async def test_a_unit_that_raises_leaves_nothing_behind(db: Database) -> None:
    org = _organization("Rolled back")
    called: list[str] = []

    def work(unit: Unit) -> None:
        unit.organizations.insert(org)
        unit.after_commit(lambda: called.append("after commit"))
        raise RuntimeError("half-way")

    with pytest.raises(RuntimeError, match="half-way"):
        await db.write(work)
    assert await db.read(lambda unit: unit.organizations.find(org.id)) is None
    assert called == []  # no commit, no callback


async def test_after_commit_callbacks_run_on_the_event_loop_after_the_commit(
    db: Database,
) -> None:
    org = _organization("After commit")
    loop_thread = threading.get_ident()
    seen: list[int] = []

    def work(unit: Unit) -> None:
        unit.organizations.insert(org)
        unit.after_commit(lambda: seen.append(threading.get_ident()))
        assert seen == []  # not before the commit

    await db.write(work)
    assert seen == [loop_thread]


async def test_a_cancelled_caller_does_not_cut_its_unit_short(
    db: Database, settings: Settings
) -> None:
    org = _organization("Finished anyway")
    started, release = threading.Event(), threading.Event()

    def work(unit: Unit) -> None:
        unit.organizations.insert(org)
        started.set()
        # Hold the unit open until the caller has been cancelled (a thread-side wait: on
        # PostgreSQL run_blocking hands it to a thread so the loop can deliver the cancel).
        unit.run_blocking(lambda: release.wait(10))

    caller = asyncio.ensure_future(db.write(work))
    await asyncio.to_thread(started.wait, 10)
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    release.set()
    await db.dispose()  # waits for the unit still running
    reopened = Database(settings.database_url, settings.database)
    try:
        found = await reopened.read(lambda unit: unit.organizations.find(org.id))
    finally:
        await reopened.dispose()
    assert found is not None


async def test_blocking_calls_inside_a_unit_run_off_the_event_loop(db: Database) -> None:
    loop_thread = threading.get_ident()
    ran_in = await db.read(lambda unit: unit.run_blocking(threading.get_ident))
    assert ran_in != loop_thread


async def test_writes_that_change_what_posts_read_are_announced_after_commit(
    db: Database,
) -> None:
    """`Database.changes` tells caches (the post-context cache) what a committed unit changed,
    before its caller resumes; a unit that rolled back or changed nothing announces nothing."""
    heard: list[frozenset[Changed]] = []
    db.changes.subscribe(heard.append)
    await db.read(lambda unit: unit.organizations.find(uuid.uuid4()))
    assert heard == []
    with pytest.raises(RuntimeError):
        await db.write(lambda unit: _insert_then_fail(unit, _organization("Rolled back")))
    assert heard == []
    org = _organization("Announced")
    await db.write(lambda unit: unit.organizations.insert(org))
    assert heard == [frozenset({Changed.POSTING})]
    await db.write(lambda unit: unit.keys.revoke("no-such-kid", datetime.now(UTC)))
    assert len(heard) == 2
    await db.write(lambda unit: unit.organizations.find(org.id))
    assert len(heard) == 2  # a write unit that changed nothing cached


def _find_organization(unit: Unit, organization_id: OrganizationId) -> Organization | None:
    return unit.organizations.find(organization_id)


def _insert_then_fail(unit: Unit, organization: Organization) -> None:
    unit.organizations.insert(organization)
    raise RuntimeError("half-way")


def _backend_pid(unit: Unit) -> int:
    # Raw SQL: which server connection the unit ran on has no store.
    return int(unit._session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar_one())


async def _postgres_db(settings: Settings, pool_size: int) -> Database:
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("the connection pool is PostgreSQL's")
    return Database(settings.database_url, replace(settings.database, pool_size=pool_size))


async def test_a_burst_beyond_the_pool_reuses_its_connections(settings: Settings) -> None:
    db = await _postgres_db(settings, pool_size=3)
    try:
        pids: set[int] = set()
        for _ in range(2):
            # Four times the pool at once: the units queue for the 3 connections, and none is
            # opened for the burst and closed after it.
            pids.update(await asyncio.gather(*(db.read(_backend_pid) for _ in range(12))))
        assert len(pids) <= 3
    finally:
        await db.dispose()


async def test_a_read_on_a_dropped_connection_runs_again_on_a_fresh_one(
    settings: Settings,
) -> None:
    db = await _postgres_db(settings, pool_size=2)
    other = await _postgres_db(settings, pool_size=1)
    try:
        before = set(await asyncio.gather(*(db.read(_backend_pid) for _ in range(4))))
        killer = await other.read(_backend_pid)

        def terminate(unit: Unit) -> None:
            # As a server restart would: every other session of this database is ended.
            unit._session.connection().exec_driver_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )

        await other.write(terminate)
        after = set(await asyncio.gather(*(db.read(_backend_pid) for _ in range(4))))
        assert not after & before and killer not in after
    finally:
        await db.dispose()
        await other.dispose()


async def test_units_queued_behind_a_write_share_one_commit_and_fail_alone(
    db: Database,
) -> None:
    """SQLite: units queued while the writer thread is busy are written in one transaction, each
    in a savepoint of its own: the failing one leaves nothing behind and gets its error, the
    others are all committed by one commit, each with its own callbacks and change marks."""
    if db.dialect != "sqlite":
        pytest.skip("group commit of write units is the SQLite writer thread's")
    commits: list[str] = []
    event.listen(db.sync_engines[0], "commit", lambda _conn: commits.append("commit"))
    started, release = threading.Event(), threading.Event()
    orgs = [_organization(f"Batched {i}") for i in range(4)]
    called: list[str] = []
    heard: list[frozenset[Changed]] = []

    def hold(unit: Unit) -> None:
        unit.organizations.insert(_organization("Holding the writer"))
        started.set()
        release.wait(10)

    def insert(unit: Unit, org: Organization) -> str:
        unit.organizations.insert(org)
        unit.after_commit(lambda: called.append(org.name))
        return org.name

    first = asyncio.ensure_future(db.write(hold))
    await asyncio.to_thread(started.wait, 10)
    db.changes.subscribe(heard.append)

    def insert_or_fail(unit: Unit, index: int) -> str | None:
        if index == 2:
            _insert_then_fail(unit, orgs[index])
        return insert(unit, orgs[index])

    queued = [
        asyncio.ensure_future(db.write(functools.partial(insert_or_fail, index=i)))
        for i in range(4)
    ]
    await asyncio.sleep(0)  # every unit is queued behind the one holding the writer thread
    release.set()
    await first
    results = await asyncio.gather(*queued, return_exceptions=True)
    assert results[:2] == ["Batched 0", "Batched 1"] and results[3] == "Batched 3"
    assert isinstance(results[2], RuntimeError)
    assert commits == ["commit", "commit"]  # the holder's, then one for the three others
    assert called == ["Batched 0", "Batched 1", "Batched 3"]
    assert heard == [frozenset({Changed.POSTING})] * 4  # the holder and the three
    found = [
        await db.read(functools.partial(_find_organization, organization_id=o.id)) for o in orgs
    ]
    assert [f is not None for f in found] == [True, True, False, True]
