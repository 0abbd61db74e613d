"""Group commit for posts: one writer task batches concurrent posts into one transaction.

Each request hands a fully verified post to `MessageWriter.submit` and awaits its own outcome.
The writer drains whatever is queued (up to `max_batch`), and in one transaction reserves
seqs per group (locking each group row), resolves idempotent repeats, inserts messages,
seizure rows, search entries and audit entries with `executemany`, and commits. Only then are
the waiting requests answered, so a 201 always means "durable, with its audit entry".
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from cencomm.domain.analytics import SeizureRows
from cencomm.domain.analytics_rollup import RollupDelta
from cencomm.domain.audit import AuditRecord
from cencomm.domain.clock import Clock
from cencomm.domain.errors import CencommError, Conflict, Unavailable
from cencomm.domain.events import MessagePosted
from cencomm.domain.messages import PostOutcome
from cencomm.domain.posts import NewMessage, SequencedMessage
from cencomm.services.audit import AuditTrail
from cencomm.services.background import Job
from cencomm.services.events import Publisher
from cencomm.services.signed_envelopes import duplicate_cid as _duplicate_cid
from cencomm.storage.db import Database
from cencomm.storage.unit import Unit

logger = logging.getLogger(__name__)

MAX_BATCH = 512


@dataclass
class PendingPost:
    """A verified post waiting for the writer, and the request waiting for its outcome."""

    message: NewMessage
    # Its audit entry (the seq is added to the details once known).
    audit: AuditRecord
    future: asyncio.Future[PostOutcome] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )

    @property
    def key(self) -> tuple[uuid.UUID, str]:
        return (self.message.sender_id, self.message.cid)


class PostWriter(Protocol):
    """Where `MessagingService` hands verified posts: this process's `MessageWriter`, or the
    hub process's through a link (`services/remote_writer.py`)."""

    async def submit(self, post: PendingPost) -> PostOutcome: ...

    def job(self) -> Job: ...


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
        self._queue: deque[PendingPost] = deque()
        self._queued = asyncio.Event()  # set while the queue holds a post
        self._stopped = False

    async def submit(self, post: PendingPost) -> PostOutcome:
        """Queue a verified post and wait until it is committed (or refused)."""
        if self._stopped:
            raise ConnectionAbortedError("server shutting down")
        self._queue.append(post)
        self._queued.set()
        return await post.future

    def job(self) -> Job:
        """The writer, started with the application: one batch per pass."""
        return Job("message-writer", self._queued.wait, self._write_next, self._refuse_queued)

    async def _write_next(self) -> None:
        """Write what is queued (up to `max_batch`) in one transaction; if that fails, each
        post on its own, so one bad post does not fail its neighbours."""
        # The wait above only looks at the queue: a post is taken here, never lost to a stop.
        batch = [self._queue.popleft() for _ in range(min(len(self._queue), self._max_batch))]
        if not self._queue:
            self._queued.clear()
        try:
            await self._write_with_retry(batch)
        except asyncio.CancelledError:
            _refuse(batch)  # abandoned at stop after the grace period
            raise

    async def _write_with_retry(self, batch: list[PendingPost]) -> None:
        if not batch:
            return
        try:
            await self._write_batch(batch)
        except Unavailable as exc:
            # The database failed for a while (full disk, lost connection, lock timeout): the
            # batch was rolled back; each request answers 503 and its retry (same cid) settles
            # it. Writing each post again now would only meet the same failure.
            for post in batch:
                if not post.future.done():
                    post.future.set_exception(exc)
        except Exception:
            if len(batch) == 1:
                logger.exception("message write failed")
                if not batch[0].future.done():
                    batch[0].future.set_exception(RuntimeError("message write failed"))
                return
            # One bad post must not fail its neighbours: retry each on its own.
            for post in batch:
                try:
                    await self._write_batch([post])
                except Exception as exc:
                    logger.exception("message write failed")
                    if not post.future.done():
                        post.future.set_exception(exc)

    def _refuse_queued(self) -> None:
        """At stop: refuse what is still queued, and whatever comes later."""
        self._stopped = True
        self._queued.clear()
        _refuse(self._queue)
        self._queue.clear()

    async def _write_batch(self, batch: list[PendingPost]) -> None:
        now = self._clock.now()
        outcomes: dict[int, PostOutcome | CencommError] = {}
        posted: list[MessagePosted] = []
        await self._db.write(lambda unit: self._write(unit, batch, now, outcomes, posted))
        # Committed: only now is each request answered and each event published.
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
        unit: Unit,
        batch: list[PendingPost],
        now: datetime,
        outcomes: dict[int, PostOutcome | CencommError],
        posted: list[MessagePosted],
    ) -> None:
        """The whole transaction, synchronous: one hop to the database for the batch."""
        existing = unit.message_batch.find_by_cids({p.key for p in batch})
        fresh: dict[tuple[uuid.UUID, str], int] = {}  # first new post of each (sender, cid)
        by_group: dict[uuid.UUID, list[int]] = defaultdict(list)
        for i, post in enumerate(batch):
            found = existing.get(post.key)
            if found is not None:
                outcomes[i] = (
                    PostOutcome(found.id, found.seq, found.created_at, created=False)
                    if found.jws_sha256 == post.message.jws_sha256
                    else _duplicate_cid()
                )
            elif post.key in fresh:
                continue  # settled once the first one has its seq
            else:
                fresh[post.key] = i
                by_group[post.message.group_id].append(i)

        entries: list[SequencedMessage] = []
        seizures: list[SeizureRows] = []
        records: list[AuditRecord] = []
        for group_id, indexes in by_group.items():
            last = unit.message_batch.take_seqs(group_id, len(indexes))
            if last is None:
                for i in indexes:
                    outcomes[i] = Conflict("the group is not active", slug="group-not-active")
                continue
            for offset, i in enumerate(indexes):
                post = batch[i]
                message = post.message
                seq = last - len(indexes) + 1 + offset
                entries.append(SequencedMessage(message, seq))
                if message.seizure is not None:
                    seizures.append(message.seizure)
                records.append(
                    AuditRecord(
                        action=post.audit.action,
                        actor_id=post.audit.actor_id,
                        organization_id=post.audit.organization_id,
                        target_type="message",
                        target_id=str(message.id),
                        group_id=post.audit.group_id,
                        ip=post.audit.ip,
                        details={**post.audit.details, "seq": seq},
                    )
                )
                outcomes[i] = PostOutcome(message.id, seq, now, created=True)
                posted.append(MessagePosted(message.group_id, seq, message.id))
        unit.message_batch.insert_messages(entries, now)
        unit.analytics.add_to_rollups(RollupDelta().add_all(seizures))
        # Wakes the audit jobs itself once the batch has committed.
        self._audit.append_many(unit, records)

        # Repeats of a post that is new in this very batch: same JWS → its outcome.
        for i, post in enumerate(batch):
            if i in outcomes:
                continue
            first = fresh[post.key]
            original = outcomes[first]
            same_jws = batch[first].message.jws_sha256 == post.message.jws_sha256
            if isinstance(original, PostOutcome) and same_jws:
                outcomes[i] = PostOutcome(original.id, original.seq, original.created_at, False)
            elif isinstance(original, PostOutcome):
                outcomes[i] = _duplicate_cid()
            else:
                outcomes[i] = original


def _refuse(posts: Iterable[PendingPost]) -> None:
    for post in posts:
        if not post.future.done():
            post.future.set_exception(ConnectionAbortedError("server shutting down"))
