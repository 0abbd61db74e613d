"""Seizure import throughput: `cencomm client import-seizures` against a real server process.

    .venv/bin/python -m bench.import_bench --rows 10000 [--items 1] [--concurrency 1,4,8]
        [--database postgresql+asyncpg://postgres@127.0.0.1:5432/scratch]

A fresh server (`cencomm serve`, scratch data directory, SQLite unless `--database` names a
scratch PostgreSQL database, whose schema is dropped first) and an officer with a key. For each
concurrency, a new CSV of `--rows` rows (`--items` rows per report) is written and imported by
the real command line, a process of its own: file reading, validation with the server's rules,
signing each report with Ed25519 and posting it all count. Then the same file again (every
report already present: what a re-run after a crash costs). It prints, for each: rows per
second as the command reports it (posting phase: signing and HTTP, from the first post to the
last answer), the wall time of the whole process (start-up, reading, validation included),
and a `--dry-run`'s wall time (reading and validation only).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.common import (
    PASSWORD,
    ServerProcess,
    free_port,
    machine,
    migrate,
    scratch_env,
    seed_directory,
)
from bench.harness import reset_database

HEADER = [
    "report_ref", "occurred_on", "country", "location", "transport_mode", "origin", "transit",
    "destination", "category", "description", "quantity", "unit", "hs_code", "infringement",
    "detection", "concealment", "notes", "hc",
]  # fmt: skip
CATEGORIES = (("masks", "units"), ("medicines", "kg"), ("sanitizer", "litres"))


def write_csv(path: Path, rows: int, items: int, tag: str) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for i in range(rows):
            category, unit = CATEGORIES[i % len(CATEGORIES)]
            writer.writerow(
                [
                    f"{tag}-{i // items:06d}",
                    (date(2020, 4, 1) + timedelta(days=(i // items) % 60)).isoformat(),
                    "FR",
                    "Roissy-CDG cargo",
                    "air",
                    "CN",
                    "AE",
                    "FR",
                    category,
                    f"lot {i}",
                    str(i + 1),
                    unit,
                    "3004.90",
                    "counterfeit",
                    "risk_profiling",
                    "mis_declaration",
                    "Declared as textiles",
                    "TLP:AMBER",
                ]
            )


async def cli(env: dict[str, str], *args: str, stdin: bytes = b"") -> tuple[float, str]:
    """`python -m cencomm client ARGS`: (wall seconds, stdout); fails loudly on a non-zero exit."""
    started = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cencomm", "client", *args, env=env,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await proc.communicate(stdin)
    if proc.returncode != 0:
        raise RuntimeError(f"client {args[:2]} exited {proc.returncode}: {err.decode()[-2000:]}")
    return time.perf_counter() - started, out.decode()


async def run(rows: int, items: int, concurrencies: list[int], database: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        await reset_database(database)
        env = scratch_env(workdir, database)
        await migrate(env)
        directory = await seed_directory(env, 1)
        port = free_port()
        server = await ServerProcess.cencomm(env, port).start()
        try:
            client_env = {**env, "CENCOMM_CLIENT_HOME": str(workdir / "home")}
            base = f"http://127.0.0.1:{port}"
            login = ("login", "--server", base, "--username", directory.officers[0])
            await cli(client_env, *login, stdin=f"{PASSWORD}\n".encode())
            await cli(client_env, "keys", "create")
            await cli(client_env, "keys", "register", "--label", "bench")
            print(f"machine: {json.dumps(machine())}")
            kind = "PostgreSQL" if database else "SQLite"
            print(f"database: {kind}; {rows} rows, {items} per report")
            for concurrency in concurrencies:
                path = workdir / f"import-c{concurrency}.csv"
                write_csv(path, rows, items, f"C{concurrency}")
                group = ("--group", "BENCH", "--concurrency", str(concurrency))
                dry, _ = await cli(client_env, "import-seizures", str(path), *group, "--dry-run")
                first = await _import(client_env, path, group)
                again = await _import(client_env, path, group)
                print(
                    f"concurrency {concurrency}: import {first['rows_per_second']} rows/s "
                    f"({first['posted']} reports posted in {first['seconds']} s; whole process "
                    f"{first['wall']:.1f} s = {rows / first['wall']:.0f} rows/s); re-run "
                    f"{again['rows_per_second']} rows/s ({again['already_present']} already "
                    f"present, whole process {again['wall']:.1f} s); dry run {dry:.1f} s"
                )
        finally:
            await server.stop()


async def _import(env: dict[str, str], path: Path, group: tuple[str, ...]) -> dict[str, Any]:
    wall, out = await cli(env, "--json", "import-seizures", str(path), *group)
    summary: dict[str, Any] = json.loads(out)
    summary["wall"] = wall
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--items", type=int, default=1, help="rows (items) per report")
    parser.add_argument("--concurrency", default="8", help="comma-separated, e.g. 1,4,8")
    parser.add_argument("--database", help="a scratch PostgreSQL URL (its schema is dropped)")
    args = parser.parse_args(argv)
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    asyncio.run(run(args.rows, args.items, concurrencies, args.database))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
