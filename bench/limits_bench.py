"""A well-behaved officer's latency alone, and while others misbehave (issue 18, resource limits).

The server (`cencomm serve`, its default limits) runs as its own process; so does the attack,
so that the officer's figures do not include the attackers' client work. The officer reads the
group's timeline and posts signed messages one request after another; the attack, all at once:

- slowloris: `--slow` connections, each trickling a header byte every 0.5 s, reconnecting when
  cut off (by `http.header_timeout`), and `--slow` more sending a body that stops half way
  (cut off by `http.body_timeout`: 408);
- large bodies: 4 uploaders (2 users) posting 4 MiB attachments back to back, and 4 clients
  sending `Content-Length` past `attachments.max_bytes` (413 before any byte of the body);
- a burst: one user keeping 64 requests in flight (above `http.max_requests_per_user`: 429;
  each refused one waits its `Retry-After`).

    .venv/bin/python -m bench.limits_bench [--requests 1000] [--slow 200] [--database URL]
                                           [--attacks slow,bodies,burst] [--per-user N]

Prints p50/p99 of the officer alone and under attack, and what the attack got (answers by
status, connections cut off).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.common import log_in, machine, percentile, raise_fd_limit
from bench.harness import QUICK, Config, cencomm_server, prepare

UPLOAD = 4 * 1024 * 1024
BURST = 64
ATTACKS = "slow,bodies,burst"


async def officer_latencies(base: str, username: str, group_id: str, requests: int) -> list[float]:
    """Milliseconds per request: a timeline read, then a signed post, and so on."""
    officer = await log_in(base, username)
    latencies = []
    try:
        for i in range(requests):
            started = time.perf_counter()
            if i % 2:
                body = {"jws": officer.envelope(group_id, f"bench {i}")}
                path = f"/api/v1/groups/{group_id}/messages"
                async with officer.http.post(path, json=body, headers=officer.headers) as resp:
                    await resp.read()
                    assert resp.status == 201, resp.status
            else:
                path = f"/api/v1/groups/{group_id}/messages?limit=50"
                async with officer.http.get(path, headers=officer.headers) as resp:
                    await resp.read()
                    assert resp.status == 200, resp.status
            latencies.append((time.perf_counter() - started) * 1000)
    finally:
        await officer.http.close()
    return latencies


# ---------------------------------------------------------------------------------------------
# The attack, in a process of its own (`--attack`): runs until a line arrives on stdin.


class Attack:
    def __init__(self, base: str, group_id: str, users: list[str]) -> None:
        self.base = base
        self.host, port = base.removeprefix("http://").split(":")
        self.port = int(port)
        self.group_id = group_id
        self.users = users
        self.statuses: Counter[str] = Counter()
        self.stopping = asyncio.Event()

    async def slow_headers(self) -> None:
        while not self.stopping.is_set():
            reader, writer = await asyncio.open_connection(self.host, self.port)
            writer.write(b"GET /api/v1/me HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            with contextlib.suppress(ConnectionError):
                while not self.stopping.is_set() and not reader.at_eof():
                    writer.write(b"a")
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(reader.read(1024), 0.5)
                self.statuses["slow headers cut off"] += int(reader.at_eof())
            writer.close()

    async def slow_body(self) -> None:
        while not self.stopping.is_set():
            reader, writer = await asyncio.open_connection(self.host, self.port)
            writer.write(
                b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                b"\r\nContent-Length: 100000\r\n\r\n{"
            )
            with contextlib.suppress(ConnectionError):
                answer = b""
                while not self.stopping.is_set() and not reader.at_eof():
                    with contextlib.suppress(TimeoutError):
                        answer += await asyncio.wait_for(reader.read(1024), 1.0)
                if answer.startswith(b"HTTP/1.1 408"):
                    self.statuses["slow body 408"] += 1
            writer.close()

    async def oversized(self) -> None:
        while not self.stopping.is_set():
            reader, writer = await asyncio.open_connection(self.host, self.port)
            writer.write(
                b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                b"\r\nContent-Length: 1000000000\r\n\r\n"
            )
            with contextlib.suppress(ConnectionError):
                head = await reader.readline()
                self.statuses[f"oversized {head.split()[1].decode()}"] += 1
            writer.close()

    async def uploads(self, username: str) -> None:
        officer = await log_in(self.base, username, with_key=False, limit=2)
        # The same text each time: stored once, then every upload is read, hashed, encrypted
        # and found to be there already (200).
        data = os.urandom(UPLOAD // 2).hex().encode()
        path = f"/api/v1/groups/{self.group_id}/attachments?name=big.txt"
        headers = {**officer.headers, "Content-Type": "text/plain"}
        try:
            while not self.stopping.is_set():
                async with officer.http.post(path, data=data, headers=headers) as resp:
                    await resp.read()
                    self.statuses[f"upload {resp.status}"] += 1
        finally:
            await officer.http.close()

    async def burst(self, username: str) -> None:
        officer = await log_in(self.base, username, with_key=False, limit=BURST)

        async def one() -> None:
            while not self.stopping.is_set():
                path = f"/api/v1/groups/{self.group_id}/messages?limit=50"
                async with officer.http.get(path, headers=officer.headers) as resp:
                    await resp.read()
                    self.statuses[f"burst {resp.status}"] += 1
                    if resp.status == 429:  # a client that follows the protocol waits
                        await asyncio.sleep(int(resp.headers["Retry-After"]))

        try:
            await asyncio.gather(*(one() for _ in range(BURST)))
        finally:
            await officer.http.close()

    async def run(self, slow: int, kinds: set[str]) -> None:
        uploaders, burster = self.users[:2], self.users[2]
        tasks = []
        if "slow" in kinds:
            tasks += [asyncio.create_task(self.slow_headers()) for _ in range(slow)]
            tasks += [asyncio.create_task(self.slow_body()) for _ in range(slow)]
        if "bodies" in kinds:
            tasks += [asyncio.create_task(self.oversized()) for _ in range(4)]
            tasks += [asyncio.create_task(self.uploads(u)) for u in uploaders for _ in range(2)]
        if "burst" in kinds:
            tasks.append(asyncio.create_task(self.burst(burster)))
        print("attacking", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        self.stopping.set()
        done, pending = await asyncio.wait(tasks, timeout=60)
        for task in pending:
            task.cancel()
        failures = Counter(type(t.exception()).__name__ for t in done if t.exception())
        print(
            json.dumps({**self.statuses, **{f"task failed: {k}": v for k, v in failures.items()}})
        )


async def attack_main(
    base: str, group_id: str, users: list[str], slow: int, kinds: set[str]
) -> None:
    raise_fd_limit()
    await Attack(base, group_id, users).run(slow, kinds)


# ---------------------------------------------------------------------------------------------


async def main_async(
    requests: int, slow: int, database: str | None, kinds: str, per_user: int | None
) -> None:
    info = machine()
    print(
        f"database: {database or 'SQLite'}; machine: {info['cpu']}, {info['cores']} cores, "
        f"Python {info['python']}, {info['date']}, commit {info['commit']}"
    )
    raise_fd_limit()
    cfg = Config(QUICK, database, quick=False, log=lambda _: None)
    with tempfile.TemporaryDirectory() as tmp:
        prepared = await prepare(cfg, Path(tmp), 4)
        group_id = prepared.directory.group_id
        officer, *attackers = prepared.directory.officers
        env = dict(prepared.env)
        if per_user is not None:
            env["CENCOMM_HTTP_MAX_REQUESTS_PER_USER"] = str(per_user)
        async with cencomm_server(env) as (_, base):
            await officer_latencies(base, officer, group_id, 50)  # warm up
            alone = await officer_latencies(base, officer, group_id, requests)
            report("alone", alone)
            attack = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bench.limits_bench", "--attack", base, group_id,
                *attackers, "--slow", str(slow), "--attacks", kinds,
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            )  # fmt: skip
            assert attack.stdin is not None and attack.stdout is not None
            assert (await attack.stdout.readline()).strip() == b"attacking"
            await asyncio.sleep(5)  # let every attacker connect and take its slots
            attacked = await officer_latencies(base, officer, group_id, requests)
            attack.stdin.write(b"stop\n")
            await attack.stdin.drain()
            outcome = json.loads(await attack.stdout.readline())
            await attack.wait()
            report(f"under attack ({kinds})", attacked)
            print("attack:", ", ".join(f"{k} {v}" for k, v in sorted(outcome.items())))


def report(label: str, latencies: list[float]) -> None:
    print(
        f"{label:>13}: {len(latencies)} requests in {sum(latencies) / 1000:.1f} s, "
        f"p50 {percentile(latencies, 0.5):6.1f} ms, p99 {percentile(latencies, 0.99):6.1f} ms, "
        f"max {max(latencies):6.1f} ms"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--slow", type=int, default=200, help="slow connections of each kind")
    parser.add_argument("--database", help="SQLAlchemy URL (default: SQLite in a temp dir)")
    parser.add_argument("--per-user", type=int, help="http.max_requests_per_user (default 8)")
    parser.add_argument(
        "--attacks", default=ATTACKS, help=f"comma-separated, of {ATTACKS} (default: all at once)"
    )
    parser.add_argument("--attack", nargs="+", metavar="BASE GROUP USER", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.attack:
        base, group_id, *users = args.attack
        kinds = set(args.attacks.split(","))
        asyncio.run(attack_main(base, group_id, users, args.slow, kinds))
    else:
        asyncio.run(
            main_async(args.requests, args.slow, args.database, args.attacks, args.per_user)
        )


if __name__ == "__main__":
    main()
