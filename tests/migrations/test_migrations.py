"""Migrations: upgrade → downgrade → upgrade on a fresh database, and no drift from the models."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import create_async_engine

from cencomm.storage.migrate import downgrade, head_revision, include_object, upgrade
from cencomm.storage.tables import Base

PG_URL = os.environ.get("CENCOMM_TEST_DATABASE_URL", "")

T = TypeVar("T")


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "include_object": include_object}
    )
    return list(compare_metadata(context, Base.metadata))


async def _inspect(url: str, fn: Callable[[Connection], T]) -> T:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(fn)
    finally:
        await engine.dispose()


async def test_upgrade_downgrade_upgrade_round_trip(fresh_url: str) -> None:
    await upgrade(fresh_url)
    expected = {t.name for t in Base.metadata.sorted_tables}
    assert expected <= await _inspect(fresh_url, _tables)
    await downgrade(fresh_url, "base")
    assert await _inspect(fresh_url, _tables) <= {"alembic_version"}
    await upgrade(fresh_url)
    assert expected <= await _inspect(fresh_url, _tables)


async def test_models_and_migrations_agree(fresh_url: str) -> None:
    await upgrade(fresh_url)
    assert await _inspect(fresh_url, _diff) == []


async def test_upgrade_is_idempotent(fresh_url: str) -> None:
    await upgrade(fresh_url)
    await upgrade(fresh_url)
    engine = create_async_engine(fresh_url)
    try:
        async with engine.connect() as conn:
            version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    finally:
        await engine.dispose()
    assert version == head_revision()
