"""Owner-only file copies that hash what they copy (blocking; call from a thread)."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700
CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class Copied:
    size: int
    sha256: str


def private_dirs(path: Path) -> None:
    """`path` and its missing parents as owner-only directories."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for directory in reversed(missing):
        directory.mkdir(mode=DIR_MODE)
        os.chmod(directory, DIR_MODE)  # exact, whatever the umask


def copy_file(source: Path, target: Path, limit: int | None = None) -> Copied:
    """Copy `source` (its first `limit` bytes, when given) to the new file `target`, mode 0600
    from the first byte, fsynced; returns the size and SHA-256 of what was written."""
    private_dirs(target.parent)
    digest = hashlib.sha256()
    size = 0
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE)
    with source.open("rb") as reader, os.fdopen(fd, "wb") as writer:
        while limit is None or size < limit:
            want = CHUNK if limit is None else min(CHUNK, limit - size)
            data = reader.read(want)
            if not data:
                break
            digest.update(data)
            writer.write(data)
            size += len(data)
        writer.flush()
        os.fsync(writer.fileno())
    return Copied(size, digest.hexdigest())


def hash_file(path: Path) -> Copied:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as reader:
        while data := reader.read(CHUNK):
            digest.update(data)
            size += len(data)
    return Copied(size, digest.hexdigest())


def complete_lines(path: Path, limit: int) -> int:
    """How many of the first `limit` bytes of `path` end with its last whole line."""
    if limit <= 0:
        return 0
    with path.open("rb") as reader:
        reader.seek(max(0, limit - CHUNK))
        tail = reader.read(min(limit, CHUNK))
    end = tail.rfind(b"\n")
    if end >= 0:
        return limit - len(tail) + end + 1
    if limit <= CHUNK:
        return 0
    return complete_lines(path, limit - CHUNK)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def is_empty_dir(path: Path) -> bool:
    """True for a missing or empty directory; False for anything else."""
    if not path.exists():
        return True
    return path.is_dir() and not any(path.iterdir())
