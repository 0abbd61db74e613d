"""MessageBatchStore: the statements of one batched message write (the group-commit writer).

The writer hands over typed `NewMessage` values; the rows of every table a post touches are
made here, and each table gets one `executemany` for the whole batch.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.orm import Session

from cencomm.domain.ids import MessageId
from cencomm.domain.posts import ExistingPost, NewMessage, SequencedMessage
from cencomm.storage.analytics import insert_seizure_tables
from cencomm.storage.tables import (
    GroupRow,
    MessageAttachmentRow,
    MessageRow,
    core_table,
)

# The writer's statements, built once: building one and computing its cache key costs more than
# running it (about 0.1 ms each), and the writer runs them for every batch. Core tables, so
# that no ORM step runs either.
_messages = core_table(MessageRow)
_groups = core_table(GroupRow)
_FIND_BY_CIDS = select(
    _messages.c.sender_id,
    _messages.c.cid,
    _messages.c.id,
    _messages.c.seq,
    _messages.c.created_at,
    _messages.c.jws_sha256,
).where(
    # `sender_id IN (...) AND cid IN (...)` lets SQLite use the unique (sender_id, cid) index;
    # a row-value `(sender_id, cid) IN (...)` made it scan the whole message table.
    _messages.c.sender_id.in_(bindparam("senders", expanding=True)),
    _messages.c.cid.in_(bindparam("cids", expanding=True)),
)
_TAKE_SEQS = (
    update(_groups)
    .where(_groups.c.id == bindparam("group"), _groups.c.status == "active")
    .values(last_seq=_groups.c.last_seq + bindparam("taken"))
    .returning(_groups.c.last_seq)
)
_INSERT_MESSAGES = insert(_messages)
_INSERT_ATTACHMENT_LINKS = insert(core_table(MessageAttachmentRow))
_INDEX_FOR_SEARCH = text("INSERT INTO message_search (search_text, message_id) VALUES (:t, :m)")


def _message_row(entry: SequencedMessage, at: datetime) -> dict[str, Any]:
    message = entry.message
    return {
        "id": message.id,
        "group_id": message.group_id,
        "seq": entry.seq,
        "sender_id": message.sender_id,
        "sender_organization_id": message.sender_organization_id,
        "kid": message.kid,
        "cid": message.cid,
        "typ": message.typ,
        "hc": message.hc,
        "jws": message.jws,
        "jws_sha256": message.jws_sha256,
        "search_text": message.search_text,
        "reply_to": message.reply_to,
        "created_at": at,
        "hidden": False,
    }


class MessageBatchStore:
    """Many posts at once: each statement is one `executemany` for the whole batch, on the
    Core connection (plain statements: no ORM step on the hot path)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def find_by_cids(
        self, pairs: Iterable[tuple[uuid.UUID, str]]
    ) -> dict[tuple[uuid.UUID, str], ExistingPost]:
        """Messages already stored under these (sender, cid) pairs. The statement selects the
        cross product of senders and cids (to use the index); it is narrowed to the asked pairs
        here."""
        keys = set(pairs)
        if not keys:
            return {}
        rows = self._session.connection().execute(
            _FIND_BY_CIDS,
            {
                "senders": list({sender for sender, _ in keys}),
                "cids": list({cid for _, cid in keys}),
            },
        )
        return {
            (r[0], r[1]): ExistingPost(MessageId(r[2]), r[3], r[4], r[5])
            for r in rows.all()
            if (r[0], r[1]) in keys
        }

    def take_seqs(self, group_id: uuid.UUID, count: int) -> int | None:
        """Reserve `count` seqs of an active group; returns the last one, None if not active.

        The UPDATE locks the group row until commit, so seqs follow commit order with no gap.
        """
        result = self._session.connection().execute(_TAKE_SEQS, {"group": group_id, "taken": count})
        return result.scalar_one_or_none()

    def insert_messages(self, entries: Sequence[SequencedMessage], at: datetime) -> None:
        """The messages, their seizure rows, attachment links and search entries, each table
        in one executemany; `at` is every message's (and seizure report's) time."""
        if not entries:
            return
        connection = self._session.connection()
        connection.execute(_INSERT_MESSAGES, [_message_row(e, at) for e in entries])
        insert_seizure_tables(
            connection,
            [
                replace(seizure, report={**seizure.report, "seq": e.seq, "reported_at": at})
                for e in entries
                if (seizure := e.message.seizure) is not None
            ],
        )
        links = [
            {"message_id": e.message.id, "attachment_id": attachment_id}
            for e in entries
            for attachment_id in e.message.attachment_ids
        ]
        if links:
            connection.execute(_INSERT_ATTACHMENT_LINKS, links)
        self._index_for_search([e.message for e in entries if e.message.search_text])

    def _index_for_search(self, messages: Sequence[NewMessage]) -> None:
        """SQLite keeps an FTS5 table beside; PostgreSQL indexes `search_text` itself."""
        if messages and self._session.get_bind().dialect.name == "sqlite":
            self._session.connection().execute(
                _INDEX_FOR_SEARCH,
                [{"t": m.search_text, "m": m.id.hex} for m in messages],
            )
