"""The `cencomm backup` and `cencomm restore` commands: run, then one summary line on stdout."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

from cencomm.backup.create import create_backup
from cencomm.backup.restore import restore_backup
from cencomm.exits import EXIT_OK, CommandError
from cencomm.settings import Settings
from cencomm.settings_sources import redact_url
from cencomm.storage.failures import DatabaseFailure, DatabaseUnavailable
from cencomm.storage.keyring import KeyringError
from cencomm.storage.pg_tools import PgToolError


async def backup(settings: Settings, dest: Path) -> int:
    """Copy the server's state into the new directory `dest` (the server may keep running)."""
    try:
        summary = await create_backup(settings, dest)
    except (PgToolError, KeyringError) as exc:
        raise CommandError(f"backup failed, {dest} not written: {exc}") from None
    except (OSError, sqlite3.Error, DatabaseFailure, DatabaseUnavailable) as exc:
        url = redact_url(settings.database_url)
        reason = str(getattr(exc, "orig", None) or exc.__cause__ or exc).splitlines()[0]
        raise CommandError(f"backup failed, {dest} not written ({url}): {reason}") from None
    manifest = summary.manifest
    head = manifest.tree_head
    sys.stdout.write(
        f"backup written to {summary.path}: {manifest.database} database at revision "
        f"{manifest.alembic_revision}, {manifest.blobs} attachment blobs, "
        f"{len(manifest.files)} files, audit tree head "
        f"{'none yet' if head is None else f'{head.tree_size} (root {head.root_hash.hex()})'}; "
        "it holds the server's private keys: keep it encrypted and access-controlled\n"
    )
    return EXIT_OK


async def restore(settings: Settings, source: Path) -> int:
    """Restore the backup at `source` into the configured (empty) data directory and database."""
    try:
        summary = await restore_backup(settings, source)
    except OSError as exc:
        raise CommandError(f"restore failed, nothing kept: {exc}") from None
    manifest = summary.manifest
    head = manifest.tree_head
    sys.stdout.write(
        f"restored the backup of {manifest.created_at.isoformat()} into {summary.data_dir} and "
        f"{redact_url(settings.database_url)}: {manifest.blobs} attachment blobs, audit tree "
        f"head {'none' if head is None else head.tree_size}; `cencomm serve` upgrades the "
        "schema to head, `cencomm audit verify` checks the log\n"
    )
    return EXIT_OK
