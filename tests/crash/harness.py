"""The crash-test driver shared by `tests/crash` (bounded) and `bench/crash.py` (long form).

Real `cencomm serve` processes (one on SQLite; two on PostgreSQL, separate processes on two
ports behind one database and one Redis bus, so one can be killed while the other keeps
writing) take a mixed load from several client processes (tests/crash/client.py) that journal
every acknowledged write. The driver SIGKILLs the servers at seeded moments, each once the
clients have had a seeded number of writes acknowledged since the last restart (so writes are
in flight), stops the clients (SIGSTOP) until the next round, restarts the servers, and checks
(tests/crash/checks.py). A full check (servers down:
`cencomm attachments sweep --grace 0`, no orphan file left, `cencomm audit verify`; then every
uploaded blob downloaded and hashed) runs every `full_every` kills and after the last.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from cencomm.client.audit import TreeHeadWatch
from cencomm.crypto.blobcrypt import storage_name
from cencomm.crypto.keys import b64url_encode
from cencomm.storage.keyring import load_or_create_name_key
from tests.crash.checks import check_all, listed, read_journals, snapshot, snapshot_engine
from tests.processes import ADMIN_PASSWORD, Api, cluster_env, free_port, run_cencomm, serve

ROOT = Path(__file__).resolve().parents[2]
WAIT = 120.0  # seconds any one step may take before the run fails (a hang, not a timing)


class CrashCheckFailed(AssertionError):
    """A check failed: the message names the seed, the kill and the exact items."""


@dataclass
class CrashRun:
    """One crash run's parameters. `database_url` is a scratch database of its own."""

    database_url: str
    workdir: Path
    kills: int
    seed: int
    redis_url: str = ""
    servers: int = 1
    officers: int = 3
    full_every: int = 10
    # Long form on PostgreSQL: the private cluster to SIGKILL too, every `postgres_every` kills.
    postgres: PrivatePostgres | None = None
    postgres_every: int = 0
    log: Any = None  # a callable for progress lines (the bench prints them)


@dataclass
class Figures:
    kills: int = 0
    postgres_kills: int = 0
    full_checks: int = 0
    acknowledged: Counter[str] = field(default_factory=Counter)
    blobs_downloaded: int = 0
    orphans_swept: int = 0
    seconds: float = 0.0


class _JsonApi:
    """The `request_json` TreeHeadWatch needs, over one server port."""

    def __init__(self, http: aiohttp.ClientSession, port: int, token: str) -> None:
        self.http, self.port, self.token = http, port, token

    async def request_json(
        self, method: str, path: str, *, params: Mapping[str, str | int] | None = None
    ) -> Any:
        url = f"http://127.0.0.1:{self.port}/api/v1{path}"
        headers = {"Authorization": f"Bearer {self.token}"}
        query = {k: str(v) for k, v in (params or {}).items()}
        async with self.http.request(method, url, params=query, headers=headers) as resp:
            assert resp.status == 200, (path, resp.status, await resp.text())
            return await resp.json()


class Driver:
    def __init__(self, run: CrashRun, http: aiohttp.ClientSession) -> None:
        self.run = run
        self.http = http
        self.rng = random.Random(run.seed)
        self.figures = Figures()
        self.env = cluster_env(
            run.workdir,
            run.database_url,
            run.redis_url,
            CENCOMM_ADMIN_PASSWORD=ADMIN_PASSWORD,
            CENCOMM_ATTACHMENTS_ORPHAN_SWEEP_INTERVAL="0",  # swept by the CLI, servers down
            # A login killed after its attempt was counted stays counted as a failure (the
            # throttle fails closed), so hundreds of kills would lock the clients out (429).
            CENCOMM_AUTH_MAX_FAILURES_PER_ACCOUNT="1000000",
            CENCOMM_AUTH_MAX_FAILURES_PER_ADDRESS="1000000",
        )
        self.env["PYTHONPATH"] = str(ROOT)
        self.data_dir = Path(self.env["CENCOMM_DATA_DIR"])
        self.ports = [free_port() for _ in range(run.servers)]
        self.procs: list[asyncio.subprocess.Process | None] = [None] * run.servers
        self.clients: list[asyncio.subprocess.Process] = []
        self.journals: list[Path] = []
        self.watch = TreeHeadWatch()
        self.kill_number = 0
        self.downloaded: set[tuple[str, str]] = set()
        self.engine: AsyncEngine = snapshot_engine(run.database_url)
        self.reader_token = ""

    def fail(self, problems: list[str]) -> None:
        lines = "\n  ".join(problems)
        raise CrashCheckFailed(
            f"crash test failed: seed {self.run.seed}, after kill {self.kill_number} of "
            f"{self.run.kills}:\n  {lines}\n(replay: the same seed and kill count)"
        )

    def say(self, line: str) -> None:
        if self.run.log is not None:
            self.run.log(line)

    # -- processes --------------------------------------------------------------------------

    async def start(self, *indexes: int) -> None:
        """Start servers `indexes` together; only the very first start migrates the schema."""
        self.say(f"starting servers {indexes}")
        first = self.procs == [None] * len(self.procs) and not self.clients
        args = () if first else ("--no-migrate",)
        started = await asyncio.wait_for(
            asyncio.gather(*(serve(self.env, self.ports[i], *args) for i in indexes)), WAIT
        )
        for index, proc in zip(indexes, started, strict=True):
            self.procs[index] = proc

    async def kill(self, indexes: list[int]) -> None:
        for index in indexes:
            proc = self.procs[index]
            if proc is not None and proc.returncode is None:
                proc.send_signal(signal.SIGKILL)
        for index in indexes:
            proc = self.procs[index]
            if proc is not None:
                await asyncio.wait_for(proc.wait(), WAIT)
            self.procs[index] = None

    async def cli(self, *args: str) -> str:
        self.say(f"cencomm {' '.join(args)}")
        code, out, err = await run_cencomm(self.env, *args)
        if code != 0:
            self.fail([f"`cencomm {' '.join(args)}` exited {code}: {err.strip() or out.strip()}"])
        return out

    # -- the cast ---------------------------------------------------------------------------

    async def setup(self) -> None:
        await self.start(0)
        await self.cli("create-admin", "--username", "admin")
        await self.start(*range(1, self.run.servers))
        api = Api(self.http, self.ports[0])
        login = await api.call("POST", "/auth/login", username="admin", password=ADMIN_PASSWORD)
        admin = login["access_token"]
        org = await api.call(
            "POST", "/organizations", admin, name="Customs FR", kind="administration", country="FR"
        )
        groups = []
        for code in ("CRASH-A", "CRASH-B", "ROSTER"):
            group = await api.call("POST", "/groups", admin, code=code, name=f"Operation {code}")
            await api.call("PATCH", f"/groups/{group['id']}", admin, status="active")
            groups.append(str(group["id"]))
        specs: list[dict[str, Any]] = []
        roster_users = []
        for index in range(self.run.officers + 3):
            name = f"officer{index}"
            user = await api.call(
                "POST", "/users", admin, username=name, display_name=name,
                organization_id=org["id"], role="officer", password=ADMIN_PASSWORD,
            )  # fmt: skip
            if index >= self.run.officers:  # roster users: joined and removed by the admin
                roster_users.append(str(user["id"]))
                continue
            for gid in groups[:2]:
                await api.call(
                    "POST", f"/groups/{gid}/members", admin, user_id=user["id"], role="member"
                )
            token = (await api.call("POST", "/auth/login", username=name, password=ADMIN_PASSWORD))[
                "access_token"
            ]
            if index == 0:
                self.reader_token = token  # the driver downloads blobs as officer0
            key = Ed25519PrivateKey.generate()
            public = key.public_key().public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw
            )
            await api.call("POST", "/keys", token, public_key=b64url_encode(public))
            raw = key.private_bytes(
                serialization.Encoding.Raw,
                serialization.PrivateFormat.Raw,
                serialization.NoEncryption(),
            )
            specs.append(
                {"role": "officer", "username": name, "user_id": str(user["id"]),
                 "private_key": b64url_encode(raw), "groups": groups[:2], "country": "FR"}
            )  # fmt: skip
        admin_id = (await api.call("GET", "/me", admin))["id"]
        specs.append(
            {"role": "admin", "username": "admin", "user_id": str(admin_id), "groups": [],
             "roster": {"group": groups[2], "users": roster_users}}
        )  # fmt: skip
        for index, spec in enumerate(specs):
            journal = self.run.workdir / f"client-{index}.jsonl"
            spec.update(
                index=index, seed=self.run.seed, ports=self.ports, journal=str(journal),
                password=ADMIN_PASSWORD,
            )  # fmt: skip
            path = self.run.workdir / f"client-{index}.json"
            path.write_text(json.dumps(spec))
            self.journals.append(journal)
            with (self.run.workdir / f"client-{index}.err").open("wb") as err:
                self.clients.append(
                    await asyncio.create_subprocess_exec(
                        sys.executable,
                        "-m",
                        "tests.crash.client",
                        str(path),
                        env=self.env,
                        cwd=ROOT,
                        stdout=asyncio.subprocess.DEVNULL,
                        stderr=err,
                    )
                )
        await self.watch.check(_JsonApi(self.http, self.ports[0], self.reader_token))

    # -- the loop ---------------------------------------------------------------------------

    def acknowledged(self) -> int:
        return sum(path.read_bytes().count(b"\n") for path in self.journals if path.exists())

    async def until_acknowledged(self, count: int) -> None:
        deadline = time.monotonic() + WAIT
        while self.acknowledged() < count:
            for proc in self.clients:
                if proc.returncode is not None:
                    self.fail([f"a load client exited ({proc.returncode}); see client-*.err"])
            if time.monotonic() > deadline:
                self.fail([f"no progress: {self.acknowledged()} of {count} writes acknowledged"])
            await asyncio.sleep(0.01)

    def signal_clients(self, signum: signal.Signals) -> None:
        for proc in self.clients:
            if proc.returncode is None:
                proc.send_signal(signum)

    async def login_reader(self) -> None:
        """A fresh access token for the driver's reads (tokens expire during a long run)."""
        api = Api(self.http, self._api().port)
        login = await api.call("POST", "/auth/login", username="officer0", password=ADMIN_PASSWORD)
        self.reader_token = str(login["access_token"])

    async def crash_once(self) -> None:
        self.kill_number += 1
        self.signal_clients(signal.SIGCONT)
        await self.login_reader()
        full = self.kill_number % self.run.full_every == 0 or self.kill_number == self.run.kills
        # The clients write without pause: wait for a seeded number of acknowledgements since
        # the restart, then kill while the next writes are in flight.
        await self.until_acknowledged(self.acknowledged() + self.rng.randint(1, 6))
        self.say("acknowledged")
        await self.watch.check(self._api())  # the last head seen before the crash
        pg = self.run.postgres
        kill_pg = pg is not None and self.rng.randrange(max(self.run.postgres_every, 1)) == 0
        victims = list(range(self.run.servers))
        if not (full or kill_pg) and self.run.servers > 1 and self.rng.random() < 0.4:
            victims = [self.rng.randrange(self.run.servers)]  # one dies, the other goes on
        await self.kill(victims)
        # The clients rest from here to the next round (their requests in flight fail and are
        # retried then): the restart and the checks get the machine's cores to themselves.
        self.signal_clients(signal.SIGSTOP)
        if kill_pg and pg is not None:
            # With the servers: a server that outlives its database's restart answers from
            # dead pooled connections, which is the fault-injection tests' subject.
            await pg.kill_and_restart()
            await self.engine.dispose()  # the driver's own pooled connections died with it
            self.figures.postgres_kills += 1
        if full:
            await self.offline_checks()
        await self.start(*(i for i in range(self.run.servers) if self.procs[i] is None))
        self.figures.kills += 1
        await self.online_checks(download_all=full)

    def _api(self) -> _JsonApi:
        live = next(i for i, p in enumerate(self.procs) if p is not None)
        return _JsonApi(self.http, self.ports[live], self.reader_token)

    async def offline_checks(self) -> None:
        """Servers down: sweep, then no orphan file may remain; the audit log verifies."""
        out = await self.cli("attachments", "sweep", "--grace", "0")
        self.figures.orphans_swept += int(out.split()[1])
        name_key = load_or_create_name_key(self.data_dir)
        async with self.engine.connect() as conn:
            hashes = list(await conn.scalars(text("SELECT sha256 FROM blob")))
        wanted = {storage_name(name_key, bytes.fromhex(h)) for h in hashes}
        root = self.data_dir / "blobs"
        files = {p.name for p in root.glob("??/*") if p.is_file()}
        temps = [p.name for p in (root / "tmp").glob("*")] if (root / "tmp").is_dir() else []
        problems = []
        if extra := sorted(files - wanted):
            problems.append(listed("orphan blob files left after the sweep", extra))
        if gone := sorted(wanted - files):
            problems.append(listed("blob rows whose file is missing", gone))
        if temps:
            problems.append(listed("temporary files left after the sweep", temps))
        if problems:
            self.fail(problems)
        await self.cli("audit", "verify")
        self.figures.full_checks += 1

    async def online_checks(self, download_all: bool) -> None:
        try:
            await self.watch.check(self._api())
        except Exception as exc:  # AuditLogError and friends: name it with the seed
            self.fail([f"the tree head after the restart: {exc}"])
        self.say("tree head checked")
        journal = read_journals(self.journals)  # before the snapshot: all of it is committed
        snap = await snapshot(self.engine)
        problems = check_all(journal, snap)
        if problems:
            self.fail(problems)
        self.figures.acknowledged = Counter(
            line["kind"] for line in journal if line["kind"] != "member_intent"
        )
        uploads = [(line["group"], line["sha256"]) for line in journal if line["kind"] == "upload"]
        todo = [u for u in uploads if u not in self.downloaded]
        if not download_all:
            todo = todo[-2:]  # a sample each time; every one at the full checks
        bad = []
        for group, sha256 in todo:
            url = f"http://127.0.0.1:{self._api().port}/api/v1/groups/{group}/attachments/{sha256}"
            headers = {"Authorization": f"Bearer {self.reader_token}"}
            async with self.http.get(url, headers=headers) as resp:
                body = await resp.read()
                if resp.status != 200 or hashlib.sha256(body).hexdigest() != sha256:
                    bad.append(f"{sha256} in {group}: {resp.status}, {len(body)} bytes")
                    continue
            self.downloaded.add((group, sha256))
            self.figures.blobs_downloaded += 1
        if bad:
            self.fail([listed("uploaded blobs that do not download to their hash", bad)])

    async def stop(self) -> None:
        for proc in self.clients:
            if proc.returncode is None:
                proc.send_signal(signal.SIGKILL)
            await proc.wait()
        for index, server in enumerate(self.procs):
            if server is not None and server.returncode is None:
                server.send_signal(signal.SIGINT)
                await asyncio.wait_for(server.wait(), WAIT)
            self.procs[index] = None
        await self.engine.dispose()


async def crash_test(run: CrashRun) -> Figures:
    """Set up, crash `run.kills` times with the checks after each restart, stop; the figures.

    Raises:
        CrashCheckFailed: a check failed (seed, kill number and items in the message).
    """
    started = time.monotonic()
    async with aiohttp.ClientSession() as http:
        driver = Driver(run, http)
        try:
            await driver.setup()
            for _ in range(run.kills):
                await driver.crash_once()
                driver.say(
                    f"kill {driver.kill_number}/{run.kills}: "
                    f"{sum(driver.figures.acknowledged.values())} acknowledged writes checked"
                )
        finally:
            await driver.stop()
    driver.figures.seconds = time.monotonic() - started
    return driver.figures


class PrivatePostgres:
    """A PostgreSQL cluster of the crash test's own (initdb in a temporary directory, run as the
    `postgres` system user), so it can be SIGKILLed and restarted without touching anyone's."""

    BIN = Path("/usr/lib/postgresql/15/bin")

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.data = directory / "pgdata"
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self) -> list[str]:
        if os.geteuid() != 0:
            return []
        return ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups"]

    def init(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        subprocess.run(
            [*self._as_postgres(), str(self.BIN / "initdb"), "-D", str(self.data), "-U",
             "postgres", "--auth=trust", "-E", "UTF8"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip

    def _spawn(self) -> subprocess.Popen[bytes]:
        with (self.dir / "postgres.log").open("ab") as log:
            return subprocess.Popen(
                [*self._as_postgres(), str(self.BIN / "postgres"), "-D", str(self.data),
                 "-p", str(self.port), "-k", str(self.dir), "-c", "listen_addresses=127.0.0.1",
                 "-c", "max_connections=200"],
                stdout=log, stderr=log,
            )  # fmt: skip

    async def start(self) -> None:
        deadline = time.monotonic() + WAIT
        while True:
            self.proc = await asyncio.to_thread(self._spawn)
            if await self._ready():
                return
            # The killed postmaster's backends may still hold its shared memory: try again.
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            self.proc.wait()
            if time.monotonic() > deadline:
                raise RuntimeError(f"private PostgreSQL did not start; see {self.dir}/postgres.log")
            await asyncio.sleep(0.2)

    async def _ready(self) -> bool:
        engine = create_async_engine(self.url)
        try:
            for _ in range(300):
                if self.proc is None or self.proc.poll() is not None:
                    return False
                try:
                    async with engine.connect() as conn:
                        await conn.execute(text("SELECT 1"))
                    return True
                except Exception:
                    await asyncio.sleep(0.05)
            return False
        finally:
            await engine.dispose()

    async def kill_and_restart(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        await self.start()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # fast shutdown
            self.proc.wait(timeout=60)


@contextlib.asynccontextmanager
async def private_postgres(directory: Path) -> AsyncIterator[PrivatePostgres]:
    cluster = PrivatePostgres(directory)
    await asyncio.to_thread(cluster.init)
    await cluster.start()
    try:
        yield cluster
    finally:
        await asyncio.to_thread(cluster.stop)
