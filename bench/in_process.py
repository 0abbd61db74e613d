"""An in-process server on a scratch database, for the benches that load rows straight into the
tables and time the HTTP API over a loopback socket (analytics, correlations)."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from cencomm.app import create_app
from cencomm.settings import AuthSettings, DatabaseSettings, DataSettings, LoggingSettings, Settings
from cencomm.storage.migrate import upgrade
from cencomm.storage.tables import Base


async def empty_postgres(url: str) -> None:
    """Every table of a scratch PostgreSQL database emptied, the audit sequence restarted."""
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        await connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        await connection.execute(text("INSERT INTO audit_sequence (id, next_index) VALUES (1, 0)"))
    await engine.dispose()


@asynccontextmanager
async def scratch_server(database: str | None) -> AsyncIterator[TestClient[Any, Any]]:
    """A migrated scratch database (a temporary SQLite file, or `database` emptied first) and
    the app serving it in this process, with cheap password hashing and no access log."""
    with tempfile.TemporaryDirectory() as tmp:
        url = database or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        await upgrade(url)
        if database:
            await empty_postgres(url)
        settings = Settings(
            database=DatabaseSettings(url=url),
            data=DataSettings(dir=Path(tmp) / "data"),
            auth=AuthSettings(argon2_time_cost=1, argon2_memory_kib=1024),
            logging=LoggingSettings(access_log=False),
        )
        async with TestClient(TestServer(create_app(settings))) as client:
            yield client
