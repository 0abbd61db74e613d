"""MessageBatchStore: the statements of one batched message write (the group-commit writer)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, text, tuple_, update
from sqlalchemy.orm import Session

from cencomm.storage.tables import (
    GroupRow,
    MessageAttachmentRow,
    MessageRow,
    SeizureItemRow,
    SeizureReportRow,
    SeizureTransitRow,
)


def find_by_cids(
    connection: Connection, pairs: Iterable[tuple[uuid.UUID, str]]
) -> dict[tuple[uuid.UUID, str], tuple[uuid.UUID, int, datetime, bytes]]:
    """Existing messages by (sender, cid): id, seq, created_at, JWS hash."""
    keys = list(pairs)
    if not keys:
        return {}
    rows = connection.execute(
        select(
            MessageRow.sender_id,
            MessageRow.cid,
            MessageRow.id,
            MessageRow.seq,
            MessageRow.created_at,
            MessageRow.jws_sha256,
        ).where(tuple_(MessageRow.sender_id, MessageRow.cid).in_(keys))
    )
    return {(r[0], r[1]): (r[2], r[3], r[4], r[5]) for r in rows.all()}


def take_seqs(connection: Connection, group_id: uuid.UUID, count: int) -> int | None:
    """Reserve `count` seqs of an active group; returns the last one, None if not active.

    The UPDATE locks the group row until commit, so seqs follow commit order with no gap.
    """
    result = connection.execute(
        update(GroupRow)
        .where(GroupRow.id == group_id, GroupRow.status == "active")
        .values(last_seq=GroupRow.last_seq + count)
        .returning(GroupRow.last_seq)
    )
    return result.scalar_one_or_none()


def insert_messages(
    connection: Connection,
    rows: Sequence[dict[str, Any]],
    reports: Sequence[dict[str, Any]],
    items: Sequence[dict[str, Any]],
    links: Sequence[tuple[uuid.UUID, uuid.UUID]],
    transit: Sequence[dict[str, Any]] = (),
) -> None:
    """Messages, their seizure rows and their attachment links, each in one executemany."""
    if rows:
        connection.execute(insert(MessageRow), list(rows))
    if reports:
        connection.execute(insert(SeizureReportRow), list(reports))
    if items:
        connection.execute(insert(SeizureItemRow), list(items))
    if transit:
        connection.execute(insert(SeizureTransitRow), list(transit))
    if links:
        connection.execute(
            insert(MessageAttachmentRow),
            [{"message_id": m, "attachment_id": a} for m, a in links],
        )


def index_for_search(connection: Connection, entries: Sequence[tuple[uuid.UUID, str]]) -> None:
    """SQLite keeps an FTS5 table beside; PostgreSQL indexes `search_text` itself."""
    if entries and connection.dialect.name == "sqlite":
        connection.execute(
            text("INSERT INTO message_search (search_text, message_id) VALUES (:t, :m)"),
            [{"t": words, "m": message_id.hex} for message_id, words in entries],
        )


class MessageBatchStore:
    """Many posts at once: each statement is one `executemany` for the whole batch."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def find_by_cids(
        self, pairs: Iterable[tuple[uuid.UUID, str]]
    ) -> dict[tuple[uuid.UUID, str], tuple[uuid.UUID, int, datetime, bytes]]:
        return find_by_cids(self._session.connection(), pairs)

    def take_seqs(self, group_id: uuid.UUID, count: int) -> int | None:
        return take_seqs(self._session.connection(), group_id, count)

    def insert_messages(
        self,
        rows: Sequence[dict[str, Any]],
        reports: Sequence[dict[str, Any]],
        items: Sequence[dict[str, Any]],
        links: Sequence[tuple[uuid.UUID, uuid.UUID]],
        transit: Sequence[dict[str, Any]] = (),
    ) -> None:
        insert_messages(self._session.connection(), rows, reports, items, links, transit)

    def index_for_search(self, entries: Sequence[tuple[uuid.UUID, str]]) -> None:
        index_for_search(self._session.connection(), entries)
