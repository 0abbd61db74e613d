"""A real clamd for the scanning tests: our own signature database, a temporary Unix socket.

Signature downloads are not reachable here, so the database holds two signatures built with
`sigtool`: EICAR (by MD5, as `sigtool --md5` prints it) and a synthetic sample (a body signature
from `sigtool --hex-dump`). In CI a clamd that cannot start fails the run; elsewhere the tests
that need it are skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.data.attachments.build import EICAR

SYNTHETIC_MARKER = b"CENCOMM-SYNTHETIC-MALWARE-SAMPLE"
START_DEADLINE = 120.0  # seconds for clamd to load its database and open the socket
SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"clamd is required in CI: {reason}")
    pytest.skip(reason)


def _run(*args: str, stdin: bytes | None = None) -> bytes:
    return subprocess.run(args, input=stdin, capture_output=True, check=True, timeout=60).stdout


def build_signatures(directory: Path) -> None:
    sigtool = shutil.which("sigtool", path=SEARCH_PATH)
    if sigtool is None:
        _unavailable("sigtool is not installed (apt-get install clamav)")
        return
    eicar = directory / "eicar.sample"
    eicar.write_bytes(EICAR)
    md5_line = _run(sigtool, "--md5", str(eicar)).decode().strip()
    digest, size, _ = md5_line.split(":", 2)
    (directory / "cencomm.hdb").write_text(f"{digest}:{size}:Cencomm.Test.EICAR\n")
    hex_body = _run(sigtool, "--hex-dump", stdin=SYNTHETIC_MARKER).decode().strip()
    (directory / "cencomm.ndb").write_text(f"Cencomm.Test.Synthetic:0:*:{hex_body}\n")
    eicar.unlink()


def _connects(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        try:
            probe.connect(str(path))
        except OSError:
            return False
        probe.sendall(b"zPING\0")
        return probe.recv(16).startswith(b"PONG")


@pytest.fixture(scope="session")
def clamd_socket(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Start clamd on a temporary Unix socket with our signatures; stop it afterwards."""
    clamd = shutil.which("clamd", path=SEARCH_PATH)
    if clamd is None:
        _unavailable("clamd is not installed (apt-get install clamav-daemon)")
    assert clamd is not None
    root = tmp_path_factory.mktemp("clamd")
    database = root / "db"
    database.mkdir()
    build_signatures(database)
    sock = root / "clamd.sock"
    config = root / "clamd.conf"
    config.write_text(
        f"Foreground yes\nDatabaseDirectory {database}\nLocalSocket {sock}\n"
        "StreamMaxLength 100M\nMaxThreads 4\nLogTime no\nBytecode no\n"
    )
    log = (root / "clamd.log").open("wb")
    proc = subprocess.Popen([clamd, "-c", str(config)], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + START_DEADLINE
    try:
        while not (sock.exists() and _connects(sock)):
            try:
                proc.wait(timeout=0.2)  # bounded wait between probes; also sees an early exit
            except subprocess.TimeoutExpired:
                pass
            else:
                _unavailable(
                    f"clamd exited ({proc.returncode}): {(root / 'clamd.log').read_text()[-400:]}"
                )
            if time.monotonic() > deadline:
                _unavailable(f"clamd did not open {sock} within {START_DEADLINE} s")
        yield sock
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)
        log.close()
