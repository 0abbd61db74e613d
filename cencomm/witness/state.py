"""A witness's durable state: per log, the newest checkpoint it cosigned; and kept evidence.

`<state>/logs/<SHA-256 of the origin, hex>.json` holds `{origin, size, root, note}` for the
newest checkpoint cosigned for that origin. It is replaced atomically: a new file is written,
fsynced and renamed over the old one, then the directory is fsynced, so a crash leaves the old
state or the new one, never a mix. `<state>/evidence/` keeps each refused pair that shows the log
misbehaving (an inconsistent extension, another root at the same size): both notes and the proof.
Blocking file I/O: call from a thread.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

DIR_MODE = 0o700
FILE_MODE = 0o600
MAX_STATE_BYTES = 256 * 1024


class StateError(Exception):
    """The state directory cannot be used; the message says why."""


@dataclass(frozen=True, slots=True)
class LogState:
    origin: str
    size: int
    root: bytes
    note: str


class WitnessState:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.logs = directory / "logs"
        self.evidence = directory / "evidence"

    def prepare(self) -> None:
        """Create the directories (mode 0700).

        Raises:
            StateError: they cannot be created.
        """
        try:
            for path in (self.directory, self.logs, self.evidence):
                path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        except OSError as exc:
            raise StateError(f"cannot create {exc.filename}: {exc.strerror}") from None

    def _path(self, origin: str) -> Path:
        return self.logs / f"{hashlib.sha256(origin.encode('utf-8')).hexdigest()}.json"

    def load(self, origin: str) -> LogState | None:
        """The newest checkpoint cosigned for `origin`, or None before the first.

        Raises:
            StateError: the file is unreadable or damaged (the witness must not guess).
        """
        path = self._path(origin)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StateError(f"cannot read {path}: {exc.strerror}") from None
        try:
            data = json.loads(raw[: MAX_STATE_BYTES + 1])
            state = LogState(
                origin=str(data["origin"]),
                size=int(data["size"]),
                root=base64.b64decode(data["root"], validate=True),
                note=str(data["note"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise StateError(f"{path} is damaged ({exc})") from None
        if state.origin != origin or len(state.root) != 32 or state.size < 0:
            raise StateError(f"{path} is damaged (another origin or a bad root)")
        return state

    def save(self, state: LogState) -> None:
        """Replace the state of `state.origin` durably (see the module docstring)."""
        document = {
            "origin": state.origin,
            "size": state.size,
            "root": base64.standard_b64encode(state.root).decode(),
            "note": state.note,
        }
        _write_atomically(self._path(state.origin), json.dumps(document, indent=1).encode())

    def keep_evidence(self, origin: str, reason: str, record: dict[str, Any]) -> Path:
        """Store a refused pair (both notes and the proof) in a new file; returns its path."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        digest = hashlib.sha256(origin.encode("utf-8")).hexdigest()[:16]
        path = self.evidence / f"{stamp}-{digest}-{secrets.token_hex(4)}.json"
        document = {"origin": origin, "reason": reason, "recorded_at": stamp, **record}
        _write_atomically(path, json.dumps(document, indent=1).encode())
        return path


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    directory = os.open(path.parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
