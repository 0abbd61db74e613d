"""AttachmentStore: blob rows (one per content), attachment rows (one per group and content),
and the message links whose handling codes and hidden flags decide who may download."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, insert, or_, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cencomm.domain.attachments import Attachment, BlobStatus, StoredBlob
from cencomm.domain.errors import Conflict
from cencomm.domain.messages import AttachmentView
from cencomm.storage.tables import AttachmentRow, BlobRow, MessageAttachmentRow, MessageRow

_ATTACHMENT_COLUMNS = (
    AttachmentRow.id,
    AttachmentRow.group_id,
    AttachmentRow.sha256,
    AttachmentRow.size,
    AttachmentRow.name,
    AttachmentRow.content_type,
    AttachmentRow.uploader_id,
    AttachmentRow.created_at,
    BlobRow.status,
)


class ContentRace(Conflict):
    """Another transaction stored the same content (its blob row, or its attachment to the
    same group) first. The unit rolls back; a retry finds what the other one stored (a second
    race in a row answers a plain 409 `conflict`)."""


def _attachment(row: Any) -> Attachment:
    return Attachment(
        id=row[0],
        group_id=row[1],
        sha256=row[2],
        size=row[3],
        name=row[4],
        content_type=row[5],
        uploader_id=row[6],
        created_at=row[7],
        status=BlobStatus(row[8]),
    )


def _blob(row: BlobRow) -> StoredBlob:
    return StoredBlob(
        sha256=row.sha256,
        size=row.size,
        wrapped_key=row.wrapped_key,
        master_kid=row.master_kid,
        status=BlobStatus(row.status),
        scan_detail=row.scan_detail,
    )


class AttachmentStore:
    def __init__(self, session: Session) -> None:
        self._session = session

    # -- blobs ------------------------------------------------------------------------------

    def find_blob(self, sha256: str) -> StoredBlob | None:
        row = self._session.get(BlobRow, sha256)
        return None if row is None else _blob(row)

    def insert_blob(self, blob: StoredBlob, at: datetime) -> None:
        """Insert and flush: a concurrent insert of the same content fails here (`ContentRace`),
        so the caller that gets past this owns the blob's file until it commits."""
        row = BlobRow(
            sha256=blob.sha256,
            size=blob.size,
            wrapped_key=blob.wrapped_key,
            master_kid=blob.master_kid,
            status=blob.status.value,
            scan_detail=blob.scan_detail,
            scan_attempts=0,
            scanned_at=at if blob.status is not BlobStatus.PENDING else None,
            created_at=at,
        )
        self._session.add(row)
        try:
            self._session.flush()
        except IntegrityError as exc:
            raise ContentRace(f"blob {blob.sha256} was stored concurrently") from exc

    def pending_blobs(self, limit: int) -> list[StoredBlob]:
        rows = self._session.scalars(
            select(BlobRow)
            .where(BlobRow.status == BlobStatus.PENDING.value)
            .order_by(BlobRow.scan_attempts, BlobRow.created_at)
            .limit(limit)
        )
        return [_blob(row) for row in rows]

    def set_status(self, sha256: str, status: BlobStatus, detail: str | None, at: datetime) -> bool:
        """Record a scan outcome on a pending blob; False when it was settled already."""
        result = self._session.execute(
            update(BlobRow)
            .where(BlobRow.sha256 == sha256, BlobRow.status == BlobStatus.PENDING.value)
            .values(
                status=status.value,
                scan_detail=detail,
                scanned_at=at,
                scan_attempts=BlobRow.scan_attempts + 1,
            )
        )
        return bool(getattr(result, "rowcount", 0))

    def count_failed_scan(self, sha256: str, detail: str) -> None:
        self._session.execute(
            update(BlobRow)
            .where(BlobRow.sha256 == sha256)
            .values(scan_detail=detail[:200], scan_attempts=BlobRow.scan_attempts + 1)
        )

    def blob_keys_page(self, after: str | None, limit: int) -> list[StoredBlob]:
        query = select(BlobRow).order_by(BlobRow.sha256).limit(limit)
        if after is not None:
            query = query.where(BlobRow.sha256 > after)
        return [_blob(row) for row in self._session.scalars(query)]

    def blob_hashes_page(self, after: str | None, limit: int) -> list[str]:
        """The content hashes of stored blobs, in order, `limit` after `after`."""
        query = select(BlobRow.sha256).order_by(BlobRow.sha256).limit(limit)
        if after is not None:
            query = query.where(BlobRow.sha256 > after)
        return list(self._session.scalars(query))

    def update_wrapped_key(self, sha256: str, wrapped_key: bytes, master_kid: str) -> None:
        self._session.execute(
            update(BlobRow)
            .where(BlobRow.sha256 == sha256)
            .values(wrapped_key=wrapped_key, master_kid=master_kid)
        )

    # -- attachments ------------------------------------------------------------------------

    def _select(self) -> Any:
        return select(*_ATTACHMENT_COLUMNS).join(BlobRow, BlobRow.sha256 == AttachmentRow.sha256)

    def find(self, group_id: uuid.UUID, sha256: str) -> Attachment | None:
        row = (
            self._session.execute(
                self._select().where(
                    AttachmentRow.group_id == group_id, AttachmentRow.sha256 == sha256
                )
            )
        ).first()
        return None if row is None else _attachment(row)

    def insert(
        self,
        *,
        attachment_id: uuid.UUID,
        group_id: uuid.UUID,
        sha256: str,
        size: int,
        name: str,
        content_type: str,
        uploader_id: uuid.UUID,
        at: datetime,
    ) -> None:
        """Raises `ContentRace` when a concurrent upload attached this content to the group."""
        try:
            self._session.execute(
                insert(AttachmentRow).values(
                    id=attachment_id,
                    group_id=group_id,
                    sha256=sha256,
                    size=size,
                    name=name,
                    content_type=content_type,
                    uploader_id=uploader_id,
                    created_at=at,
                )
            )
        except IntegrityError as exc:
            raise ContentRace(f"attachment {sha256} was attached concurrently") from exc

    def group_usage(self, group_id: uuid.UUID) -> int:
        total = self._session.scalar(
            select(func.coalesce(func.sum(AttachmentRow.size), 0)).where(
                AttachmentRow.group_id == group_id
            )
        )
        return int(total or 0)

    @staticmethod
    def _visible(view: AttachmentView) -> Any:
        """The condition on an attachment row for the reader `view` describes.

        Decided by the messages that name it: a restricted reader needs one they may read and
        are shown; any other reader but a moderator loses what only hidden messages name.
        """
        conditions = []
        if not view.sees_infected:
            conditions.append(BlobRow.status != BlobStatus.INFECTED.value)
        if view.withheld or not view.sees_hidden:
            naming = (
                select(MessageAttachmentRow.attachment_id)
                .join(MessageRow, MessageRow.id == MessageAttachmentRow.message_id)
                .where(MessageAttachmentRow.attachment_id == AttachmentRow.id)
            )
            shown = naming
            if view.withheld:
                shown = shown.where(MessageRow.hc.not_in(sorted(view.withheld)))
            if not view.sees_hidden:
                shown = shown.where(MessageRow.hidden.is_(False))
            if view.withheld:
                conditions.append(exists(shown))
            else:
                conditions.append(or_(~exists(naming), exists(shown)))
        return and_(true(), *conditions)

    def find_visible(
        self, group_id: uuid.UUID, sha256: str, view: AttachmentView
    ) -> Attachment | None:
        """The group's attachment of this content if this reader may see it: one statement
        either way, so an attachment withheld from them costs what a missing one does."""
        row = (
            self._session.execute(
                self._select().where(
                    AttachmentRow.group_id == group_id,
                    AttachmentRow.sha256 == sha256,
                    self._visible(view),
                )
            )
        ).first()
        return None if row is None else _attachment(row)

    def list_page(
        self,
        group_id: uuid.UUID,
        *,
        before: tuple[datetime, uuid.UUID] | None,
        limit: int,
        view: AttachmentView,
    ) -> list[Attachment]:
        """Newest first, as the reader `view` describes may see them."""
        query = self._select().where(AttachmentRow.group_id == group_id, self._visible(view))
        if before is not None:
            at, attachment_id = before
            query = query.where(
                or_(
                    AttachmentRow.created_at < at,
                    and_(AttachmentRow.created_at == at, AttachmentRow.id < attachment_id),
                )
            )
        query = query.order_by(AttachmentRow.created_at.desc(), AttachmentRow.id.desc())
        rows = self._session.execute(query.limit(limit))
        return [_attachment(row) for row in rows]

    def in_group(
        self, group_id: uuid.UUID, sha256s: Iterable[str], view: AttachmentView
    ) -> list[Attachment]:
        """The group's attachments of these contents that the reader `view` describes sees."""
        rows = self._session.execute(
            self._select().where(
                AttachmentRow.group_id == group_id,
                AttachmentRow.sha256.in_(sorted(set(sha256s))),
                self._visible(view),
            )
        )
        return [_attachment(row) for row in rows]

    def holders(self, sha256: str) -> list[Attachment]:
        """Every group's attachment of this content (to report an infection to each group)."""
        rows = self._session.execute(self._select().where(AttachmentRow.sha256 == sha256))
        return [_attachment(row) for row in rows]
