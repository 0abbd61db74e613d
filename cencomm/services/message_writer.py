"""Group commit for posts: one writer task batches concurrent posts into one transaction.

Each request hands a fully verified post to `MessageWriter.submit` and awaits its own outcome.
The writer drains whatever is queued (up to `max_batch`), and in one transaction reserves
seqs per group (locking each group row), resolves idempotent repeats, inserts messages,
seizure rows, search entries and audit entries with `executemany`, and commits. Only then are
the waiting requests answered, so a 201 always means "durable, with its audit entry".
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import hashlib
import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from cencomm.domain.analytics import SeizureRows
from cencomm.domain.analytics_rollup import RollupDelta
from cencomm.domain.audit import AuditRecord
from cencomm.domain.clock import Clock
from cencomm.domain.errors import CencommError, Conflict
from cencomm.domain.events import MessagePosted
from cencomm.domain.ids import GroupId, MessageId
from cencomm.domain.messages import PostOutcome
from cencomm.services.audit import AuditTrail
from cencomm.services.background import finish_before_cancel
from cencomm.services.events import Publisher
from cencomm.storage.analytics import add_to_rollups
from cencomm.storage.audit import append_entries
from cencomm.storage.db import Database
from cencomm.storage.message_batch import (
    find_by_cids,
    index_for_search,
    insert_messages,
    take_seqs,
)

logger = logging.getLogger(__name__)

MAX_BATCH = 512


@dataclass
class PendingPost:
    """A verified post waiting for the writer. `row` holds every column but seq and times."""

    group_id: uuid.UUID
    sender_id: uuid.UUID
    cid: str
    jws: str
    row: dict[str, Any]
    # The analytic rows of a seizure report (seq and time are set on commit).
    seizure: SeizureRows | None
    search_text: str | None
    audit: AuditRecord
    # Attachments the payload names (already checked to be the group's): linked on insert.
    attachment_ids: list[uuid.UUID] = field(default_factory=list)
    future: asyncio.Future[PostOutcome] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )

    @property
    def jws_hash(self) -> bytes:
        return hashlib.sha256(self.jws.encode("ascii")).digest()


def _duplicate_cid() -> Conflict:
    return Conflict(
        "this cid was already used with a different JWS",
        slug="duplicate-cid",
        title="Duplicate client id",
    )


class MessageWriter:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        audit: AuditTrail,
        publisher: Publisher,
        max_batch: int = MAX_BATCH,
    ) -> None:
        self._db = db
        self._clock = clock
        self._audit = audit
        self._publisher = publisher
        self._max_batch = max_batch
        self._queue: asyncio.Queue[PendingPost] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def submit(self, post: PendingPost) -> PostOutcome:
        """Queue a verified post and wait until it is committed (or refused)."""
        if self._task is None or self._task.done():
            # Started by whichever request posts first, but it works for every request: it
            # must not carry that request's context (request id) into all later batches.
            self._task = asyncio.create_task(
                self._run(), name="cencomm-message-writer", context=contextvars.Context()
            )
        self._queue.put_nowait(post)
        return await post.future

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        while not self._queue.empty():
            pending = self._queue.get_nowait()
            if not pending.future.done():
                pending.future.set_exception(ConnectionAbortedError("server shutting down"))

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await finish_before_cancel(self._write_batch(batch))
            except Exception:
                if len(batch) == 1:
                    logger.exception("message write failed")
                    if not batch[0].future.done():
                        batch[0].future.set_exception(RuntimeError("message write failed"))
                    continue
                # One bad post must not fail its neighbours: retry each on its own.
                for post in batch:
                    try:
                        await self._write_batch([post])
                    except Exception as exc:
                        logger.exception("message write failed")
                        if not post.future.done():
                            post.future.set_exception(exc)

    async def _write_batch(self, batch: list[PendingPost]) -> None:
        now = self._clock.now()
        outcomes: dict[int, PostOutcome | CencommError] = {}
        posted: list[MessagePosted] = []
        audited = await self._db.run_write(
            lambda connection: self._write(connection, batch, now, outcomes, posted)
        )
        self._audit.signal.committed(audited)
        for i, post in enumerate(batch):
            if post.future.done():
                continue
            outcome = outcomes[i]
            if isinstance(outcome, CencommError):
                post.future.set_exception(outcome)
            else:
                post.future.set_result(outcome)
        for event in posted:
            self._publisher.publish(event)

    def _write(
        self,
        connection: Connection,
        batch: list[PendingPost],
        now: datetime,
        outcomes: dict[int, PostOutcome | CencommError],
        posted: list[MessagePosted],
    ) -> int:
        """The whole transaction, synchronous: one hop to the database for the batch.

        Returns the number of audit entries written.
        """
        existing = find_by_cids(connection, {(p.sender_id, p.cid) for p in batch})
        fresh: dict[tuple[uuid.UUID, str], int] = {}  # first new post of each (sender, cid)
        by_group: dict[uuid.UUID, list[int]] = defaultdict(list)
        for i, post in enumerate(batch):
            key = (post.sender_id, post.cid)
            if key in existing:
                message_id, seq, created_at, jws_hash = existing[key]
                outcomes[i] = (
                    PostOutcome(message_id, seq, created_at, created=False)
                    if jws_hash == post.jws_hash
                    else _duplicate_cid()
                )
            elif key in fresh:
                continue  # settled once the first one has its seq
            else:
                fresh[key] = i
                by_group[post.group_id].append(i)

        rows: list[dict[str, Any]] = []
        reports: list[dict[str, Any]] = []
        items: list[dict[str, Any]] = []
        transit: list[dict[str, Any]] = []
        seizures: list[SeizureRows] = []
        search: list[tuple[uuid.UUID, str]] = []
        records: list[AuditRecord] = []
        links: list[tuple[uuid.UUID, uuid.UUID]] = []
        for group_id, indexes in by_group.items():
            last = take_seqs(connection, group_id, len(indexes))
            if last is None:
                for i in indexes:
                    outcomes[i] = Conflict("the group is not active", slug="group-not-active")
                continue
            for offset, i in enumerate(indexes):
                post = batch[i]
                seq = last - len(indexes) + 1 + offset
                message_id = post.row["id"]
                rows.append(
                    {
                        **post.row,
                        "seq": seq,
                        "created_at": now,
                        "jws_sha256": post.jws_hash,
                        "hidden": False,
                    }
                )
                if post.seizure is not None:
                    reports.append({**post.seizure.report, "seq": seq, "reported_at": now})
                    items.extend(post.seizure.items)
                    transit.extend(post.seizure.transit)
                    seizures.append(post.seizure)
                if post.search_text:
                    search.append((message_id, post.search_text))
                links.extend((message_id, attachment_id) for attachment_id in post.attachment_ids)
                details = {**post.audit.details, "seq": seq}
                records.append(
                    AuditRecord(
                        action=post.audit.action,
                        actor_id=post.audit.actor_id,
                        organization_id=post.audit.organization_id,
                        target_type="message",
                        target_id=str(message_id),
                        group_id=post.audit.group_id,
                        ip=post.audit.ip,
                        details=details,
                    )
                )
                outcomes[i] = PostOutcome(message_id, seq, now, created=True)
                posted.append(MessagePosted(GroupId(group_id), seq, MessageId(message_id)))
        insert_messages(connection, rows, reports, items, links, transit)
        add_to_rollups(connection, RollupDelta().add_all(seizures))
        index_for_search(connection, search)
        self._audit.check_details(records)
        append_entries(connection, records, now)

        # Repeats of a post that is new in this very batch: same JWS → its outcome.
        for i, post in enumerate(batch):
            if i in outcomes:
                continue
            first = fresh[(post.sender_id, post.cid)]
            original = outcomes[first]
            if isinstance(original, PostOutcome) and batch[first].jws_hash == post.jws_hash:
                outcomes[i] = PostOutcome(original.id, original.seq, original.created_at, False)
            elif isinstance(original, PostOutcome):
                outcomes[i] = _duplicate_cid()
            else:
                outcomes[i] = original
        return len(records)
