"""Attachments: streamed, checked, encrypted uploads; member-only downloads; group listings.

An upload is checked in layers, cheapest first: declared type and name (before a byte is read),
then while streaming (size cap, magic bytes, UTF-8 text, markup polyglots, PDF active content),
then from the encrypted temporary blob (zip directory, image header). Only then is the blob
installed under its keyed-hash name, deduplicated across groups, and recorded with an audit
entry in one transaction.

Who may download: the group's members (everyone else gets 404, as for a group that does not
exist). Observers, who never receive TLP:AMBER+STRICT or TLP:RED content, may download an
attachment only when a message they may read names it; one named only by withheld messages,
or by no message yet, is 404 to them. Hiding a message hides what only it names from everyone
but the group's moderators (`AttachmentView` in domain/messages.py), until it is unhidden.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

from cencomm.crypto.blobcrypt import generate_key, wrap_key
from cencomm.domain.attachments import (
    Attachment,
    BlobStatus,
    ContentInspector,
    FileType,
    Kind,
    StoredBlob,
    check_extension,
    declared_type,
    parse_range,
    safe_name,
    type_mismatch,
)
from cencomm.domain.audit import AuditRecord
from cencomm.domain.clock import Clock
from cencomm.domain.errors import Conflict, Invalid, NotFound, TooLarge
from cencomm.domain.groups import GroupAccess
from cencomm.domain.ids import GroupId
from cencomm.domain.messages import attachment_view
from cencomm.domain.ooxml import inspect_ooxml
from cencomm.domain.users import Caller, Principal
from cencomm.services.attachment_blobs import BlobVault, Download
from cencomm.services.attachment_orphans import SweepReport, orphan_job, sweep_orphans
from cencomm.services.attachment_upkeep import scan_blob, scan_job, scan_pending
from cencomm.services.audit import AuditTrail
from cencomm.services.background import Job
from cencomm.services.groups import GroupService
from cencomm.services.images import check_image
from cencomm.services.scanner import Scanner
from cencomm.settings import AttachmentsSettings
from cencomm.storage.attachments import ContentRace
from cencomm.storage.blobs import BlobReader, BlobWriter
from cencomm.storage.db import Database
from cencomm.storage.failures import disk_unavailable
from cencomm.storage.unit import Unit

logger = logging.getLogger(__name__)

WRITE_BATCH = 1024 * 1024  # plaintext handed to the encrypting thread at a time


@dataclass(frozen=True, slots=True)
class UploadResult:
    attachment: Attachment
    created: bool


class AttachmentService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        audit: AuditTrail,
        groups: GroupService,
        settings: AttachmentsSettings,
        vault: BlobVault,
        scanner: Scanner,
    ) -> None:
        self._db = db
        self._clock = clock
        self._audit = audit
        self._groups = groups
        self._settings = settings
        self.vault = vault
        self.scanner = scanner

    # -- upload ----------------------------------------------------------------------------

    async def upload(
        self,
        caller: Caller,
        group_id: uuid.UUID,
        content_type: str | None,
        raw_name: str | None,
        chunks: AsyncIterator[bytes],
    ) -> UploadResult:
        """Stream an upload into an encrypted blob, check it, and attach it to the group.

        Raises:
            NotFound: the group is not visible to the caller.
            Forbidden / Conflict: observers; a group that is not active.
            UnsupportedMediaType: off the allow-list, or declared type, extension and content
                disagree (415).
            TooLarge: over `attachments.max_bytes`, or over the group's quota (413).
            Invalid: unsafe content (`unsafe-attachment`), an empty file, an unusable name,
                or content the scanner found infected (`attachment-infected`, kept quarantined).
        """
        principal = caller.principal
        if principal is None:
            raise NotFound("no such group")
        file_type = declared_type(content_type)
        name = safe_name(raw_name)
        check_extension(name, file_type)

        def can_post(unit: Unit) -> GroupAccess:
            access = self._groups.access(unit, principal, group_id)
            access.ensure_can_post()
            return access

        access = await self._db.read(can_post)
        key = generate_key()
        try:
            writer = await asyncio.to_thread(self.vault.files.new_writer, key)
            try:
                await self._receive(writer, file_type, chunks)
                sha256 = await asyncio.to_thread(writer.finish)
                await asyncio.to_thread(self._check_stored, writer, key, file_type)
                result, new_blob = await self._record(
                    caller, access, file_type, name, sha256, writer, key
                )
            finally:  # the partial file goes, whatever failed
                await asyncio.to_thread(writer.discard)
        except OSError as exc:
            failure = disk_unavailable(exc)
            if failure is None:
                raise
            logger.warning("upload refused: the blob directory failed: %s", exc)
            raise failure from exc
        if new_blob and self.scanner.enabled:
            await self.scan(sha256)
            found = await self._db.read(lambda unit: unit.attachments.find(group_id, sha256))
            assert found is not None  # noqa: S101 - committed above, never deleted
            result = UploadResult(found, result.created)
        if result.attachment.status is BlobStatus.INFECTED:
            raise Invalid(
                "the scanner found malware in this file; it is quarantined and reported to the "
                "group's moderators",
                slug="attachment-infected",
            )
        return result

    async def _receive(
        self, writer: BlobWriter, file_type: FileType, chunks: AsyncIterator[bytes]
    ) -> None:
        inspector = ContentInspector(file_type)
        limit = self._settings.max_bytes
        pending = bytearray()
        async for chunk in chunks:
            if inspector.size + len(chunk) > limit:
                raise _too_large(limit)
            inspector.feed(chunk)
            pending += chunk
            if len(pending) >= WRITE_BATCH:
                await asyncio.to_thread(writer.write, bytes(pending))
                pending.clear()
        if pending:
            await asyncio.to_thread(writer.write, bytes(pending))
        inspector.finish()

    def _check_stored(self, writer: BlobWriter, key: bytes, file_type: FileType) -> None:
        """Checks that need random access, done on the encrypted temporary blob (blocking)."""
        if file_type.kind not in (Kind.OOXML, Kind.IMAGE):
            return
        with writer.path.open("rb") as handle:
            reader = BlobReader(handle, key, writer.size)
            if file_type.kind is Kind.OOXML:
                actual = inspect_ooxml(reader.read_at, writer.size)
                if actual != file_type.media_type:
                    raise type_mismatch(f"declared {file_type.media_type} but it is {actual}")
            else:
                check_image(reader, file_type.media_type, self._settings.max_image_pixels)

    async def _record(
        self,
        caller: Caller,
        access: GroupAccess,
        file_type: FileType,
        name: str,
        sha256: str,
        writer: BlobWriter,
        key: bytes,
    ) -> tuple[UploadResult, bool]:
        """Attach the content to the group; store the blob unless the content is known.

        Two uploads of the same new content race on the blob row (or, to one group, on the
        attachment row): the loser's insert fails (`ContentRace`) and its retry finds the
        winner's.
        """
        group_id = access.group.id
        master = await asyncio.to_thread(self.vault.current_master)
        for attempt in (1, 2):
            try:
                return await self._record_once(
                    caller, group_id, file_type, name, sha256, writer, key, master
                )
            except ContentRace:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def _record_once(
        self,
        caller: Caller,
        group_id: GroupId,
        file_type: FileType,
        name: str,
        sha256: str,
        writer: BlobWriter,
        key: bytes,
        master: tuple[str, bytes],
    ) -> tuple[UploadResult, bool]:
        now = self._clock.now()

        def record(unit: Unit) -> tuple[UploadResult, bool]:
            store = unit.attachments
            existing = store.find(group_id, sha256)
            if existing is not None:  # the same content again: the first upload stands
                return UploadResult(existing, created=False), False
            quota = self._settings.group_quota_bytes
            new_blob = False
            if quota and store.group_usage(group_id) + writer.size > quota:
                raise TooLarge(
                    f"the group's attachments may use at most {quota} bytes",
                    slug="group-quota-exceeded",
                )
            if store.find_blob(sha256) is None:
                kid, master_key = master
                status = BlobStatus.PENDING if self.scanner.enabled else BlobStatus.CLEAN
                wrapped = wrap_key(master_key, kid, key, self.vault.context(sha256))
                blob = StoredBlob(sha256, writer.size, wrapped, kid, status, None)
                store.insert_blob(blob, now)
                # Holding the new row (not yet committed), no one else installs this content.
                # So the install happens inside the unit: a rename, not bulk I/O.
                self.vault.files.install(writer, sha256)
                new_blob = True
            try:
                attached = self._attach(
                    unit, caller, group_id, file_type, name, sha256, writer, now
                )
            except BaseException:
                if new_blob:
                    # The unit rolls back its blob row: its file goes too, while the row is
                    # still ours (a failed COMMIT leaves the file to the orphan sweep).
                    self.vault.files.remove(sha256)
                raise
            return attached, new_blob

        return await self._db.write(record)

    def _attach(
        self,
        unit: Unit,
        caller: Caller,
        group_id: GroupId,
        file_type: FileType,
        name: str,
        sha256: str,
        writer: BlobWriter,
        now: datetime,
    ) -> UploadResult:
        """The attachment row and its audit entry (in `record`'s unit)."""
        store = unit.attachments
        attachment_id = uuid.uuid4()
        store.insert(
            attachment_id=attachment_id,
            group_id=group_id,
            sha256=sha256,
            size=writer.size,
            name=name,
            content_type=file_type.media_type,
            uploader_id=caller.principal.user_id if caller.principal else uuid.UUID(int=0),
            at=now,
        )
        self._audit.append(
            unit,
            AuditRecord.by(
                caller,
                "attachment.upload",
                target_type="attachment",
                target_id=sha256,
                group_id=group_id,
                details={"sha256": sha256, "size": writer.size, "type": file_type.media_type},
            ),
        )
        created = store.find(group_id, sha256)
        assert created is not None  # noqa: S101 - inserted in this transaction
        return UploadResult(created, created=True)

    async def scan(self, sha256: str) -> BlobStatus:
        """Scan one pending blob now (the upkeep task retries the ones left pending)."""
        return await scan_blob(self._db, self._clock, self._audit, self.vault, self.scanner, sha256)

    async def scan_pending(self) -> int:
        """One pass over pending blobs; returns how many are still pending."""
        return await scan_pending(self._db, self._clock, self._audit, self.vault, self.scanner)

    def scan_job(self) -> Job:
        """The background retry of pending blobs (app.py runs it when a scanner is enabled)."""
        return scan_job(
            self._db,
            self._clock,
            self._audit,
            self.vault,
            self.scanner,
            self._settings.scan_retry_interval,
        )

    async def sweep_orphans(self, grace: float | None = None) -> SweepReport:
        """One orphan sweep now (`cencomm attachments sweep`); `grace` defaults to the setting."""
        grace = self._settings.orphan_grace if grace is None else grace
        return await sweep_orphans(self._db, self._audit, self.vault, grace)

    def orphan_job(self) -> Job:
        """The orphan-blob sweep (app.py runs it unless `orphan_sweep_interval` is 0)."""
        return orphan_job(
            self._db,
            self._audit,
            self.vault,
            self._settings.orphan_grace,
            self._settings.orphan_sweep_interval,
        )

    # -- reading ---------------------------------------------------------------------------

    async def _visible(
        self, principal: Principal, group_id: uuid.UUID, sha256: str
    ) -> tuple[GroupAccess, Attachment, StoredBlob]:

        def visible(unit: Unit) -> tuple[GroupAccess, Attachment, StoredBlob]:
            access = self._groups.access(unit, principal, group_id)
            store = unit.attachments
            attachment = store.find_visible(group_id, sha256.lower(), attachment_view(access))
            if attachment is None:
                raise NotFound("no such attachment")
            blob = store.find_blob(attachment.sha256)
            assert blob is not None  # noqa: S101 - foreign key
            return access, attachment, blob

        return await self._db.read(visible)

    async def list_attachments(
        self,
        principal: Principal,
        group_id: uuid.UUID,
        before: tuple[datetime, uuid.UUID] | None,
        limit: int,
    ) -> tuple[list[Attachment], bool]:
        """The group's attachments, newest first, as this reader may see them."""

        def listing(unit: Unit) -> tuple[list[Attachment], bool]:
            access = self._groups.access(unit, principal, group_id)
            items = unit.attachments.list_page(
                group_id, before=before, limit=limit, view=attachment_view(access)
            )
            return items, access.can_moderate

        return await self._db.read(listing)

    async def download(
        self,
        caller: Caller,
        group_id: uuid.UUID,
        sha256: str,
        range_header: str | None,
        preview: bool,
    ) -> Download:
        """Open an attachment for sending; audited before the first byte goes out.

        Raises:
            NotFound: not a member, no such attachment, or one this reader may not see.
            Conflict: `attachment-pending` (not scanned yet) or `attachment-quarantined`.
            Invalid: `preview-unavailable` for a preview of something that is not an image.
            RangeNotSatisfiable: the range starts past the end.
            AttachmentCorrupted: the stored blob fails its integrity check.
        """
        principal = caller.principal
        if principal is None:
            raise NotFound("no such group")
        _, attachment, blob = await self._visible(principal, group_id, sha256)
        if blob.status is BlobStatus.PENDING:
            raise Conflict(
                "the attachment has not been scanned yet; try again shortly",
                slug="attachment-pending",
            )
        if blob.status is BlobStatus.INFECTED:
            raise Conflict(
                f"the attachment is quarantined: {blob.scan_detail or 'malware found'}",
                slug="attachment-quarantined",
            )
        if preview and not attachment.content_type.startswith("image/"):
            raise Invalid(
                "previews exist for images only",
                slug="preview-unavailable",
            )
        span = None if preview else parse_range(range_header, attachment.size)
        reader = await asyncio.to_thread(self.vault.open_reader, blob)
        try:
            record = AuditRecord.by(
                caller,
                "attachment.download",
                target_type="attachment",
                target_id=attachment.sha256,
                group_id=GroupId(group_id),
                details={
                    "sha256": attachment.sha256,
                    "range": list(span) if span else None,
                    "preview": preview,
                },
            )
            await self._db.write(lambda unit: self._audit.append(unit, record))
            return await self.vault.open_body(
                attachment, reader, span, preview, self._settings.max_image_pixels
            )
        except BaseException:
            reader.close()
            raise


def _too_large(limit: int) -> TooLarge:
    return TooLarge(
        f"attachments are limited to {limit} bytes",
        slug="attachment-too-large",
    )
