"""Encrypted attachment blobs on disk: streamed in through a temporary file, read back by chunk.

Layout inside the data directory (every directory 0700, every file 0600)::

    blobs/tmp/<random>.part        uploads in progress (encrypted already; removed on failure)
    blobs/<2 hex>/<64 hex>         one file per distinct content, named storage_name(name key,
                                   sha256): a keyed hash that reveals nothing without the key

Nothing on disk is ever named from user input, and no plaintext is ever written: the writer
hashes and encrypts in one pass. Every method here is blocking; services call them in a thread.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from cencomm.crypto.blobcrypt import (
    CHUNK_SIZE,
    HEADER_SIZE,
    BlobCorrupted,
    BlobEncryptor,
    chunk_count,
    chunk_offset,
    ciphertext_size,
    decrypt_chunk,
    storage_name,
)

TEMP_SUFFIX = ".part"


class BlobFiles:
    """The blob directory of one data directory."""

    def __init__(self, data_dir: Path, name_key: bytes) -> None:
        self.root = data_dir / "blobs"
        self.temp_dir = self.root / "tmp"
        self._name_key = name_key

    def ensure_dirs(self) -> None:
        for path in (self.root, self.temp_dir):
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(path, 0o700)

    def storage_name(self, sha256_hex: str) -> str:
        return storage_name(self._name_key, bytes.fromhex(sha256_hex))

    def path_for(self, sha256_hex: str) -> Path:
        name = self.storage_name(sha256_hex)
        return self.root / name[:2] / name

    def new_writer(self, key: bytes) -> BlobWriter:
        self.ensure_dirs()
        path = self.temp_dir / f"{secrets.token_hex(16)}{TEMP_SUFFIX}"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        return BlobWriter(path, os.fdopen(fd, "wb"), key)

    def install(self, writer: BlobWriter, sha256_hex: str) -> None:
        """Move a finished temporary blob to its final name (atomically, replacing a stale one
        left by a crash: the caller holds the blob's database row, so no one else writes it)."""
        final = self.path_for(sha256_hex)
        final.parent.mkdir(mode=0o700, exist_ok=True)
        os.replace(writer.path, final)
        # Its age now counts from the install, just before the row commits: the orphan sweep
        # spares files younger than its grace, so a slow upload's file is never swept.
        os.utime(final)
        writer.installed = True

    def remove(self, sha256_hex: str) -> None:
        """Delete an installed blob whose row is being rolled back (the caller holds that row,
        so no one else installed the same content meanwhile)."""
        self.path_for(sha256_hex).unlink(missing_ok=True)

    def open(self, sha256_hex: str) -> BinaryIO:
        return self.path_for(sha256_hex).open("rb")

    def stale_files(self, older_than_seconds: float) -> tuple[list[Path], list[Path]]:
        """Blob files and temporary files not modified for `older_than_seconds`:
        (blob files, temporary files). Whether a blob file is still wanted is the caller's
        question (its database row)."""
        cutoff = time.time() - older_than_seconds
        blobs: list[Path] = []
        temps: list[Path] = []
        if not self.root.is_dir():
            return blobs, temps
        for folder in self.root.iterdir():
            if not folder.is_dir():
                continue
            into = temps if folder == self.temp_dir else blobs
            for path in folder.iterdir():
                try:
                    if path.stat().st_mtime <= cutoff:
                        into.append(path)
                except FileNotFoundError:
                    continue
        return blobs, temps

    def sweep_temp(self, older_than_seconds: float) -> int:
        """Remove temporary files a crashed upload left behind; returns how many."""
        if not self.temp_dir.is_dir():
            return 0
        cutoff = time.time() - older_than_seconds
        removed = 0
        for path in self.temp_dir.glob(f"*{TEMP_SUFFIX}"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed


class BlobWriter:
    """Hashes plaintext and writes it encrypted to a temporary file, one pass, bounded memory."""

    def __init__(self, path: Path, handle: BinaryIO, key: bytes) -> None:
        self.path = path
        self._handle = handle
        self._encryptor = BlobEncryptor(key)
        self._hash = hashlib.sha256()
        self.size = 0
        self.installed = False
        self._handle.write(self._encryptor.header())

    def write(self, data: bytes) -> None:
        self._hash.update(data)
        self.size += len(data)
        for sealed in self._encryptor.update(data):
            self._handle.write(sealed)

    def finish(self) -> str:
        """Seal the final chunk, flush to disk and return the plaintext's SHA-256 (hex)."""
        self._handle.write(self._encryptor.finalize())
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        return self._hash.hexdigest()

    def discard(self) -> None:
        """Close and delete the temporary file unless it was installed (idempotent)."""
        # Closing flushes the buffer, which fails again on a full disk (the descriptor is
        # closed all the same): the file must go anyway.
        with contextlib.suppress(OSError):
            self._handle.close()
        if not self.installed:
            self.path.unlink(missing_ok=True)


class BlobReader:
    """Random access to the plaintext of a stored blob, one authenticated chunk at a time."""

    def __init__(self, handle: BinaryIO, key: bytes, size: int) -> None:
        self._handle = handle
        self._key = key
        self.size = size
        self._chunks = chunk_count(size)
        handle.seek(0, os.SEEK_END)
        if handle.tell() != ciphertext_size(size):
            raise BlobCorrupted("the stored blob does not have the size its record says")
        handle.seek(0)
        self._header = handle.read(HEADER_SIZE)
        self._cached: tuple[int, bytes] | None = None

    def close(self) -> None:
        self._handle.close()

    def chunk(self, index: int) -> bytes:
        """The plaintext of chunk `index` (authenticated, or BlobCorrupted)."""
        if self._cached is not None and self._cached[0] == index:
            return self._cached[1]
        start = chunk_offset(index)
        end = min(chunk_offset(index + 1), ciphertext_size(self.size))
        self._handle.seek(start)
        sealed = self._handle.read(end - start)
        plain = decrypt_chunk(self._key, self._header, index, sealed, index == self._chunks - 1)
        self._cached = (index, plain)
        return plain

    def read_at(self, offset: int, length: int) -> bytes:
        """Up to `length` plaintext bytes from `offset` (fewer only at the end)."""
        end = min(offset + length, self.size)
        if offset >= end:
            return b""
        return b"".join(self.iter_range(offset, end - 1))

    def iter_range(self, first: int, last: int) -> Iterator[bytes]:
        """Plaintext bytes [first, last], chunk by chunk."""
        for index in range(first // CHUNK_SIZE, last // CHUNK_SIZE + 1):
            plain = self.chunk(index)
            base = index * CHUNK_SIZE
            yield plain[max(first - base, 0) : last - base + 1]
