"""Real witness processes (`python -m cencomm witness serve`) on loopback for the tests."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from tests.processes import free_port

START_TIMEOUT = 60.0


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
