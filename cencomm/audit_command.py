"""`cencomm audit verify`: kept apart from `commands` so the command loads only what it uses
(the database, the audit keys, the checkpoint file), not the whole server."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from cencomm.exits import EXIT_OK, CommandError
from cencomm.services.audit_verify import load_tree_head, verify_log
from cencomm.settings import Settings
from cencomm.storage.checkpoints import CheckpointFile, checkpoint_path
from cencomm.storage.db import Database
from cencomm.storage.failures import DatabaseFailure, DatabaseUnavailable
from cencomm.storage.keyring import load_audit_public_keys


async def audit_verify(settings: Settings, since_tree_head: Path | None = None) -> int:
    """Check the audit log; print a summary on stdout, or the first bad entry on stderr.

    Offline: only the database, and the audit public keys and the checkpoint file in the data
    directory, are used.
    """
    since = None
    if since_tree_head is not None:
        try:
            text = await asyncio.to_thread(since_tree_head.read_text, encoding="utf-8")
            since = load_tree_head(text)
        except OSError as exc:
            raise CommandError(f"tree head file {since_tree_head}: {exc.strerror}") from None
        except ValueError as exc:
            raise CommandError(f"tree head file {since_tree_head}: {exc}") from None
    keys = load_audit_public_keys(settings.data.dir)
    checkpoints = CheckpointFile(checkpoint_path(settings.data.dir))
    db = Database(settings.database_url, settings.database)
    try:
        report = await verify_log(db, keys, since, checkpoints)
    except (OSError, DatabaseFailure, DatabaseUnavailable) as exc:
        raise CommandError(f"cannot read the audit log: {exc.__cause__ or exc}") from None
    finally:
        await db.dispose()
    if not report.ok:
        raise CommandError(f"audit log is NOT intact: {report.problem}")
    summary = (
        f"audit log intact: {report.entries} entries, {report.tree_heads} signed tree heads, "
        f"root {report.root_hash.hex()}"
    )
    if since is not None:
        summary += f"; matches the saved tree head at size {since.tree_size}"
    if report.recorded_heads or report.unreadable_lines:
        summary += (
            f"; matches the {report.recorded_heads} tree heads recorded in {checkpoints.path}"
        )
        if report.unreadable_lines:
            summary += f" ({report.unreadable_lines} unreadable lines skipped)"
    else:
        summary += f"; no tree head recorded in {checkpoints.path} yet"
    sys.stdout.write(summary + "\n")
    return EXIT_OK
