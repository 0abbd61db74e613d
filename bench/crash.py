"""Crash tests, long form: `python -m bench.crash --db sqlite|postgres --kills 200 --seed N`.

The same driver as the bounded form in the test suite (tests/crash/harness.py), with more kills
and a full check (sweep, orphan files, `cencomm audit verify`, every blob downloaded) every
`--full-every` kills. On PostgreSQL it starts a private cluster of its own (initdb in a temporary
directory, never the machine's shared server) and SIGKILLs and restarts PostgreSQL too, at
seeded kills (one in `--postgres-every` on average). It prints a progress line per kill and, at
the end, a markdown summary for bench/RESULTS.md; it exits 1 naming the seed, the kill and the
items when a check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from bench.common import machine
from tests.crash.harness import CrashCheckFailed, CrashRun, Figures, crash_test, private_postgres
from tests.processes import REDIS_URL


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.crash", description=__doc__)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument(
        "--full-every", type=int, default=1, metavar="K",
        help="full check every K kills (default: after every kill)",
    )  # fmt: skip
    parser.add_argument(
        "--postgres-every", type=int, default=10, metavar="K",
        help="PostgreSQL is killed too at about one kill in K (postgres only)",
    )  # fmt: skip
    parser.add_argument("--redis", default=REDIS_URL, help="the Redis of the two servers' bus")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    return parser


def summary(args: argparse.Namespace, figures: Figures) -> str:
    about = machine()
    kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(figures.acknowledged.items()))
    return "\n".join(
        [
            f"- **{args.db}**, seed {args.seed}, {about['date']}, commit {about['commit']}, "
            f"{about['cores']} cores ({about['cpu']}):",
            f"  {figures.kills} server kills survived"
            + (
                f" ({figures.postgres_kills} with PostgreSQL killed too)"
                if args.db == "postgres"
                else ""
            )
            + f", {figures.full_checks} full checks, {figures.seconds:.0f} s;",
            f"  acknowledged writes checked: {sum(figures.acknowledged.values())} ({kinds}); "
            f"blobs downloaded and hashed: {figures.blobs_downloaded}; "
            f"orphan files swept: {figures.orphans_swept}.",
        ]
    )


async def main(args: argparse.Namespace, workdir: Path) -> int:
    started = time.monotonic()
    # SIGINT or SIGTERM (also when started in the background, where SIGINT is ignored): stop
    # the clients, the servers and the private PostgreSQL before leaving.
    task = asyncio.current_task()
    assert task is not None
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, task.cancel)

    def log(line: str) -> None:
        print(f"[{time.monotonic() - started:7.1f}s] {line}", flush=True)

    run = CrashRun(
        f"sqlite+aiosqlite:///{workdir / 'cencomm.db'}", workdir / "run", args.kills,
        args.seed, full_every=args.full_every, log=log,
    )  # fmt: skip
    try:
        if args.db == "sqlite":
            figures = await crash_test(run)
        else:
            async with private_postgres(workdir / "postgres") as cluster:
                run.database_url = cluster.url
                run.redis_url, run.servers = args.redis, 2
                run.postgres, run.postgres_every = cluster, args.postgres_every
                figures = await crash_test(run)
    except CrashCheckFailed as exc:
        print(str(exc), file=sys.stderr)
        print(f"work directory kept: {workdir}", file=sys.stderr)
        return 1
    print(summary(args, figures))
    if args.keep:
        print(f"work directory: {workdir}")
    else:
        await asyncio.to_thread(shutil.rmtree, workdir, ignore_errors=True)
    return 0


def workdir() -> Path:
    path = Path(tempfile.mkdtemp(prefix="cencomm-crash-"))
    path.chmod(0o711)  # the private PostgreSQL runs as `postgres` in a folder inside
    (path / "run").mkdir()
    return path


if __name__ == "__main__":
    sys.exit(asyncio.run(main(_parser().parse_args(), workdir())))
