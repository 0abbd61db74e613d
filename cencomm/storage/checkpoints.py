"""The checkpoint file: every signed audit tree head, appended outside the database.

`<data dir>/audit-checkpoints.jsonl` holds one line per tree head, the JSON object of
`GET /audit/tree-head`. It is only ever appended to (`O_APPEND`, one `write` per line, so several
server processes sharing the data directory never interleave within a line), fsynced after every
line, and created with mode 0600 (its directory fsynced then, so the new name survives a crash).
A head may be recorded more than once (each process records the newest head it saw); readers
take duplicates as they come. `cencomm audit verify` compares the database with it: a database
truncated or rolled back behind the server's back no longer matches a head recorded here.
"""

from __future__ import annotations

import json
import os
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cencomm.domain.audit_tree import TreeHead
from cencomm.domain.wire.audit import tree_head_json

CHECKPOINT_FILE = "audit-checkpoints.jsonl"
FILE_MODE = 0o600
MAX_LINE_BYTES = 4096  # a tree head is a few hundred bytes; anything longer is not one
READ_CHUNK = 1 << 16


def checkpoint_path(data_dir: Path) -> Path:
    return data_dir / CHECKPOINT_FILE


@dataclass(frozen=True, slots=True)
class RecordedLine:
    """One line of the checkpoint file: its number (from 1) and its JSON value, None if it is
    not JSON or too long to be a tree head (`verification.tree_heads.tree_head_from_json` reads
    the head)."""

    line: int
    document: Any


class CheckpointFile:
    """Appends tree heads to, and reads them back from, one data directory's checkpoint file.

    Blocking file I/O: call from a thread (`asyncio.to_thread`).
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, head: TreeHead) -> None:
        """Record `head` durably: one line in one `write`, then fsync.

        Raises:
            OSError: the file could not be created or written (also a short write).
        """
        line = json.dumps(tree_head_json(head), sort_keys=True, separators=(",", ":")) + "\n"
        data = line.encode("utf-8")
        flags = os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)
        created = False
        try:
            fd = os.open(self.path, flags | os.O_CREAT | os.O_EXCL, FILE_MODE)
            created = True
        except FileExistsError:
            fd = os.open(self.path, flags)
        try:
            written = os.write(fd, data)
            if written != len(data):
                raise OSError(f"short write to {self.path} ({written} of {len(data)} bytes)")
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:
            _fsync_directory(self.path.parent)

    def size(self) -> int:
        """Bytes in the file now (0 when there is none): a reader's bound, taken beforehand."""
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    def read(self, limit: int) -> Generator[RecordedLine, None, None]:
        """The lines in the first `limit` bytes, in file order, one at a time.

        A line that is not JSON (say, a write torn by a crash, with the next line appended to
        it) comes back with `document=None`. An unterminated last line is left out:
        an append under way, or torn at the end.
        """
        if limit <= 0:
            return
        with self.path.open("rb") as handle:
            number = 0
            pending = bytearray()
            junk = False  # inside a line too long to be a tree head
            remaining = limit
            while remaining > 0 and (chunk := handle.read(min(remaining, READ_CHUNK))):
                remaining -= len(chunk)
                start = 0
                while (end := chunk.find(b"\n", start)) >= 0:
                    number += 1
                    if junk:
                        yield RecordedLine(number, None)
                    else:
                        pending += chunk[start:end]
                        yield RecordedLine(number, _parse_line(bytes(pending)))
                    pending.clear()
                    junk = False
                    start = end + 1
                if not junk:
                    pending += chunk[start:]
                    if len(pending) > MAX_LINE_BYTES:
                        junk = True
                        pending.clear()


def _parse_line(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:  # json.JSONDecodeError and UnicodeDecodeError are ValueErrors
        return None


def _fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
