"""The orphan-blob sweep: blob files that no row names, and temporary files, are removed.

An upload installs its blob file inside the transaction that inserts the blob's row, just before
the commit (services.attachments); a process killed between the two leaves a file no row names,
and one killed while receiving leaves a temporary file. Nothing else ever reads them. The sweep
removes such files once they are older than a grace period (`attachments.orphan_grace`), so an
upload in flight is never swept: its file's age counts from the install. Each pass that removes
something logs it and writes one `attachment.orphans_removed` audit entry.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from cencomm.domain.audit import AuditRecord
from cencomm.services.attachment_blobs import BlobVault
from cencomm.services.audit import AuditTrail
from cencomm.services.background import Every, Job
from cencomm.storage.db import Database
from cencomm.storage.unit import Unit

logger = logging.getLogger(__name__)

HASH_PAGE = 5000
# Storage names listed in one audit entry; a larger pass lists this many and counts the rest.
AUDIT_NAMES = 100


@dataclass(frozen=True, slots=True)
class SweepReport:
    """What one pass did: orphan blob files and temporary files removed, blob files kept."""

    blobs_removed: int
    temp_removed: int
    kept: int


async def _stored_names(db: Database, vault: BlobVault) -> set[str]:
    """The storage names of every blob that has a row."""
    names: set[str] = set()
    after: str | None = None
    while True:
        page = await db.read(partial(_hashes_page, after))
        names.update(vault.files.storage_name(sha256) for sha256 in page)
        if len(page) < HASH_PAGE:
            return names
        after = page[-1]


def _hashes_page(after: str | None, unit: Unit) -> list[str]:
    return unit.attachments.blob_hashes_page(after, HASH_PAGE)


def _remove(paths: list[Path]) -> list[Path]:
    """Unlink `paths` (blocking); returns those removed (another sweeper may be first)."""
    removed = []
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed.append(path)
    return removed


async def sweep_orphans(
    db: Database, audit: AuditTrail, vault: BlobVault, grace: float
) -> SweepReport:
    """Remove blob files no row names and temporary files, both older than `grace` seconds.

    The files are listed before the rows are read: a file installed after the listing is not a
    candidate, and one whose row committed before the reading is kept.
    """
    old_blobs, old_temps = await asyncio.to_thread(vault.files.stale_files, grace)
    if not old_blobs and not old_temps:
        return SweepReport(0, 0, 0)
    known = await _stored_names(db, vault) if old_blobs else set()
    orphans = [path for path in old_blobs if path.name not in known]
    removed = await asyncio.to_thread(_remove, orphans)
    temps = await asyncio.to_thread(_remove, old_temps)
    report = SweepReport(len(removed), len(temps), len(old_blobs) - len(orphans))
    if removed or temps:
        names = sorted(path.name for path in removed)
        logger.warning(
            "removed orphan attachment files",
            extra={"blob_files": report.blobs_removed, "temp_files": report.temp_removed},
        )
        record = AuditRecord(
            action="attachment.orphans_removed",
            target_type="attachment",
            details={
                "blob_files": report.blobs_removed,
                "temp_files": report.temp_removed,
                "storage_names": names[:AUDIT_NAMES],
                "grace_seconds": grace,
            },
        )
        await db.write(lambda unit: audit.append(unit, record))
    return report


def orphan_job(
    db: Database, audit: AuditTrail, vault: BlobVault, grace: float, interval: float
) -> Job:
    """The sweep at start, then every `interval` seconds."""

    async def sweep_round() -> None:
        await sweep_orphans(db, audit, vault, grace)

    return Job("attachment-orphans", Every(interval, immediately=True), sweep_round)
