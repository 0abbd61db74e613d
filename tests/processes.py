"""Real `cencomm` processes for tests: a free port, a server started until it listens, stopped."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys

# Readers of each server's stderr, kept referenced until the process ends (so logs never fill
# the pipe and block the server).
_DRAINS: set[asyncio.Task[None]] = set()


async def run_cencomm(env: dict[str, str], *args: str, stdin: bytes = b"") -> tuple[int, str, str]:
    """`python -m cencomm ARGS` to completion: (exit code, stdout, stderr)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cencomm",
        *args,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(stdin), timeout=60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _drain(stream: asyncio.StreamReader) -> None:
    while await stream.readline():
        pass


async def serve(env: dict[str, str], port: int, *args: str) -> asyncio.subprocess.Process:
    """`python -m cencomm serve --port PORT ARGS`, returned once it says it listens (no sleeps)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cencomm",
        "serve",
        "--port",
        str(port),
        *args,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None
    while True:
        line = await asyncio.wait_for(proc.stderr.readline(), timeout=60)
        assert line, "server exited before listening"
        if b"Running on" in line:
            drain = asyncio.create_task(_drain(proc.stderr))
            _DRAINS.add(drain)
            drain.add_done_callback(_DRAINS.discard)
            return proc


async def stop(proc: asyncio.subprocess.Process) -> int:
    """Ctrl-C, as an operator would; returns the exit code."""
    if proc.returncode is None:
        proc.send_signal(signal.SIGINT)
    return await asyncio.wait_for(proc.wait(), timeout=30)
