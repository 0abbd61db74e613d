"""Attachment upkeep: scanning pending blobs (now and in the background) and re-wrapping blob
keys under a new master key.

An infected blob is quarantined: never served, listed with its status to the moderators of
every group that holds it, and reported with one `attachment.infected` audit entry per group.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from functools import partial

from cencomm.crypto.blobcrypt import BlobCorrupted, unwrap_key, wrap_key
from cencomm.domain.attachments import AttachmentCorrupted, BlobStatus, StoredBlob
from cencomm.domain.audit import AuditRecord
from cencomm.domain.clock import Clock
from cencomm.domain.ids import GroupId
from cencomm.services.attachment_blobs import BlobVault
from cencomm.services.audit import AuditTrail
from cencomm.services.background import Every, Job
from cencomm.services.scanner import Scanner, ScannerUnavailable
from cencomm.storage.db import Database
from cencomm.storage.unit import Unit

logger = logging.getLogger(__name__)

SCAN_BATCH = 50
REWRAP_BATCH = 500


async def scan_blob(
    db: Database,
    clock: Clock,
    audit: AuditTrail,
    vault: BlobVault,
    scanner: Scanner,
    sha256: str,
) -> BlobStatus:
    """Scan one blob if it is still pending and record the verdict; returns its status.

    A scanner that gives no verdict leaves the blob pending (fail closed).
    """
    blob = await db.read(lambda unit: unit.attachments.find_blob(sha256))
    if blob is None or blob.status is not BlobStatus.PENDING:
        return blob.status if blob is not None else BlobStatus.PENDING
    try:
        verdict = await scanner.scan(vault.plaintext(blob))
    except (ScannerUnavailable, AttachmentCorrupted, BlobCorrupted) as exc:
        logger.warning("attachment scan failed; the blob stays pending", extra={"reason": str(exc)})
        reason = str(exc)
        await db.write(lambda unit: unit.attachments.count_failed_scan(sha256, reason))
        return BlobStatus.PENDING
    status = BlobStatus.CLEAN if verdict.clean else BlobStatus.INFECTED

    def record(unit: Unit) -> None:
        store = unit.attachments
        changed = store.set_status(sha256, status, verdict.signature, clock.now())
        if changed and status is BlobStatus.INFECTED:
            logger.warning("attachment quarantined", extra={"signature": verdict.signature})
            audit.append_many(
                unit,
                [
                    AuditRecord(
                        action="attachment.infected",
                        target_type="attachment",
                        target_id=sha256,
                        group_id=GroupId(holder.group_id),
                        details={"sha256": sha256, "signature": verdict.signature},
                    )
                    for holder in store.holders(sha256)
                ],
            )

    await db.write(record)
    return status


async def scan_pending(
    db: Database, clock: Clock, audit: AuditTrail, vault: BlobVault, scanner: Scanner
) -> int:
    """One pass over the pending blobs; returns how many are still pending after it."""
    if not scanner.enabled:
        return 0
    pending = await db.read(lambda unit: unit.attachments.pending_blobs(SCAN_BATCH))
    left = 0
    for blob in pending:
        status = await scan_blob(db, clock, audit, vault, scanner, blob.sha256)
        left += status is BlobStatus.PENDING
    return left


def scan_job(
    db: Database,
    clock: Clock,
    audit: AuditTrail,
    vault: BlobVault,
    scanner: Scanner,
    interval: float,
) -> Job:
    """Retry pending blobs every `interval` seconds; the first pass, at start, also removes the
    temporary files an interrupted upload left behind."""
    swept = False

    async def scan_round() -> None:
        nonlocal swept
        if not swept:
            swept = True
            await asyncio.to_thread(vault.files.sweep_temp, 3600.0)
        await scan_pending(db, clock, audit, vault, scanner)

    return Job("attachment-scans", Every(interval, immediately=True), scan_round)


@dataclass(frozen=True, slots=True)
class RewrapReport:
    master_kid: str
    rewrapped: int
    total: int


async def rewrap_blob_keys(db: Database, vault: BlobVault) -> RewrapReport:
    """Re-wrap every blob key under the current master key; blob files are not touched.

    Raises:
        BlobCorrupted: a wrapped key does not open with the master key it names.
    """
    current, by_kid = await asyncio.to_thread(vault.masters)
    rewrapped = total = 0
    after: str | None = None

    def rewrap_page(after: str | None, unit: Unit) -> tuple[list[StoredBlob], int]:
        """One page in one transaction; returns the page and how many of it were re-wrapped."""
        store = unit.attachments
        page = store.blob_keys_page(after, REWRAP_BATCH)
        done = 0
        for blob in page:
            if blob.master_kid == current.kid:
                continue
            old = by_kid.get(blob.master_kid)
            if old is None:
                raise BlobCorrupted(f"master key {blob.master_kid} is missing")
            context = vault.context(blob.sha256)
            key = unwrap_key(old.key, old.kid, blob.wrapped_key, context)
            wrapped = wrap_key(current.key, current.kid, key, context)
            store.update_wrapped_key(blob.sha256, wrapped, current.kid)
            done += 1
        return page, done

    while True:
        page, done = await db.write(partial(rewrap_page, after))
        total += len(page)
        rewrapped += done
        if len(page) < REWRAP_BATCH:
            return RewrapReport(current.kid, rewrapped, total)
        after = page[-1].sha256
