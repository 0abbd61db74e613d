"""schemathesis against our own /api/openapi.json, bounded (the long form: `python -m bench.fuzz`).

A real server process on a database of the kind under test, a user of every role. For each role:
positive and negative data (the fuzzing phase, an example per operation); then as the
administrator (who may call every operation) the coverage phase (every boundary of every
parameter) and the stateful create-then-use flows of the document's links. Deterministic:
schemathesis' deterministic generation, no example database. Any 5xx, any answer outside its
documented status, schema or media type, any invalid input taken or valid input refused (bar the
excuses of `bench/fuzz_hooks.py`) fails the test with schemathesis' own report.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bench.fuzz import Fuzzer, Run, fuzz_server
from tests.processes import PG_URL, scratch_postgres


@pytest.fixture
async def fuzzer(tmp_path: Path) -> AsyncIterator[Fuzzer]:
    if PG_URL:
        async with scratch_postgres("fuzz") as url, fuzz_server(tmp_path, url) as server:
            yield server
    else:
        async with fuzz_server(tmp_path, None) as server:
            yield server


def _verdict(run: Run) -> str:
    return f"{run.role} {run.mode}: {run.failures}\n{run.output[-6000:]}"


async def _check(run: Run) -> None:
    assert run.requests > 0, _verdict(run)
    assert run.server_errors == 0, _verdict(run)
    assert run.failures == [] and run.exit_code == 0, _verdict(run)


async def test_every_role_then_every_boundary_and_link(fuzzer: Fuzzer) -> None:
    """One server for all (each schemathesis run costs seconds of start-up alone). The
    administrator's runs go alone (they may disable or demote the users they find); the other
    roles' runs two at a time, since that start-up is CPU of their own (a 5xx during overlapping
    runs still shows in the server's count of at least one of them)."""
    await _check(await fuzzer.run("admin", "all", max_examples=1, phases="fuzzing"))
    gate = asyncio.Semaphore(2)

    async def fuzz_as(role: str) -> Run:
        async with gate:
            return await fuzzer.run(role, "all", max_examples=1, phases="fuzzing")

    roles = ("moderator", "analyst", "officer", "observer")
    for run in await asyncio.gather(*(fuzz_as(role) for role in roles)):
        await _check(run)
    await _check(await fuzzer.run("admin", "all", max_examples=2, phases="coverage,stateful"))
