"""Real witness processes (`python -m cencomm witness serve`) on loopback for the tests."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from aiohttp.test_utils import TestClient

from tests.factories import Member
from tests.processes import free_port
from tests.witness import c2sp_note

START_TIMEOUT = 60.0
WAIT = 60.0
API = "/api/v1"
T = TypeVar("T")


@dataclass
class WitnessProcess:
    name: str
    vkey: str
    url: str
    state: Path
    process: subprocess.Popen[bytes]
    lines: list[str] = field(default_factory=list)
    reader: threading.Thread | None = None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.reader is not None:
            self.reader.join(timeout=30)
        if self.process.stderr is not None:
            self.process.stderr.close()


def keygen(key: Path, name: str) -> str:
    """`cencomm witness keygen`; returns the verifier key it prints."""
    done = subprocess.run(
        [sys.executable, "-m", "cencomm", "witness", "keygen", "--key", str(key), "--name", name],
        capture_output=True,
        check=True,
        timeout=START_TIMEOUT,
    )
    return done.stdout.decode().strip()


def start_witness(directory: Path, name: str, logs: list[str]) -> WitnessProcess:
    """A witness named `name` cosigning the logs with these verifier keys, once it listens."""
    directory.mkdir(parents=True, exist_ok=True)
    key = directory / "witness.key"
    vkey = keygen(key, name)
    port = free_port()
    command = [sys.executable, "-m", "cencomm", "witness", "serve", "--key", str(key)]
    command += ["--state", str(directory / "state"), "--port", str(port)]
    for log in logs:
        command += ["--log", log]
    process = subprocess.Popen(command, stderr=subprocess.PIPE)
    witness = WitnessProcess(name, vkey, f"http://127.0.0.1:{port}", directory / "state", process)
    assert process.stderr is not None
    listening = threading.Event()

    def drain() -> None:  # keeps the pipe from filling, and tells when it listens
        assert process.stderr is not None
        for raw in process.stderr:
            line = raw.decode(errors="replace")
            witness.lines.append(line)
            if "Running on" in line:
                listening.set()
        listening.set()

    witness.reader = threading.Thread(target=drain, daemon=True)
    witness.reader.start()
    assert listening.wait(START_TIMEOUT) and process.poll() is None, "".join(witness.lines)
    return witness


async def until(probe: Callable[[], Awaitable[T | None]], what: str) -> T:
    """Poll `probe` until it returns something, with a deadline (no fixed sleeps)."""
    deadline = time.monotonic() + WAIT
    while (value := await probe()) is None:
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)
    return value


async def checkpoint(
    client: TestClient[Any, Any], member: Member, tree_size: int | None = None
) -> str:
    params = {} if tree_size is None else {"tree_size": str(tree_size)}
    resp = await client.get(f"{API}/audit/checkpoint", headers=member.auth, params=params)
    assert resp.status == 200, await resp.text()
    assert resp.content_type == "text/plain"
    return await resp.text()


def cosigners(note: str, witnesses: list[WitnessProcess]) -> list[str]:
    parsed = c2sp_note.parse(note)
    names = []
    for witness in witnesses:
        name, _, public = c2sp_note.public_of_vkey(witness.vkey)
        if c2sp_note.cosignature_time(parsed, name, public) is not None:
            names.append(name)
    return names


def cosigned_by(
    client: TestClient[Any, Any], member: Member, witnesses: list[WitnessProcess], after: int = -1
) -> Callable[[], Awaitable[str | None]]:
    """A probe: the server's checkpoint once every one of `witnesses` cosigned it (and its
    size is over `after`)."""

    async def probe() -> str | None:
        note = await checkpoint(client, member)
        size = c2sp_note.checkpoint(c2sp_note.parse(note).text).size
        if size > after and len(cosigners(note, witnesses)) == len(witnesses):
            return note
        return None

    return probe
