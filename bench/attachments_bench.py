"""Attachment benchmark: upload and download throughput of a 50 MiB file, and the server's peak
memory while doing it.

    .venv/bin/python -m bench.attachments_bench [--mib 50] [--rounds 3]

The server runs as a subprocess (`python -m cencomm serve`, SQLite, scanner "none") with a scratch
data directory; its peak resident memory is VmHWM from /proc/<pid>/status after the runs. The
file is CSV-like text (so it passes the type checks without being trivially compressible).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ADMIN_PASSWORD = "bench password 1234"  # noqa: S105 - a scratch server


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _payload(size: int) -> bytes:
    line = b"2020-05-20,FR,masks,%09d,CDG,air,risk_profiling\n"
    out = bytearray()
    n = 0
    while len(out) < size:
        out += line % n
        n += 1
    return bytes(out[:size])


def _vm_hwm_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM")


def _reset_peak(pid: int) -> int:
    """Reset VmHWM to the current RSS (Linux: write 5 to clear_refs); returns the RSS in KiB."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def _wait_ready(base: str, deadline: float) -> None:
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                async with session.get(f"{base}/ready") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not become ready")
            await asyncio.sleep(0.2)


def _start_server(tmp: str, mib: int) -> tuple[subprocess.Popen[bytes], str]:
    env = {
        **os.environ,
        "CENCOMM_DATA_DIR": str(Path(tmp) / "data"),
        "CENCOMM_DATABASE_URL": f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}",
        "CENCOMM_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "CENCOMM_LOGGING_ACCESS_LOG": "false",
        "CENCOMM_LOGGING_LEVEL": "WARNING",
        "CENCOMM_ATTACHMENTS_MAX_BYTES": str(mib * 1024 * 1024),
    }
    cli = [sys.executable, "-m", "cencomm"]
    subprocess.run([*cli, "migrate"], env=env, check=True)  # noqa: S603
    admin = [*cli, "create-admin", "--username", "bench"]
    subprocess.run(admin, env=env, check=True, stdin=subprocess.DEVNULL)  # noqa: S603
    port = _free_port()
    serve = [*cli, "serve", "--port", str(port), "--no-migrate"]
    return subprocess.Popen(serve, env=env), f"http://127.0.0.1:{port}"  # noqa: S603


async def run(mib: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server, base = await asyncio.to_thread(_start_server, tmp, mib)
        try:
            await _wait_ready(base, time.monotonic() + 60)
            idle_kib = _vm_hwm_kib(server.pid)
            await _measure(base, mib, rounds, server.pid, idle_kib)
        finally:
            server.terminate()
            await asyncio.to_thread(server.wait, 30)


async def _measure(base: str, mib: int, rounds: int, pid: int, idle_kib: int) -> None:
    data = _payload(mib * 1024 * 1024)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600)) as session:
        login = await session.post(
            f"{base}/api/v1/auth/login", json={"username": "bench", "password": ADMIN_PASSWORD}
        )
        auth = {"Authorization": f"Bearer {(await login.json())['access_token']}"}
        group = await (
            await session.post(
                f"{base}/api/v1/groups", json={"code": "BENCH-1", "name": "Bench"}, headers=auth
            )
        ).json()
        await session.patch(
            f"{base}/api/v1/groups/{group['id']}", json={"status": "active"}, headers=auth
        )
        # Reset the high-water mark after log-in (argon2id alone takes 64 MiB for a moment),
        # so the peak below is what uploading and downloading needed.
        baseline_kib = _reset_peak(pid)
        up: list[float] = []
        down: list[float] = []
        for n in range(rounds):
            body = data[:-16] + b"%015d\n" % n  # fresh content each round (no dedupe)
            started = time.perf_counter()
            resp = await session.post(
                f"{base}/api/v1/groups/{group['id']}/attachments",
                params={"name": "bench.csv"},
                data=body,
                headers={**auth, "Content-Type": "text/csv"},
            )
            assert resp.status == 201, await resp.text()
            up.append(time.perf_counter() - started)
            sha = (await resp.json())["sha256"]
            started = time.perf_counter()
            digest = hashlib.sha256()
            async with session.get(
                f"{base}/api/v1/groups/{group['id']}/attachments/{sha}", headers=auth
            ) as dl:
                assert dl.status == 200
                async for chunk in dl.content.iter_chunked(1 << 20):
                    digest.update(chunk)
            down.append(time.perf_counter() - started)
            assert digest.hexdigest() == sha
    peak_kib = _vm_hwm_kib(pid)
    size_mb = len(data) / 1e6
    up_best, up_median = size_mb / min(up), size_mb / sorted(up)[len(up) // 2]
    down_best, down_median = size_mb / min(down), size_mb / sorted(down)[len(down) // 2]
    lines = [
        f"machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        f"file: {mib} MiB ({size_mb:.1f} MB), {rounds} rounds, SQLite, scanner none",
        f"upload:   best {up_best:.1f} MB/s, median {up_median:.1f} MB/s",
        f"download: best {down_best:.1f} MB/s, median {down_median:.1f} MB/s",
        f"server peak RSS (VmHWM) while uploading and downloading: {peak_kib / 1024:.1f} MiB "
        f"(RSS before the first upload: {baseline_kib / 1024:.1f} MiB; after start-up: "
        f"{idle_kib / 1024:.1f} MiB)",
    ]
    sys.stdout.write("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(run(args.mib, args.rounds))


if __name__ == "__main__":
    main()
