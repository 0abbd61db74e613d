"""Where a backup test's servers keep their state: a data directory and a database of their own
(SQLite in the data directory, or a scratch PostgreSQL database when the suite runs on it)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

from tests.processes import PG_URL, scratch_postgres


def place_env(tmp_path: Path, name: str, database_url: str, **extra: str) -> dict[str, str]:
    """The environment of `cencomm` commands on data directory `tmp_path/name` and the database
    (empty `database_url`: the default SQLite file inside the data directory)."""
    config = tmp_path / "none.toml"
    config.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CENCOMM_")}
    env.update(
        CENCOMM_CONFIG=str(config),
        CENCOMM_DATA_DIR=str(tmp_path / name),
        CENCOMM_AUTH_ARGON2_TIME_COST="1",
        CENCOMM_AUTH_ARGON2_MEMORY_KIB="1024",
        CENCOMM_ALERTS_SWEEP_INTERVAL="0",
        CENCOMM_LOGGING_ACCESS_LOG="false",
    )
    if database_url:
        env["CENCOMM_DATABASE_URL"] = database_url
    env.update(extra)
    return env


@contextlib.asynccontextmanager
async def fresh_database(prefix: str) -> AsyncIterator[str]:
    """An empty database of the suite's kind: a scratch PostgreSQL database (dropped after) when
    the suite runs on PostgreSQL, else "" (SQLite in the data directory)."""
    if not PG_URL:
        yield ""
        return
    async with scratch_postgres(prefix) as url:
        yield url
