"""`python -m bench`: every figure of issue 17, K runs each, each run on fresh server processes,
with the same-run baseline beside it. See bench/README.md for how to read the output.

The harness process is the driver: every server (cencomm, and the bare aiohttp baseline of
`bench/baseline.py`) is a subprocess of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import statistics
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.common import (
    REPO,
    Directory,
    ServerProcess,
    free_port,
    log_in,
    machine,
    migrate,
    percentile,
    raise_fd_limit,
    rss_kib,
    scratch_env,
    seed_directory,
    sign_envelope,
)

CLIENTS = (1, 8, 64)
MESSAGES_PATH = "/api/v1/groups/{group}/messages"
GROUPS = ("posts", "growth", "verify", "resume", "audit", "fanout")  # riskiest last


@dataclass(frozen=True, slots=True)
class Sizes:
    posts: int  # posts per client count
    stored: int  # messages stored before the growth and verify figures
    sockets: tuple[int, ...]
    fanout_posts: int
    resume: int
    audit_actions: int


FULL = Sizes(3000, 1_000_000, (1000, 10_000), 30, 10_000, 3000)
QUICK = Sizes(200, 20_000, (100, 500), 5, 1_000, 300)


@dataclass(frozen=True, slots=True)
class Spec:
    """One figure: how it is judged and which same-run baseline it is set beside."""

    key: str
    title: str
    unit: str
    target: float | None = None
    higher_is_better: bool = True
    baseline: str | None = None  # the key of the same-run baseline measurement
    full_only: bool = False  # the target is for the full sizes; --quick does not judge it

    def target_text(self, database: str) -> str:
        target = self.target_for(database)
        if target is None:
            return "—"
        return f"{'≥' if self.higher_is_better else '<'} {_fmt(target)} {self.unit}"

    def target_for(self, database: str) -> float | None:
        if self.key == "posts.64.rate" and database != "sqlite":
            return 1500.0  # "the same on PostgreSQL at least 1,500 per second"
        return self.target


@dataclass(slots=True)
class Result:
    spec: Spec
    values: list[float] = field(default_factory=list)
    baseline: list[float] = field(default_factory=list)

    def summary(self, database: str, quick: bool) -> dict[str, Any]:
        median = statistics.median(self.values)
        base = statistics.median(self.baseline) if self.baseline else None
        target = self.spec.target_for(database)
        if target is None:
            verdict = "—"
        elif quick and self.spec.full_only:
            verdict = "not judged (--quick)"
        else:
            good = median >= target if self.spec.higher_is_better else median < target
            verdict = "MET" if good else "NOT MET"
        return {
            "key": self.spec.key,
            "title": self.spec.title,
            "unit": self.spec.unit,
            "runs": self.values,
            "median": median,
            "min": min(self.values),
            "max": max(self.values),
            "target": self.spec.target_text(database),
            "verdict": verdict,
            "baseline_median": base,
            "ratio": (median / base) if base else None,
        }


def _fmt(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


# ---------------------------------------------------------------------------------------------
# Servers and databases


@dataclass(slots=True)
class Config:
    sizes: Sizes
    database: str | None
    quick: bool
    log: Callable[[str], None]
    seeded: dict[str, Any] = field(default_factory=dict)  # the stored-messages database, once

    @property
    def kind(self) -> str:
        return "sqlite" if not self.database else self.database.split(":", 1)[0].split("+")[0]


async def reset_database(url: str | None) -> None:
    """PostgreSQL: empty the scratch database (every run starts from nothing). SQLite runs get
    a new file each."""
    if not url:
        return
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()


@dataclass(slots=True)
class Prepared:
    env: dict[str, str]
    directory: Directory


async def prepare(cfg: Config, workdir: Path, officers: int, messages: int = 0) -> Prepared:
    env = scratch_env(workdir, cfg.database)
    await reset_database(cfg.database)
    await migrate(env)
    directory = await seed_directory(env, officers, messages, cfg.log)
    return Prepared(env, directory)


@asynccontextmanager
async def cencomm_server(env: dict[str, str]) -> Any:
    port = free_port()
    server = await ServerProcess.cencomm(env, port).start()
    try:
        yield server, f"http://127.0.0.1:{port}"
    finally:
        await server.stop()


@asynccontextmanager
async def baseline_server() -> Any:
    port = free_port()
    argv = [sys.executable, "-m", "bench.baseline", "--port", str(port)]
    server = await ServerProcess(argv).start()
    try:
        yield server, f"http://127.0.0.1:{port}"
    finally:
        await server.stop()


# ---------------------------------------------------------------------------------------------
# HTTP posts: the same driver against cencomm and against the no-op server


async def time_posts(
    senders: list[tuple[aiohttp.ClientSession, dict[str, str]]], path: str, bodies: list[list[str]]
) -> dict[str, float]:
    """Each sender (a keep-alive connection and its headers) posts its bodies one after another,
    all senders at once; rate over the whole run, latency percentiles over every post."""
    latencies: list[float] = []

    async def run(index: int) -> None:
        http, headers = senders[index]
        for jws in bodies[index]:
            started = time.perf_counter()
            async with http.post(path, json={"jws": jws}, headers=headers) as resp:
                assert resp.status == 201, await resp.text()
                await resp.read()
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(run(i) for i in range(len(senders))))
    elapsed = time.perf_counter() - started
    for http, _ in senders:
        await http.close()
    return {
        "rate": len(latencies) / elapsed,
        "p50": 1000 * statistics.median(latencies),
        "p99": 1000 * percentile(latencies, 0.99),
    }


async def drive_posts(
    base: str, group_id: str, usernames: list[str], clients: int, posts: int
) -> dict[str, float]:
    """`clients` officers, each with its own key and keep-alive connection, post pre-signed
    envelopes."""
    per_client = max(1, posts // clients)
    officers = await asyncio.gather(*(log_in(base, usernames[i]) for i in range(clients)))
    bodies = [
        [o.envelope(group_id, f"Seizure report {n} from officer {i}") for n in range(per_client)]
        for i, o in enumerate(officers)
    ]
    senders = [(o.http, o.headers) for o in officers]
    return await time_posts(senders, MESSAGES_PATH.format(group=group_id), bodies)


async def drive_noop(base: str, group_id: str, clients: int, posts: int) -> dict[str, float]:
    """The same driver against `POST /noop`: bodies of the same size, as many connections."""
    per_client = max(1, posts // clients)
    key = Ed25519PrivateKey.generate()
    bodies = [
        [sign_envelope(key, "kid", "user", group_id, f"Seizure report {n} from officer {i}")
         for n in range(per_client)]
        for i in range(clients)
    ]  # fmt: skip
    senders = [
        (aiohttp.ClientSession(base, connector=aiohttp.TCPConnector(limit=1)),
         {"Authorization": "Bearer x"})
        for _ in range(clients)
    ]  # fmt: skip
    return await time_posts(senders, "/noop", bodies)


async def run_posts(cfg: Config, workdir: Path) -> dict[str, float]:
    prepared = await prepare(cfg, workdir, max(CLIENTS))
    usernames = prepared.directory.officers
    group_id = prepared.directory.group_id
    out: dict[str, float] = {}
    async with cencomm_server(prepared.env) as (_, base):
        for n in CLIENTS:
            for name, value in (
                await drive_posts(base, group_id, usernames, n, cfg.sizes.posts)
            ).items():
                out[f"posts.{n}.{name}"] = value
    async with baseline_server() as (_, base):
        for n in CLIENTS:
            # The same officers' envelopes and logins are not needed by the no-op server: it
            # answers any POST; the driver still signs and sends the same bodies.
            for name, value in (await drive_noop(base, group_id, n, cfg.sizes.posts)).items():
                out[f"noop.{n}.{name}"] = value
    out["posts.64.vs_noop"] = out["posts.64.rate"] / out["noop.64.rate"]
    return out


# ---------------------------------------------------------------------------------------------
# Throughput after N stored messages


async def seeded_database(cfg: Config, root: Path) -> Prepared:
    """The database with `sizes.stored` messages (and their audit entries and tree head), made
    once per harness run on SQLite and reused by the growth and verify figures; on PostgreSQL
    the scratch database is reset between runs, so it is made again when needed."""
    cached = cfg.seeded.get("prepared")
    if cached is not None and (not cfg.database or cfg.seeded.get("intact")):
        return cached  # type: ignore[no-any-return]
    workdir = root / "seeded"
    workdir.mkdir(exist_ok=True)
    started = time.perf_counter()
    cfg.log(f"storing {cfg.sizes.stored:,} messages (bench/seed.py)…")
    prepared = await prepare(cfg, workdir, max(CLIENTS), cfg.sizes.stored)
    cfg.log(f"stored in {time.perf_counter() - started:.0f} s")
    cfg.seeded.update(prepared=prepared, intact=True)
    return prepared


async def run_growth(cfg: Config, workdir: Path) -> dict[str, float]:
    """Posts at 64 clients on the stored-messages database and on an empty one. On SQLite the
    order alternates run by run (the machine's speed drifts); on PostgreSQL the empty database
    comes second (it replaces the stored one in the scratch database)."""
    turn = cfg.seeded["growth_runs"] = cfg.seeded.get("growth_runs", 0) + 1
    out: dict[str, float] = {}

    async def on_stored() -> None:
        seeded = await seeded_database(cfg, workdir.parent)
        async with cencomm_server(seeded.env) as (_, base):
            directory = seeded.directory
            result = await drive_posts(
                base, directory.group_id, directory.officers, 64, cfg.sizes.posts
            )
        out["growth.full.rate"] = result["rate"]

    async def on_empty() -> None:
        cfg.seeded["intact"] = False  # a PostgreSQL scratch database is emptied
        empty = await prepare(cfg, workdir, max(CLIENTS))
        async with cencomm_server(empty.env) as (_, base):
            directory = empty.directory
            result = await drive_posts(
                base, directory.group_id, directory.officers, 64, cfg.sizes.posts
            )
        out["growth.empty.rate"] = result["rate"]

    steps = (on_empty, on_stored) if turn % 2 == 0 and not cfg.database else (on_stored, on_empty)
    for step in steps:
        await step()
    out["growth.ratio"] = out["growth.full.rate"] / out["growth.empty.rate"]
    return out


# ---------------------------------------------------------------------------------------------
# Fan-out: cencomm's hub against raw sends of the same frame to as many sockets


class Sockets:
    """N client sockets on one session, each read by a task; counts frames per key."""

    def __init__(self) -> None:
        self.sockets: list[aiohttp.ClientWebSocketResponse] = []
        self.readers: list[asyncio.Task[None]] = []
        self.arrivals: dict[int, list[float]] = {}
        self.waiters: dict[int, tuple[int, asyncio.Event]] = {}
        self.last_frame = ""

    def watch(
        self, ws: aiohttp.ClientWebSocketResponse, key_of: Callable[[Any], int | None]
    ) -> None:
        self.sockets.append(ws)
        self.readers.append(asyncio.create_task(self._read(ws, key_of)))

    async def _read(
        self, ws: aiohttp.ClientWebSocketResponse, key_of: Callable[[Any], int | None]
    ) -> None:
        async for msg in ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue
            now = time.perf_counter()
            key = key_of(json.loads(msg.data))
            if key is None:
                continue
            self.last_frame = msg.data
            arrivals = self.arrivals.setdefault(key, [])
            arrivals.append(now)
            waiter = self.waiters.get(key)
            if waiter is not None and len(arrivals) >= waiter[0]:
                waiter[1].set()

    async def wait(self, key: int, count: int) -> list[float]:
        """The arrival times of frame `key`, once `count` sockets have it (5 minutes at most)."""
        event = asyncio.Event()
        self.waiters[key] = (count, event)
        if len(self.arrivals.get(key, ())) >= count:
            event.set()
        await asyncio.wait_for(event.wait(), 300)
        return self.arrivals[key]

    async def close(self) -> None:
        for ws in self.sockets:
            await ws.close()
        for task in self.readers:
            task.cancel()
        await asyncio.gather(*self.readers, return_exceptions=True)


def _delivery(latencies: list[float], all_delivered: list[float]) -> dict[str, float]:
    return {
        "p50": 1000 * statistics.median(all_delivered),
        "p99": 1000 * percentile(all_delivered, 0.99),
        "receipt_p99": 1000 * percentile(latencies, 0.99),
    }


USERS = 50
CONNECTING = 200  # sockets opening at once


async def fanout_cencomm(cfg: Config, workdir: Path, size: int) -> tuple[dict[str, float], str]:
    prepared = await prepare(cfg, workdir, USERS + 1)
    group_id = prepared.directory.group_id
    async with (
        cencomm_server(prepared.env) as (server, base),
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http,
    ):
        names = prepared.directory.officers
        poster = await log_in(base, names[-1])
        readers = [await log_in(base, name, with_key=False) for name in names[:-1]]
        for reader in readers:
            await reader.http.close()
        rss_before = rss_kib(server.pid)
        gate = asyncio.Semaphore(CONNECTING)
        sockets = Sockets()

        def seq_of(frame: Any) -> int | None:
            return frame.get("seq") if frame.get("type") == "message" else None

        async def connect(n: int) -> None:
            async with gate:
                ws = await http.ws_connect(f"{base}/api/v1/ws", heartbeat=None)
                await ws.send_json({"type": "auth", "token": readers[n % len(readers)].token})
                ready = await ws.receive_json(timeout=120)
                assert ready["type"] == "ready", ready
                await ws.send_json({"type": "resume", "groups": {}})
                sockets.watch(ws, seq_of)

        try:
            await asyncio.gather(*(connect(n) for n in range(size)))

            async def post() -> tuple[float, int]:
                jws = poster.envelope(group_id, "Seizure of 12,000 counterfeit masks at CDG")
                path = MESSAGES_PATH.format(group=group_id)
                started = time.perf_counter()
                for attempt in (1, 2):
                    # The poster's keep-alive connection sits idle while thousands of sockets
                    # connect, and the server may close it just as it is reused: a post is
                    # idempotent by its cid, so it is sent again (and the wait counts).
                    try:
                        async with poster.http.post(
                            path, json={"jws": jws}, headers=poster.headers
                        ) as resp:
                            assert resp.status in (200, 201), await resp.text()
                            return started, (await resp.json())["seq"]
                    except aiohttp.ClientConnectionError:
                        if attempt == 2:
                            raise
                raise AssertionError("unreachable")

            started, seq = await post()  # warm-up: every socket follows the group now
            await sockets.wait(seq, size)
            rss_idle = rss_kib(server.pid)
            latencies, all_delivered = [], []
            for _ in range(cfg.sizes.fanout_posts):
                started, seq = await post()
                arrivals = await sockets.wait(seq, size)
                latencies += [t - started for t in arrivals]
                all_delivered.append(max(arrivals) - started)
        finally:
            await sockets.close()
            await poster.http.close()
    out = _delivery(latencies, all_delivered)
    out["kib"] = (rss_idle - rss_before) / size
    return out, sockets.last_frame


async def fanout_raw(size: int, posts: int, frame: str) -> dict[str, float]:
    async with (
        baseline_server() as (server, base),
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http,
    ):
        rss_before = rss_kib(server.pid)
        gate = asyncio.Semaphore(CONNECTING)
        sockets = Sockets()
        counter = {"n": 0}

        def key_of(_: Any) -> int:
            return counter["n"]

        async def connect() -> None:
            async with gate:
                sockets.watch(await http.ws_connect(f"{base}/ws", heartbeat=None), key_of)

        try:
            await asyncio.gather(*(connect() for _ in range(size)))

            async def send() -> float:
                counter["n"] += 1
                started = time.perf_counter()
                async with http.post(f"{base}/fanout", data=frame) as resp:
                    assert (await resp.json())["sent"] == size
                return started

            await send()  # warm-up
            await sockets.wait(counter["n"], size)
            rss_idle = rss_kib(server.pid)
            latencies, all_delivered = [], []
            for _ in range(posts):
                started = await send()
                arrivals = await sockets.wait(counter["n"], size)
                latencies += [t - started for t in arrivals]
                all_delivered.append(max(arrivals) - started)
        finally:
            await sockets.close()
    out = _delivery(latencies, all_delivered)
    out["kib"] = (rss_idle - rss_before) / size
    return out


async def run_fanout(cfg: Config, workdir: Path) -> dict[str, float]:
    out: dict[str, float] = {}
    for size in cfg.sizes.sockets:
        (workdir / str(size)).mkdir()
        measured, frame = await fanout_cencomm(cfg, workdir / str(size), size)
        raw = await fanout_raw(size, cfg.sizes.fanout_posts, frame)
        for name, value in measured.items():
            out[f"fanout.{size}.{name}"] = value
        for name, value in raw.items():
            out[f"raw.{size}.{name}"] = value
    return out


# ---------------------------------------------------------------------------------------------
# Resume of missed messages


async def run_resume(cfg: Config, workdir: Path) -> dict[str, float]:
    count = cfg.sizes.resume
    prepared = await prepare(cfg, workdir, 1, count)
    group_id = prepared.directory.group_id
    out: dict[str, float] = {}
    async with (
        cencomm_server(prepared.env) as (_, base),
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http,
    ):
        officer = await log_in(base, prepared.directory.officers[0], with_key=False)
        ws = await http.ws_connect(f"{base}/api/v1/ws", heartbeat=None, max_msg_size=0)
        await ws.send_json({"type": "auth", "token": officer.token})
        assert (await ws.receive_json(timeout=60))["type"] == "ready"
        started = time.perf_counter()
        await ws.send_json({"type": "resume", "groups": {group_id: 0}})
        seen, frame = 0, ""
        async for msg in ws:
            data = json.loads(msg.data)
            if data.get("type") == "message":
                assert data["seq"] == seen + 1, (data["seq"], seen)
                seen, frame = data["seq"], msg.data
                if seen == count:
                    break
        out["resume.ws"] = time.perf_counter() - started
        await ws.close()

        started = time.perf_counter()
        after: int | None = 0
        pages = 0
        while after is not None:
            async with officer.http.get(
                MESSAGES_PATH.format(group=group_id),
                params={"after": str(after), "limit": "500"},
                headers=officer.headers,
            ) as resp:
                page = await resp.json()
            after = page["next"]
            pages += len(page["messages"])
        assert pages == count, pages
        out["resume.http"] = time.perf_counter() - started
        await officer.http.close()

    async with (
        baseline_server() as (_, base),
        aiohttp.ClientSession() as http,
    ):
        ws = await http.ws_connect(f"{base}/ws", heartbeat=None, max_msg_size=0)
        started = time.perf_counter()
        await ws.send_str(f"burst {count} {frame}")
        received = 0
        async for msg in ws:
            json.loads(msg.data)  # the driver decodes each frame, as above
            received += 1
            if received == count:
                break
        out["raw.resume"] = time.perf_counter() - started
        await ws.close()
    return out


# ---------------------------------------------------------------------------------------------
# The audit log: appends per second, and `cencomm audit verify`


async def run_audit(cfg: Config, workdir: Path) -> dict[str, float]:
    """`bench/audit_bench.py`'s audited actions, in a process of its own."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.audit_bench", "--actions", str(cfg.sizes.audit_actions),
        "--entries", "0", "--json", cwd=REPO, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, _ = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError("bench.audit_bench failed")
    result = json.loads(stdout.decode().strip().splitlines()[-1])
    return {"audit.appends": result["actions_per_second"]}


async def run_verify(cfg: Config, workdir: Path) -> dict[str, float]:
    seeded = await seeded_database(cfg, workdir.parent)
    started = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cencomm", "audit", "verify", env=seeded.env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await proc.communicate()
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"cencomm audit verify failed: {stderr.decode()[-2000:]}")
    entries = int(stdout.decode().split("intact: ", 1)[1].split(" ", 1)[0])
    return {"verify.seconds": elapsed, "verify.entries": entries}


# ---------------------------------------------------------------------------------------------
# The figures


def specs(sizes: Sizes) -> dict[str, list[Spec]]:
    small, large = sizes.sockets
    ms = "ms"
    fanout = []
    for size, target in ((small, 100.0), (large, 1500.0)):
        fanout += [
            Spec(f"fanout.{size}.p99", f"fan-out to {size:,} sockets: p99 of all delivered", ms,
                 target, False, f"raw.{size}.p99", full_only=True),
            Spec(f"fanout.{size}.p50", f"fan-out to {size:,} sockets: median of all delivered",
                 ms, None, False, f"raw.{size}.p50"),
            Spec(f"fanout.{size}.receipt_p99", f"fan-out to {size:,} sockets: p99 of receipts",
                 ms, None, False, f"raw.{size}.receipt_p99"),
            Spec(f"fanout.{size}.kib", f"memory per idle socket ({size:,} sockets)", "KiB",
                 50.0, False, f"raw.{size}.kib"),
        ]  # fmt: skip
    return {
        "posts": [
            Spec("posts.1.p50", "signed posts, 1 client: p50", ms, 3.0, False, "noop.1.p50"),
            Spec("posts.1.rate", "signed posts, 1 client", "/s", None, True, "noop.1.rate"),
            Spec("posts.8.rate", "signed posts, 8 clients", "/s", None, True, "noop.8.rate"),
            Spec("posts.8.p99", "signed posts, 8 clients: p99", ms, None, False, "noop.8.p99"),
            Spec("posts.64.rate", "signed posts, 64 clients", "/s", 2500.0, True, "noop.64.rate"),
            Spec("posts.64.p50", "signed posts, 64 clients: p50", ms, None, False, "noop.64.p50"),
            Spec("posts.64.p99", "signed posts, 64 clients: p99", ms, 50.0, False, "noop.64.p99"),
            Spec("posts.64.vs_noop", "posts ÷ no-op POSTs at 64 clients", "x", 0.2),
        ],
        "growth": [
            Spec("growth.empty.rate", "posts at 64 clients, empty database", "/s"),
            Spec("growth.full.rate", f"posts at 64 clients after {sizes.stored:,} messages", "/s"),
            Spec("growth.ratio", "after ÷ empty", "x", 0.9, full_only=True),
        ],
        "fanout": fanout,
        "resume": [
            Spec(
                "resume.ws",
                f"resume of {sizes.resume:,} missed messages (WebSocket)",
                "s",
                2.0,
                False,
                "raw.resume",
                full_only=True,
            ),
            Spec("resume.http", "the same by timeline paging (limit 500)", "s", None, False),
        ],
        "audit": [
            Spec("audit.appends", "audited actions (one per transaction, 8 at once)", "/s", 5000.0)
        ],
        "verify": [
            Spec(
                "verify.seconds",
                f"`cencomm audit verify` of {sizes.stored:,} messages' log",
                "s",
                30.0,
                False,
                full_only=True,
            ),
            Spec("verify.entries", "entries verified", ""),
        ],
    }


RUNNERS: dict[str, Callable[[Config, Path], Awaitable[dict[str, float]]]] = {
    "posts": run_posts,
    "growth": run_growth,
    "fanout": run_fanout,
    "resume": run_resume,
    "audit": run_audit,
    "verify": run_verify,
}


async def run_all(
    cfg: Config, groups: list[str], runs: int
) -> tuple[list[dict[str, Any]], list[str]]:
    """Every figure of `groups`, `runs` times; a group that fails is reported, the rest run."""
    table = specs(cfg.sizes)
    summaries: list[dict[str, Any]] = []
    errors: list[str] = []
    with tempfile.TemporaryDirectory(prefix="cencomm-bench-") as tmp:
        root = Path(tmp)
        for group in groups:
            results = {spec.key: Result(spec) for spec in table[group]}
            for run in range(runs):
                workdir = root / f"{group}-{run}"
                workdir.mkdir()
                cfg.log(f"{group}: run {run + 1} of {runs}")
                try:
                    measured = await RUNNERS[group](cfg, workdir)
                except Exception as exc:  # reported; the other groups still run
                    cfg.log("".join(traceback.format_exception(exc)))
                    errors.append(f"{group}, run {run + 1}: {type(exc).__name__}: {exc}"[:500])
                    break
                for result in results.values():
                    result.values.append(measured[result.spec.key])
                    if result.spec.baseline:
                        result.baseline.append(measured[result.spec.baseline])
            for result in results.values():
                if not result.values:
                    continue
                summary = result.summary(cfg.kind, cfg.quick)
                summary["group"] = group
                summaries.append(summary)
                cfg.log(_line(summary))
    return summaries, errors


def _line(s: dict[str, Any]) -> str:
    ratio = f"  baseline {_fmt(s['baseline_median'])}, ratio {s['ratio']:.3f}" if s["ratio"] else ""
    return (
        f"  {s['title']}: {_fmt(s['median'])} {s['unit']} "
        f"({_fmt(s['min'])}-{_fmt(s['max'])}){ratio}; target {s['target']}: {s['verdict']}"
    )


def markdown(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [
        f"## `{' '.join(['python -m bench', *report['argv']])}` — {m['date']}",
        "",
        f"- machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, Python {m['python']}, "
        f"{m['os']}",
        f"- commit {m['commit']}{' (dirty tree)' if m['dirty'] else ''}; database: "
        f"{report['database']}; {report['runs']} run(s) per figure, each on fresh server "
        "processes; baseline = the same driver against a bare aiohttp server in the same run; "
        "ratio = cencomm ÷ baseline",
        "",
        "| figure | median | min-max | baseline | ratio | target | verdict |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in report["figures"]:
        base = f"{_fmt(s['baseline_median'])} {s['unit']}" if s["baseline_median"] else "—"
        ratio = f"{s['ratio']:.3f}" if s["ratio"] else "—"
        lines.append(
            f"| {s['title']} | {_fmt(s['median'])} {s['unit']}".rstrip() + f" | {_fmt(s['min'])}-"
            f"{_fmt(s['max'])} | {base} | {ratio} | {s['target']} | {s['verdict']} |"
        )
    lines += [f"\n- **failed**: {error}" for error in report["errors"]]
    return "\n".join(lines) + "\n\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--only", help=f"comma-separated groups of figures: {','.join(GROUPS)}")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (default 3)")
    parser.add_argument("--quick", action="store_true", help="small sizes, for trying it out")
    parser.add_argument("--database", help="a scratch PostgreSQL URL (it is emptied!)")
    parser.add_argument("--stored", type=int, help="messages stored for growth and verify")
    parser.add_argument("--out", type=Path, help="markdown file to append to (and .json beside)")
    args = parser.parse_args(argv)
    groups = args.only.split(",") if args.only else list(GROUPS)
    unknown = set(groups) - set(GROUPS)
    if unknown:
        parser.error(f"unknown figures {', '.join(sorted(unknown))}; choose from {GROUPS}")
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    sizes = QUICK if args.quick else FULL
    if args.stored:
        sizes = dataclasses.replace(sizes, stored=args.stored)
    if "fanout" in groups and raise_fd_limit() < max(sizes.sockets) + 500:
        parser.error(f"the open-file limit is below {max(sizes.sockets) + 500}: raise `ulimit -n`")
    info = machine()
    out = args.out or REPO / "bench" / "runs" / f"{datetime.now(UTC):%Y-%m-%d}-{info['commit']}.md"

    def log(text: str) -> None:
        print(text, flush=True)

    cfg = Config(sizes, args.database, args.quick, log)
    log(
        f"cencomm bench: {', '.join(groups)}; {args.runs} run(s) each; "
        f"{'quick' if args.quick else 'full'} sizes; {info['cpu']}, {info['cores']} cores; "
        f"commit {info['commit']}{' (dirty)' if info['dirty'] else ''}"
    )
    started = time.perf_counter()
    figures, errors = asyncio.run(run_all(cfg, groups, args.runs))
    database = args.database or "SQLite (default settings: WAL, synchronous=FULL)"
    if args.database:
        from sqlalchemy.engine import make_url

        database = make_url(args.database).render_as_string(hide_password=True)
    report = {
        "argv": sys.argv[1:] if argv is None else argv,
        "machine": info,
        "database": database,
        "runs": args.runs,
        "quick": args.quick,
        "sizes": dataclasses.asdict(sizes),
        "seconds": round(time.perf_counter() - started, 1),
        "figures": figures,
        "errors": errors,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("a", encoding="utf-8") as md:
        md.write(markdown(report))
    json_path = out.with_suffix(".json")
    existing = json.loads(json_path.read_text()) if json_path.exists() else []
    json_path.write_text(json.dumps([*existing, report], indent=1, default=str) + "\n")
    log(f"written: {out} and {json_path} ({report['seconds']:.0f} s)")
    for error in errors:
        log(f"FAILED: {error}")
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
