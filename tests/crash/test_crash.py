"""Crash tests, bounded form: 20 SIGKILLs of real server processes under a mixed load, each
restart checked (tests/crash/harness.py says what). On the suite's database: SQLite (one server),
or with `CENCOMM_TEST_DATABASE_URL` PostgreSQL (two servers on a database of their own and one
Redis bus). The long form is `python -m bench.crash`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.crash.harness import CrashRun, Figures, crash_test
from tests.processes import PG_URL, REDIS_URL, require_redis, scratch_postgres

# The bounded form (the suite's ten-minute budget); `python -m bench.crash --kills 200` is the
# long one.
KILLS = 12
SEED = 18

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/fd").is_dir(), reason="needs Linux processes and signals"
)


async def _run(tmp_path: Path) -> Figures:
    if not PG_URL:
        url = f"sqlite+aiosqlite:///{tmp_path / 'cencomm.db'}"
        return await crash_test(CrashRun(url, tmp_path, KILLS, SEED))
    redis_url = await require_redis(REDIS_URL)
    async with scratch_postgres("cencomm_crash") as url:
        return await crash_test(
            CrashRun(url, tmp_path, KILLS, SEED, redis_url=redis_url, servers=2)
        )


async def test_acknowledged_writes_survive_kills_under_mixed_load(tmp_path: Path) -> None:
    figures = await _run(tmp_path)
    assert figures.kills == KILLS
    assert figures.full_checks == -(-KILLS // 10)  # every 10th kill and after the last
    for kind in ("post", "seizure", "upload", "member", "login"):
        assert figures.acknowledged[kind], f"no {kind} was acknowledged: the load did not run"
