"""Shared fixtures: settings on a real database (SQLite, or PostgreSQL in CI), a live server."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient, AiohttpServer
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from cencomm.app import create_app
from cencomm.settings import (
    AuthSettings,
    DatabaseSettings,
    DataSettings,
    HttpSettings,
    LoggingSettings,
    Settings,
)
from cencomm.storage.migrate import upgrade
from tests.contract import ResponseContract

PG_URL = os.environ.get("CENCOMM_TEST_DATABASE_URL", "")

if os.environ.get("CI") and os.environ.get("CENCOMM_REQUIRE_POSTGRES") and not PG_URL:
    raise RuntimeError("CENCOMM_TEST_DATABASE_URL must be set for this CI run")


def make_test_settings(database_url: str, data_dir: Path) -> Settings:
    return Settings(
        database=DatabaseSettings(url=database_url),
        data=DataSettings(dir=data_dir),
        # Cheap argon2 parameters keep the suite fast; the bench uses the real ones.
        auth=AuthSettings(argon2_time_cost=1, argon2_memory_kib=1024),
        logging=LoggingSettings(access_log=False),
        # Tests of concurrent writes send many requests of one user at once; the per-user cap
        # is tested with its own settings (tests/web/test_limits.py).
        http=HttpSettings(max_requests_per_user=1000),
    )


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test instead of migrating every time."""
    path = tmp_path_factory.mktemp("template") / "cencomm.db"
    asyncio.run(upgrade(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_migrated() -> bool:
    if PG_URL:
        asyncio.run(upgrade(PG_URL))
    return bool(PG_URL)


# Every table but Alembic's (and so every table a migration made) emptied, every sequence
# restarted, the audit sequence row back: a new migrated database.
EMPTYING_SCRIPT = """
    BEGIN;
    -- A test's server may leave a connection behind (say, a socket handler cancelled
    -- mid-query): end them so the deletes never wait on their locks.
    SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid();
    SET LOCAL session_replication_role = replica;
    DO $$
    DECLARE r record;
    BEGIN
        FOR r IN SELECT schemaname, tablename FROM pg_tables
                WHERE schemaname = current_schema() AND tablename <> 'alembic_version' LOOP
            EXECUTE format('DELETE FROM %I.%I', r.schemaname, r.tablename);
        END LOOP;
        FOR r IN SELECT schemaname, sequencename FROM pg_sequences
                WHERE schemaname = current_schema() LOOP
            EXECUTE format('ALTER SEQUENCE %I.%I RESTART', r.schemaname, r.sequencename);
        END LOOP;
    END $$;
    INSERT INTO audit_sequence (id, next_index) VALUES (1, 0);
    COMMIT;
"""


async def _empty_postgres(url: str) -> None:
    """Every table emptied and every sequence restarted, as a new migrated database has them.

    DELETE, not TRUNCATE: a test leaves a few rows, and TRUNCATE of every table gives each table
    and index new files (and their fsyncs), several times the cost, paid after every test. The
    deletes run as replication (`session_replication_role`, this transaction only): the audit
    log's append-only triggers and the foreign-key checks stay off (so any order will do), as
    they are for TRUNCATE.
    One script over a plain asyncpg connection: one round trip.
    """
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(EMPTYING_SCRIPT)
    finally:
        await conn.close()


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path, postgres_migrated: bool) -> Iterator[str]:
    if PG_URL:
        yield PG_URL
        asyncio.run(_empty_postgres(PG_URL))
    else:
        path = tmp_path / "cencomm.db"
        shutil.copyfile(sqlite_template, path)
        yield f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_test_settings(database_url, tmp_path / "data")


@pytest.fixture(autouse=True)
def response_contract() -> Iterator[ResponseContract]:
    """Fails the test if any answer of an app it started broke the route table's declared
    response model or the problem shape (`tests/contract.py`)."""
    contract = ResponseContract()
    yield contract
    if contract.failures:
        pytest.fail(contract.report(), pytrace=False)


@pytest.fixture
def aiohttp_client(
    aiohttp_client: AiohttpClient, response_contract: ResponseContract
) -> AiohttpClient:
    """pytest-aiohttp's factory, watching every app it is given against the contract."""

    async def make(param: Any, *args: Any, **kwargs: Any) -> TestClient[Any, Any]:
        if isinstance(param, web.Application):
            response_contract.watch(param)
        made: TestClient[Any, Any] = await aiohttp_client(param, *args, **kwargs)
        return made

    return cast(AiohttpClient, make)


@pytest.fixture
def aiohttp_server(
    aiohttp_server: AiohttpServer, response_contract: ResponseContract
) -> AiohttpServer:
    """pytest-aiohttp's server factory, watching every app against the contract."""

    def make(app: web.Application, **kwargs: Any) -> Any:
        response_contract.watch(app)
        return aiohttp_server(app, **kwargs)

    return cast(AiohttpServer, make)


@pytest.fixture
def app(settings: Settings) -> web.Application:
    return create_app(settings)


@pytest.fixture
async def client(
    aiohttp_client: AiohttpClient, app: web.Application
) -> AsyncIterator[TestClient[Any, Any]]:
    """A real server on a 127.0.0.1 socket, and a client for it."""
    test_client = await aiohttp_client(app)
    yield test_client
    # Stop the server (and its background tasks) now, before the database fixture empties the
    # database: a tree head signed after that, with this test's key, would outlive the test.
    await test_client.close()


def with_settings(settings: Settings, **sections: Any) -> Settings:
    """`settings` with whole sections replaced (`export=ExportSettings(max_bytes=10)`)."""
    return replace(settings, **sections)


@pytest.fixture
async def fresh_url(tmp_path: Path) -> AsyncIterator[str]:
    """An empty database of the kind under test (a scratch PostgreSQL database in CI)."""
    if not PG_URL:
        yield f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
        return
    name = f"cencomm_mig_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()
