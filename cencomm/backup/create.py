"""`cencomm backup DEST`: one consistent copy of a running server's state.

Order matters, because the server keeps writing:

1. The checkpoint file's length is taken first: every tree head recorded in it by then was
   committed before it was recorded, so the snapshot taken next holds it (the copy stops there;
   a head recorded later could be over entries the snapshot lacks, and `audit verify` on the
   restored copy would rightly call that a lost log).
2. The database: one snapshot (SQLite backup API, or pg_dump of an exported snapshot), and in
   it the blobs it names, their master key ids and the newest signed tree head.
3. The blobs the snapshot names. A blob file is renamed into place before its row commits and
   is never rewritten or removed while a row names it, so every one is there, unchanged.
   Files no row of the snapshot names (uploads committed later, or left by a rolled-back one)
   are not copied.
4. Everything else in the data directory (the keys above all). Keys are only ever added, so a
   copy taken after the snapshot holds every key it needs; that is checked for master keys.

All of it goes to a temporary directory beside DEST, renamed to DEST at the very end: a failed
or interrupted backup leaves no DEST that looks whole.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cencomm import __version__
from cencomm.backup.files import (
    DIR_MODE,
    Copied,
    complete_lines,
    copy_file,
    fsync_dir,
    hash_file,
    is_empty_dir,
    private_dirs,
)
from cencomm.backup.manifest import (
    DATA_DIR,
    DATABASE_DIR,
    DATABASE_FILES,
    MANIFEST,
    FileEntry,
    Manifest,
)
from cencomm.exits import EXIT_NOT_EMPTY, CommandError
from cencomm.settings import Settings
from cencomm.storage.backup import snapshot, sqlite_file
from cencomm.storage.blobs import BlobFiles
from cencomm.storage.checkpoints import CHECKPOINT_FILE, checkpoint_path
from cencomm.storage.db import is_sqlite
from cencomm.storage.keyring import master_key_ids, read_name_key
from cencomm.storage.snapshots import SnapshotFacts

logger = logging.getLogger(__name__)

SQLITE_SIDE_FILES = ("", "-wal", "-shm", "-journal")


@dataclass(frozen=True, slots=True)
class BackupSummary:
    path: Path
    manifest: Manifest


def _refuse_destination(dest: Path, data_dir: Path) -> None:
    if not is_empty_dir(dest):
        raise CommandError(
            f"backup destination {dest} exists and is not an empty directory; nothing was "
            "written (give a new path)",
            EXIT_NOT_EMPTY,
        )
    resolved, data = dest.resolve(), data_dir.resolve()
    if resolved == data or data in resolved.parents:
        raise CommandError(f"backup destination {dest} is inside the data directory {data_dir}")


def _skipped(settings: Settings) -> set[Path]:
    """Files of the data directory copied another way (or not at all): the SQLite database and
    its side files, the checkpoint file. The blob directory is skipped whole."""
    data = settings.data.dir.resolve()
    skipped = {checkpoint_path(data)}
    if is_sqlite(settings.database_url):
        database = sqlite_file(settings.database_url).resolve()
        skipped |= {database.with_name(database.name + s) for s in SQLITE_SIDE_FILES}
    return skipped


class _Writer:
    """Copies into the temporary backup directory and remembers every file for the manifest."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: list[FileEntry] = []

    def add(self, relative: str, copied: Copied) -> None:
        self.files.append(FileEntry(relative, copied.size, copied.sha256))

    def copy(self, source: Path, relative: str, limit: int | None = None) -> None:
        self.add(relative, copy_file(source, self.root / relative, limit))


def _copy_blobs(writer: _Writer, data: Path, facts: SnapshotFacts) -> None:
    if not facts.blobs:
        return
    missing_keys = {kid for _, kid in facts.blobs} - master_key_ids(data)
    if missing_keys:
        raise CommandError(
            f"attachment master key(s) {', '.join(sorted(missing_keys))} named by the database "
            f"are not in {data / 'keys' / 'master'}: were they deleted?"
        )
    files = BlobFiles(data, read_name_key(data))
    for sha256, _ in facts.blobs:
        path = files.path_for(sha256)
        if not path.is_file():
            raise CommandError(f"the blob file of attachment {sha256} is missing ({path})")
        writer.copy(path, f"{DATA_DIR}/{path.relative_to(data).as_posix()}")


def _copy_rest(writer: _Writer, data: Path, skipped: set[Path]) -> None:
    for directory, dirnames, filenames in os.walk(data):
        here = Path(directory)
        if here == data:
            dirnames[:] = [d for d in dirnames if d != "blobs"]  # copied from the snapshot's list
        dirnames.sort()
        for name in sorted(filenames):
            path = here / name
            if path in skipped:
                continue
            if path.is_symlink() or not path.is_file():
                logger.warning("not backed up (not a regular file): %s", path)
                continue
            writer.copy(path, f"{DATA_DIR}/{path.relative_to(data).as_posix()}")


async def create_backup(settings: Settings, dest: Path) -> BackupSummary:
    """Copy the server's state into the new directory `dest`; see the module docstring.

    Raises:
        CommandError: `dest` is not new or empty (EXIT_NOT_EMPTY), or the copy failed.
    """
    data, dest, temporary = await asyncio.to_thread(_prepare, settings, dest)
    try:
        manifest = await _fill(settings, data, temporary)
        await asyncio.to_thread(_finish, manifest, temporary, dest)
    except BaseException:
        await asyncio.to_thread(shutil.rmtree, temporary, ignore_errors=True)
        raise
    return BackupSummary(dest, manifest)


def _prepare(settings: Settings, dest: Path) -> tuple[Path, Path, Path]:
    """The data directory, the destination and the new temporary directory beside it."""
    data = settings.data.dir.resolve()
    if not data.is_dir():
        raise CommandError(f"data directory {settings.data.dir} does not exist")
    _refuse_destination(dest, data)
    dest = dest.resolve()
    private_dirs(dest.parent)
    temporary = dest.parent / f".{dest.name}.partial-{secrets.token_hex(4)}"
    temporary.mkdir(mode=DIR_MODE)
    return data, dest, temporary


def _finish(manifest: Manifest, temporary: Path, dest: Path) -> None:
    path = temporary / MANIFEST
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(manifest.dumps())
        handle.flush()
        os.fsync(handle.fileno())
    fsync_dir(temporary)
    if dest.exists():
        dest.rmdir()  # empty (checked): the rename takes its place
    os.rename(temporary, dest)
    fsync_dir(dest.parent)


async def _fill(settings: Settings, data: Path, root: Path) -> Manifest:
    writer = _Writer(root)
    checkpoints = checkpoint_path(data)
    # Before the snapshot (see the module docstring, step 1).
    limit = await asyncio.to_thread(_size, checkpoints)
    database_dir = root / DATABASE_DIR
    await asyncio.to_thread(private_dirs, database_dir)
    copy, facts = await snapshot(settings.database_url, settings.database, database_dir)
    kind = "sqlite" if is_sqlite(settings.database_url) else "postgresql"
    writer.add(f"{DATABASE_DIR}/{DATABASE_FILES[kind]}", await asyncio.to_thread(hash_file, copy))
    if limit:
        whole = await asyncio.to_thread(complete_lines, checkpoints, limit)
        await asyncio.to_thread(writer.copy, checkpoints, f"{DATA_DIR}/{CHECKPOINT_FILE}", whole)
    await asyncio.to_thread(_copy_blobs, writer, data, facts)
    await asyncio.to_thread(_copy_rest, writer, data, _skipped(settings))
    return Manifest(
        cencomm_version=__version__,
        created_at=datetime.now(UTC),
        database=kind,
        alembic_revision=facts.revision,
        tree_head=facts.tree_head,
        blobs=len(facts.blobs),
        files=tuple(writer.files),
    )


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0
