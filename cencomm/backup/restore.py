"""`cencomm restore SRC`: a backup back into an empty data directory and an empty database.

Nothing is written before the whole backup has been checked against its manifest (every file
there, none extra, each size and SHA-256 right) and the targets are found empty. The data
directory is then filled under a temporary name beside it and renamed into place last; on
PostgreSQL the dump is loaded in one transaction. A failure on the way leaves nothing behind.
The schema is upgraded to head when the server next starts (or by `cencomm migrate`).
Restoring into another kind of database than the backup's is not supported.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from cencomm.backup.files import (
    DIR_MODE,
    copy_file,
    fsync_dir,
    hash_file,
    is_empty_dir,
    private_dirs,
)
from cencomm.backup.manifest import (
    DATA_DIR,
    MANIFEST,
    FileEntry,
    Manifest,
    ManifestError,
    listed_tree,
    parse,
)
from cencomm.exits import EXIT_BAD_BACKUP, EXIT_NOT_EMPTY, CommandError
from cencomm.settings import Settings
from cencomm.settings_sources import redact_url
from cencomm.storage.backup import (
    load_postgres,
    postgres_has_tables,
    sqlite_file,
    sqlite_has_tables,
)
from cencomm.storage.db import is_sqlite
from cencomm.storage.failures import DatabaseFailure
from cencomm.storage.migrate import known_revision
from cencomm.storage.pg_tools import PgToolError


@dataclass(frozen=True, slots=True)
class RestoreSummary:
    manifest: Manifest
    data_dir: Path


def _bad(message: str) -> CommandError:
    return CommandError(f"backup refused, nothing was written: {message}", EXIT_BAD_BACKUP)


def check_backup(source: Path) -> Manifest:
    """The manifest of the backup at `source`, once every file matches it (blocking).

    Raises:
        CommandError (EXIT_BAD_BACKUP): missing, incomplete, altered or unreadable.
    """
    if not source.is_dir():
        raise _bad(f"no backup directory at {source}")
    try:
        text = (source / MANIFEST).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _bad(f"{source} has no {MANIFEST} (not a backup, or an incomplete one)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _bad(f"cannot read {source / MANIFEST}: {exc}") from None
    try:
        manifest = parse(text)
        found = listed_tree(source)
    except ManifestError as exc:
        raise _bad(str(exc)) from None
    listed = {f.path for f in manifest.files}
    if missing := sorted(listed - found):
        raise _bad(f"{len(missing)} file(s) missing, the first {missing[0]}")
    if extra := sorted(found - listed):
        raise _bad(f"{len(extra)} file(s) not in the manifest, the first {extra[0]}")
    for entry in manifest.files:
        try:
            copied = hash_file(source / entry.path)
        except OSError as exc:
            raise _bad(f"cannot read {entry.path}: {exc.strerror}") from None
        if (copied.size, copied.sha256) != (entry.size, entry.sha256):
            raise _bad(f"{entry.path} does not match the manifest (altered or damaged)")
    if manifest.alembic_revision is not None and not known_revision(manifest.alembic_revision):
        raise _bad(
            f"its schema revision {manifest.alembic_revision} is unknown to this cencomm; "
            f"restore it with cencomm {manifest.cencomm_version} or newer"
        )
    return manifest


async def _refuse_targets(settings: Settings, kind: str, data: Path) -> None:
    url = settings.database_url
    actual = "sqlite" if is_sqlite(url) else "postgresql"
    if kind != actual:
        raise CommandError(
            f"this is a {kind} backup and database.url is {actual}: restoring across database "
            "kinds is not supported"
        )
    if not is_empty_dir(data):
        raise CommandError(
            f"data directory {data} is not empty: restore needs a new or empty one; nothing "
            "was written",
            EXIT_NOT_EMPTY,
        )
    try:
        if actual == "sqlite":
            occupied = await asyncio.to_thread(sqlite_has_tables, sqlite_file(url))
        else:
            occupied = await postgres_has_tables(url)
    except (OSError, sqlite3.Error, DatabaseFailure, ValueError) as exc:
        raise CommandError(f"database {redact_url(url)}: {exc}") from None
    except Exception as exc:
        if type(exc).__module__.startswith("asyncpg"):  # refused login, no such database
            raise CommandError(f"database {redact_url(url)}: {exc}") from None
        raise
    if occupied:
        raise CommandError(
            f"database {redact_url(url)} already has tables: restore needs an empty database; "
            "nothing was written",
            EXIT_NOT_EMPTY,
        )


def _copy_verified(source: Path, target: Path, entry: FileEntry) -> None:
    copied = copy_file(source / entry.path, target)
    if (copied.size, copied.sha256) != (entry.size, entry.sha256):
        raise _bad(f"{entry.path} changed while it was restored")


async def restore_backup(settings: Settings, source: Path) -> RestoreSummary:
    """Restore the backup at `source`; see the module docstring.

    Raises:
        CommandError: EXIT_BAD_BACKUP (the backup), EXIT_NOT_EMPTY (a target), else failure.
    """
    manifest = await asyncio.to_thread(check_backup, source)
    data = settings.data.dir.resolve()
    await _refuse_targets(settings, manifest.database, data)
    private_dirs(data.parent)
    token = secrets.token_hex(4)
    staging = data.parent / f".{data.name}.restore-{token}"
    staging.mkdir(mode=DIR_MODE)
    # An SQLite file outside the data directory is staged beside its final name.
    outside: tuple[Path, Path] | None = None
    loaded = False  # PostgreSQL holds the restored tables
    try:
        for entry in manifest.files:
            if entry.path.startswith(f"{DATA_DIR}/"):
                relative = entry.path.removeprefix(f"{DATA_DIR}/")
                await asyncio.to_thread(_copy_verified, source, staging / relative, entry)
        if manifest.database == "sqlite":
            target = sqlite_file(settings.database_url).resolve()
            if data in target.parents:
                staged = staging / target.relative_to(data)
            else:
                private_dirs(target.parent)
                staged = target.with_name(f".{target.name}.restore-{token}")
                outside = (staged, target)
            database = next(f for f in manifest.files if f.path == manifest.database_file)
            await asyncio.to_thread(_copy_verified, source, staged, database)
        else:
            try:
                await load_postgres(settings.database_url, source / manifest.database_file)
            except PgToolError as exc:
                raise CommandError(f"the database was not restored: {exc}") from None
            loaded = True
        fsync_dir(staging)
        # Onto the missing or empty data directory (checked above): one rename.
        os.rename(staging, data)
        fsync_dir(data.parent)
        if outside is not None:
            os.replace(*outside)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if outside is not None:
            with contextlib.suppress(FileNotFoundError):
                outside[0].unlink()
        if loaded and isinstance(exc, Exception):
            # The one step that cannot be taken back here: say so rather than "nothing kept".
            raise CommandError(
                f"the database {redact_url(settings.database_url)} was restored but the data "
                f"directory was not ({exc}): drop and recreate the database before trying again"
            ) from None
        raise
    return RestoreSummary(manifest, data)
