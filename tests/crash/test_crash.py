"""Crash tests, bounded form: 20 SIGKILLs of real server processes under a mixed load, on
SQLite (one server) and on PostgreSQL (two servers on one database and Redis bus), each restart
checked (tests/crash/harness.py says what). The long form is `python -m bench.crash`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.crash.harness import CrashRun, crash_test
from tests.processes import REDIS_URL, require_redis, scratch_postgres

KILLS = 20
SEED = 18

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/fd").is_dir(), reason="needs Linux processes and signals"
)


async def test_sqlite_survives_kills_under_mixed_load(tmp_path: Path) -> None:
    figures = await crash_test(
        CrashRun(f"sqlite+aiosqlite:///{tmp_path / 'cencomm.db'}", tmp_path, KILLS, SEED)
    )
    assert figures.kills == KILLS
    assert figures.acknowledged["post"] and figures.acknowledged["upload"]


async def test_postgres_survives_kills_of_two_servers_under_mixed_load(tmp_path: Path) -> None:
    redis_url = await require_redis(REDIS_URL)
    async with scratch_postgres("cencomm_crash") as database_url:
        figures = await crash_test(
            CrashRun(database_url, tmp_path, KILLS, SEED, redis_url=redis_url, servers=2)
        )
    assert figures.kills == KILLS
    assert figures.acknowledged["post"] and figures.acknowledged["upload"]
