"""`python -m bench.faults --rounds N`: issue 18's fault injection, round after round.

Every round injects each fault kind once, in a seeded order, into one server (an in-process
aiohttp application on a real 127.0.0.1 socket, on a scratch SQLite file or `--database`
PostgreSQL) and checks each outcome as tests/faults/ does: 503 `unavailable` with Retry-After,
nothing half-written, the same request again stored once; live delivery through a private
`redis-server` that is killed and started again while a socket follows the group; an e-mail
through an SMTP relay that is down, then refuses (451, 550), then accepts. Prints a markdown
table of faults injected and outcomes by kind; exits 1 when any check failed.

    .venv/bin/python -m bench.faults --rounds 50
    .venv/bin/python -m bench.faults --rounds 50 --database postgresql+asyncpg://postgres@127.0.0.1:5432/scratch

The PostgreSQL database must be a scratch one: its `public` schema is dropped and recreated first.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import sys
import tempfile
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from aiohttp import ClientWebSocketResponse
from aiohttp.test_utils import TestClient, TestServer

from bench.harness import reset_database
from cencomm.app import create_app
from cencomm.appkeys import DATABASE, SERVICES
from cencomm.audit_command import audit_verify
from cencomm.domain.users import Role
from cencomm.exits import CommandError
from cencomm.settings import BusSettings, Settings
from cencomm.storage.migrate import upgrade
from cencomm.web.live_poll import BUS_POLLER, BusPoller
from tests.clock import FakeClock
from tests.conftest import make_test_settings
from tests.factories import add_member, login, make_group, make_member, post_message, sign
from tests.faults.disk import SmallDisk
from tests.faults.redis_server import PrivateRedis
from tests.faults.scenarios import (
    post_fails_then_is_stored_once,
    post_meets_a_held_lock,
    upload_fails_then_is_stored_once,
)
from tests.faults.seam import DISK_FULL, DROPPED, FAILOVER, IO_ERROR, LOCKED, FaultPlan
from tests.faults.smtp_faults import SMTP_DOWN, SwitchableRelay
from tests.web.live_helpers import alert_payload, connect, live_settings, next_of

WAIT = 30.0  # an upper bound for one frame or one recovery, never a measured time
POSTS_WHILE_REDIS_IS_DOWN = 3


@dataclass
class Tally:
    """Faults injected by kind, and each scenario's outcome."""

    injected: Counter[str] = field(default_factory=Counter)
    passed: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    events_expected: int = 0
    events_received: int = 0
    polled_notices: int = 0
    mails_sent: int = 0


class Server:
    """One application on a real socket, with its group, officer and fault plan; and a second
    on the same database and Redis, as another process would be, whose posts reach the first
    one's sockets only through Redis or, while Redis is down, the database poll."""

    def __init__(self, settings: Settings, clock: FakeClock | None = None) -> None:
        self.settings = settings
        self.client: TestClient[Any, Any] = TestClient(
            TestServer(create_app(settings, clock=clock), host="127.0.0.1")
        )
        # Only the first works the e-mail outbox and the sweeps (the counts stay its own).
        quiet = replace(
            settings,
            notifications=replace(settings.notifications, poll_interval=0),
            attachments=replace(settings.attachments, orphan_sweep_interval=0),
        )
        self.other: TestClient[Any, Any] = TestClient(
            TestServer(create_app(quiet, clock=clock), host="127.0.0.1")
        )

    async def start(self) -> None:
        await self.client.start_server()
        await self.other.start_server()
        self.faults = FaultPlan(self.client.app[DATABASE])
        self.admin = await make_member(self.client, Role.ADMIN)
        self.officer = await make_member(self.client, Role.OFFICER, with_key=True)
        self.reader = await make_member(self.client, Role.OFFICER)
        self.group = await make_group(self.client, self.admin)
        for member in (self.officer, self.reader):
            await add_member(self.client, self.admin, self.group, member)

    async def close(self) -> None:
        self.faults.close()
        await self.other.close()
        await self.client.close()


class FaultBench:
    def __init__(self, database_url: str, work: Path, seed: int) -> None:
        self.database_url = database_url
        self.postgres = database_url.startswith("postgresql")
        self.work = work
        self.random = random.Random(seed)
        self.tally = Tally()
        self.redis = PrivateRedis()
        self.relay = SwitchableRelay(work)
        self.uploads = 0

    # -- setup -------------------------------------------------------------------------------

    async def start(self, rounds: int) -> None:
        if self.postgres:
            await reset_database(self.database_url)  # as `python -m bench` does
        await upgrade(self.database_url)
        await self.redis.start()
        data_dir = self.work / "data"
        base = live_settings(make_test_settings(self.database_url, data_dir))
        settings = replace(
            base,
            database=replace(
                base.database, sqlite_busy_timeout_ms=200, postgres_lock_timeout_ms=200
            ),
            bus=BusSettings(
                url=self.redis.url, channel=f"bench-faults:{uuid.uuid4().hex}", poll_interval=0.05
            ),
        )
        # Room for the two stored uploads of each round (about 45 KiB each on disk), filled to
        # the brim before each full-disk fault.
        self.disk = SmallDisk(data_dir, 2 * 1024 * 1024 + rounds * 256 * 1024)
        self.server = Server(settings)
        await self.server.start()
        self.poller: BusPoller = self.server.client.app[BUS_POLLER]
        # E-mail on a server of its own: its clock jumps hours ahead to cover the backoff.
        self.clock = FakeClock()
        mail_settings = replace(
            # The same database and keys: one audit log, which `audit verify` checks at the end.
            live_settings(make_test_settings(self.database_url, data_dir)),
            smtp=self.relay.settings(),
        )
        self.mail = Server(mail_settings, clock=self.clock)
        await self.mail.start()
        self.away = await make_member(self.mail.client, Role.OFFICER)
        await add_member(self.mail.client, self.mail.admin, self.mail.group, self.away)
        resp = await self.mail.client.patch(
            f"/api/v1/users/{self.away.id}",
            json={"email": "away@customs.example.org"},
            headers=self.mail.admin.auth,
        )
        assert resp.status == 200, await resp.text()
        self.moderator = await make_member(self.mail.client, Role.MODERATOR, with_key=True)

    async def close(self) -> None:
        """Whatever `start` got to, stopped; the mount goes last."""
        for server in (getattr(self, "server", None), getattr(self, "mail", None)):
            if server is not None:
                try:
                    await server.close()
                except Exception:
                    traceback.print_exc()  # the others still close
        await self.redis.kill()
        self.relay.stop()
        if hasattr(self, "disk"):
            self.disk.close()

    # -- the scenarios ------------------------------------------------------------------------

    def scenarios(self) -> dict[str, Callable[[], Awaitable[None]]]:
        post_faults = [DROPPED] if self.postgres else [DISK_FULL, IO_ERROR, LOCKED]
        scenarios: dict[str, Callable[[], Awaitable[None]]] = {
            f"post: {kind}": self._post_fault(kind) for kind in post_faults
        }
        scenarios["post: lock timeout"] = self.lock_timeout
        if self.postgres:
            scenarios["post: failover"] = self.failover
        scenarios["upload: database fault"] = self.upload_database_fault
        scenarios["upload: full disk"] = self.upload_full_disk
        scenarios["live: Redis down and back"] = self.redis_down
        scenarios["e-mail: relay down, 451, 550"] = self.relay_refusing
        return scenarios

    def _post_fault(self, kind: str) -> Callable[[], Awaitable[None]]:
        async def scenario() -> None:
            s = self.server
            s.faults.arm(kind)
            await post_fails_then_is_stored_once(
                s.client, s.officer, s.group, self.database_url, kind
            )
            self.tally.injected[kind] += 1

        return scenario

    async def lock_timeout(self) -> None:
        s = self.server
        await post_meets_a_held_lock(s.client, s.officer, s.group, self.database_url)
        self.tally.injected["lock held past the timeout"] += 1

    async def failover(self) -> None:
        s = self.server
        await s.client.get("/ready")  # the pool in use
        s.faults.arm(FAILOVER)
        await post_fails_then_is_stored_once(
            s.client, s.officer, s.group, self.database_url, FAILOVER
        )
        self.tally.injected["failover (every connection ended mid-write)"] += 1

    def _csv(self) -> bytes:
        self.uploads += 1
        row = f"2020-05-20,FR,masks,{self.uploads}\n".encode()
        return b"date,country,item,quantity\n" + row * (40 * 1024 // len(row))

    async def upload_database_fault(self) -> None:
        s = self.server
        kind = DROPPED if self.postgres else IO_ERROR
        s.faults.arm(kind)
        await upload_fails_then_is_stored_once(
            s.client, s.officer, s.group["id"], self._csv(), s.settings.data.dir, self.database_url
        )
        self.tally.injected[f"{kind} (upload)"] += 1

    async def upload_full_disk(self) -> None:
        s = self.server
        self.disk.fill()
        try:
            await upload_fails_then_is_stored_once(
                s.client,
                s.officer,
                s.group["id"],
                self._csv(),
                s.settings.data.dir,
                self.database_url,
                before_retry=self.disk.free,
            )
        finally:
            self.disk.free()
        self.tally.injected["ENOSPC (tmpfs)" if self.disk.mounted else "ENOSPC (seam)"] += 1

    async def redis_down(self) -> None:
        s = self.server
        ws = await connect(s.client, s.reader)
        try:
            await self._redis_down(ws)
        finally:
            await ws.close()

    async def _redis_down(self, ws: ClientWebSocketResponse) -> None:
        s = self.server
        first = (await post_message(s.client, s.officer, s.group))["seq"]
        seqs = [await _next_seq(ws)]
        notices = self.poller.notices
        await self.redis.kill()
        self.tally.injected["redis-server killed"] += 1
        for _ in range(POSTS_WHILE_REDIS_IS_DOWN):
            await post_message(s.other, s.officer, s.group)
            seqs.append(await _next_seq(ws))
        assert self.poller.degraded, "the poller did not see Redis go"
        self.tally.polled_notices += self.poller.notices - notices
        await self.redis.start()
        async with asyncio.timeout(WAIT):
            await self.poller.following_bus.wait()
        last = (await post_message(s.client, s.officer, s.group))["seq"]
        seqs.append(await _next_seq(ws))
        expected = list(range(first, last + 1))
        self.tally.events_expected += len(expected)
        self.tally.events_received += len(seqs)
        assert seqs == expected, f"received {seqs}, expected {expected}"

    async def _relay_refusing(self) -> None:
        m = self.mail
        notifications = m.client.app[SERVICES].alerts.notifications
        backoff = m.settings.notifications.retry_backoff
        # A fresh token: the last one may have expired meanwhile.
        self.moderator.access_token = (await login(m.client, self.moderator.user.username))[
            "access_token"
        ]
        received = len(self.relay.handler.messages)
        self.relay.stop()
        await self._raise_alert()
        self.clock.advance(61)
        assert await notifications.deliver_once(self.clock.now()) == 0
        self.tally.injected[SMTP_DOWN] += 1
        self.relay.start()
        self.relay.handler.answers = ["451 4.3.0 try again later", "550 5.7.1 relaying refused"]
        for attempt in (1, 2):
            self.clock.advance(backoff * 2**attempt)
            assert await notifications.deliver_once(self.clock.now()) == 0
        self.clock.advance(backoff * 2**3)
        assert await notifications.deliver_once(self.clock.now()) == 1
        self.clock.advance(3600)
        assert await notifications.deliver_once(self.clock.now()) == 0
        assert len(self.relay.handler.messages) == received + 1, "not delivered exactly once"
        self.tally.mails_sent += 1

    async def relay_refusing(self) -> None:
        started = self.clock.now()
        try:
            await self._relay_refusing()
        finally:
            # Back to the wall clock, which access tokens are checked against.
            self.clock.advance(-(self.clock.now() - started).total_seconds())

    async def _raise_alert(self) -> None:
        """A flash alert to `away`'s organisation. The mail server shares the database with the
        one whose failovers end every connection to it: like any client, it sends the same
        signed alert again after a 503."""
        to = {"organizations": [str(self.away.organization.id)]}
        jws = sign(self.moderator, alert_payload(self.moderator, to))
        for _ in range(3):
            resp = await self.mail.client.post(
                "/api/v1/alerts", json={"jws": jws}, headers=self.moderator.auth
            )
            if resp.status != 503:
                break
        assert resp.status == 201, await resp.text()

    # -- running ------------------------------------------------------------------------------

    async def run(self, rounds: int) -> None:
        scenarios = self.scenarios()
        for number in range(1, rounds + 1):
            names = list(scenarios)
            self.random.shuffle(names)
            for name in names:
                try:
                    await scenarios[name]()
                except Exception as exc:
                    self.tally.failed[name] += 1
                    self.tally.notes.append(f"round {number}, {name}: {type(exc).__name__}: {exc}")
                else:
                    self.tally.passed[name] += 1
                left = self.server.faults.disarm()  # each scenario starts with nothing armed
                if left:
                    self.tally.notes.append(f"round {number}, {name}: {left} fault(s) not reached")
            print(f"round {number}/{rounds}: {sum(self.tally.failed.values())} failed so far")
        self.tally.injected.update(self.relay.handler.refused)


async def _next_seq(ws: ClientWebSocketResponse) -> int:
    seq: int = (await next_of(ws, "message", WAIT))["seq"]
    return seq


def report(tally: Tally, database: str, rounds: int, seconds: float) -> str:
    lines = [
        f"Database: {database}; {rounds} rounds in {seconds:.0f} s.",
        "",
        "| fault injected | count |",
        "|---|---|",
        *(f"| {kind} | {count:,} |" for kind, count in sorted(tally.injected.items())),
        f"| **total** | **{sum(tally.injected.values()):,}** |",
        "",
        "| scenario | passed | failed |",
        "|---|---|---|",
    ]
    for name in sorted(set(tally.passed) | set(tally.failed)):
        lines.append(f"| {name} | {tally.passed[name]:,} | {tally.failed[name]:,} |")
    lines += [
        "",
        f"Live events while Redis was killed and restarted: {tally.events_received:,} received of "
        f"{tally.events_expected:,} expected, in order, none twice; "
        f"{tally.polled_notices:,} notices came from database polls.",
        f"E-mails through the refusing relay: {tally.mails_sent:,} delivered, each exactly once.",
    ]
    lines += [f"- {note}" for note in tally.notes[:20]]
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> int:
    # The faults are on purpose: their warnings would drown the rounds' lines.
    logging.getLogger("cencomm").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="cencomm-faults-") as directory:
        work = Path(directory)
        url = args.database or f"sqlite+aiosqlite:///{work / 'cencomm.db'}"
        bench = FaultBench(url, work, args.seed)
        started = time.monotonic()
        try:
            await bench.start(args.rounds)
            await bench.run(args.rounds)
        finally:
            await bench.close()
        try:  # after every rollback, the audit log is whole: `cencomm audit verify`
            await audit_verify(bench.server.settings)
            bench.tally.passed["audit verify at the end"] += 1
        except CommandError as exc:
            bench.tally.failed["audit verify at the end"] += 1
            bench.tally.notes.append(f"audit verify: {exc}")
        kind = "PostgreSQL" if bench.postgres else "SQLite"
        print(report(bench.tally, kind, args.rounds, time.monotonic() - started))
        return 1 if bench.tally.failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__)
    parser.add_argument("--rounds", type=int, default=20, help="rounds of every fault kind")
    parser.add_argument("--seed", type=int, default=18, help="seed of each round's order")
    parser.add_argument("--database", help="a scratch postgresql+asyncpg:// URL (default: SQLite)")
    return asyncio.run(main_async(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
