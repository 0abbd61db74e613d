"""The checkpoint file outside the database catches what the database alone cannot.

A rogue administrator who deletes the newest audit entries together with the tree heads over them
leaves a log that is consistent in itself; so does one who then lets the server carry on. Every
tree head the server signs is also appended to `<data dir>/audit-checkpoints.jsonl`, and
`cencomm audit verify` (run here as an operator would, in a subprocess) compares the two. The
server side is wired exactly as `cencomm serve` wires it (`build_services`), without its
background tasks, so the test decides when heads are signed.
"""

from __future__ import annotations

import json
import stat
from collections.abc import AsyncIterator

import pytest

from cencomm.domain.clock import SystemClock
from cencomm.services.audit_log import AuditLogService
from cencomm.services.container import Services, build_services
from cencomm.settings import Settings
from cencomm.storage.db import Database
from cencomm.storage.keyring import load_or_create_server_keys
from tests.audit_tampering import cut_tail
from tests.test_audit_verify import Log, tamper

CHECKPOINTS = "audit-checkpoints.jsonl"


def _wire(settings: Settings, db: Database) -> Services:
    return build_services(
        settings, db, SystemClock(), load_or_create_server_keys(settings.data.dir)
    )


@pytest.fixture
async def log(settings: Settings) -> AsyncIterator[Log]:
    """A real audit log written by the server's own services."""
    settings.data.dir.mkdir(parents=True, exist_ok=True)
    the_log = Log(settings)
    services = _wire(settings, the_log.db)
    the_log.trail, the_log.service = services.audit, services.audit_log
    yield the_log
    await the_log.db.dispose()


async def _rebuild(log: Log) -> None:
    keys = load_or_create_server_keys(log.settings.data.dir)
    service = AuditLogService(log.db, SystemClock(), log.trail, keys.audit, "cencomm")
    await service.extend_tree()


def _one_line_failure(result: tuple[int, str, str]) -> str:
    code, out, err = result
    assert code == 1, (out, err)
    assert err.endswith("\n") and err.count("\n") == 1, err
    return err


async def test_a_tail_cut_with_its_tree_heads_is_caught_by_the_checkpoint_file(log: Log) -> None:
    await log.grow(20, 10, 5)
    code, out, err = await log.verify()
    assert code == 0, err
    assert "matches the 3 tree heads recorded in" in out
    await tamper(log.settings.database_url, cut_tail(keep=25, heads_up_to=20))
    await _rebuild(log)
    err = _one_line_failure(await log.verify())
    assert "entry 25 is missing" in err
    assert f"tree head 30 recorded in {log.settings.data.dir / CHECKPOINTS}" in err


async def test_a_log_cut_and_grown_again_is_caught_by_the_checkpoint_file(log: Log) -> None:
    """The server carries on after the cut: the log is longer again, but another one."""
    await log.grow(20, 10, 5)
    await tamper(log.settings.database_url, cut_tail(keep=25, heads_up_to=20))
    await _rebuild(log)
    await log.grow(15)  # a new head at 40, over a different history
    err = _one_line_failure(await log.verify())
    assert "tree head 30 recorded in" in err
    assert "does not match the log" in err


async def test_the_checkpoint_file_is_private_append_only_and_shared(
    log: Log, settings: Settings
) -> None:
    """Two server processes on one database and one data directory both record; duplicates,
    a torn line and lines appended while verifying are all fine."""
    other_db = Database(settings.database_url, settings.database)
    other = _wire(settings, other_db)
    try:
        await log.grow(3)
        assert await other.audit_log.sign_tree_head() is None  # nothing new: records head 3
        await log.append(4)
        assert await other.audit_log.sign_tree_head() is not None  # signs and records 7
        await log.grow(2)  # the first process signs 9
    finally:
        await other_db.dispose()
    path = settings.data.dir / CHECKPOINTS
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    sizes = [json.loads(line)["tree_size"] for line in path.read_text().splitlines()]
    assert sizes == [3, 3, 7, 9]
    with path.open("ab") as handle:
        handle.write(b'{"tree_size": 12, "root_ha')  # a crash in the middle of an append
    await log.grow(1)  # appended after the torn piece: that line is unreadable
    code, out, err = await log.verify()
    assert code == 0, err
    assert f"matches the 4 tree heads recorded in {path} (1 unreadable lines skipped)" in out


async def test_a_forged_line_in_the_checkpoint_file_is_named(log: Log, settings: Settings) -> None:
    await log.grow(5)
    path = settings.data.dir / CHECKPOINTS
    line = json.loads(path.read_text())
    line["checkpoint"] = line["checkpoint"].replace("\n5\n", "\n9\n")
    line["tree_size"] = 9
    with path.open("a") as handle:
        handle.write(json.dumps(line) + "\n")
    err = _one_line_failure(await log.verify())
    assert f"tree head 9 recorded in {path} (line 2): signature does not verify" in err
