"""Signed posts per second, end to end over HTTP: JWS verification, group-commit write with seq,
audit entry and durable commit (SQLite `synchronous=FULL` by default).

The server runs as its own process (`cencomm serve`); this process pre-signs every envelope,
then posts them from N concurrent clients, each with its own user, key and keep-alive connection.
(`python -m bench --only posts` runs the same driver K times with the no-op baseline beside it.)

    .venv/bin/python -m bench.post_bench [--clients 1 8 64] [--posts 3000] [--database URL]

`BENCH_SERVER_WRAPPER="py-spy record -o profile.txt --"` runs the server under a profiler
(it is stopped with SIGINT, so the profiler writes its output).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import tempfile
from pathlib import Path

from bench.common import machine
from bench.harness import QUICK, Config, cencomm_server, drive_posts, prepare


async def main_async(
    clients: list[int],
    posts: int,
    database: str | None,
    workers: int = 1,
    access_log: bool = False,
) -> None:
    info = machine()
    db = database or "SQLite (synchronous=FULL)"
    print(
        f"database: {db}; machine: {info['cpu']}, {info['cores']} cores, "
        f"Python {info['python']}, {info['date']}, commit {info['commit']}; workers {workers}"
    )
    cfg = Config(QUICK, database, quick=False, log=lambda _: None)
    with tempfile.TemporaryDirectory() as tmp:
        prepared = await prepare(cfg, Path(tmp), max(clients))
        directory = prepared.directory
        env = {**prepared.env, "CENCOMM_SERVER_WORKERS": str(workers)}
        if access_log:  # one line per request to the server's stderr, which this process reads
            env["CENCOMM_LOGGING_ACCESS_LOG"] = "true"
        async with cencomm_server(env) as (server, base):
            for n in clients:
                # Where the cores went during this drive: the server's processes, and this one
                # (the load generator; its envelopes were signed beforehand).
                server_before, driver_before = cpu_seconds(server.pid), process_cpu_seconds()
                result = await drive_posts(base, directory.group_id, directory.officers, n, posts)
                server_ms = (cpu_seconds(server.pid) - server_before) * 1000 / posts
                driver_ms = (process_cpu_seconds() - driver_before) * 1000 / posts
                print(
                    f"{n:>3} clients: {result['rate']:7.0f} posts/s   latency p50 "
                    f"{result['p50']:6.1f} ms  p99 {result['p99']:6.1f} ms   CPU per post: "
                    f"server {server_ms:.2f} ms, load generator {driver_ms:.2f} ms"
                )


def cpu_seconds(pid: int) -> float:
    """CPU time (user and system) of process `pid` and its children so far (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    own = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return own + sum(cpu_seconds(int(child)) for child in children)


def process_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 64])
    parser.add_argument("--posts", type=int, default=3000)
    parser.add_argument("--database", help="SQLAlchemy URL (default: SQLite in a temp dir)")
    parser.add_argument("--workers", type=int, default=1, help="server processes (serve --workers)")
    parser.add_argument("--access-log", action="store_true", help="with the access log on")
    args = parser.parse_args()
    asyncio.run(main_async(args.clients, args.posts, args.database, args.workers, args.access_log))


if __name__ == "__main__":
    main()
