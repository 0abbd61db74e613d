"""Watch lists: keep selectors, and match every new seizure report against them after commit.

Matching never slows a post: the message writer publishes `MessagePosted` after its commit,
this service's listener only queues the message id, and a background job matches queued
reports one by one. A report that matches no watch costs one read transaction. A match is
recorded once per watch and report (`watch_match`), in one write with its e-mail in the
outbox; the live frame follows the commit (`WatchMatched` over the bus, so it reaches the
watcher's sockets on whichever process they are connected to).

What the watcher learns is decided as reads decide (`GET /messages/{id}`: group access,
handling codes withheld from restricted readers), with their role and memberships as they are:
- a hidden report matches nobody;
- a report they may read: its group and id, and the identifier that matched;
- a report they may not read: only that a report in another operation matches (no group, no
  id, no country; the identifier shown is their own selector), and never for TLP:RED.
The matches listed later are decided again at read time the same way.

Matching runs in the process that wrote the report; a report queued when that process stops
is not matched (like a live frame, the notification is then lost; the report is not).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import uuid
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cencomm.domain.audit import AuditRecord
from cencomm.domain.clock import Clock
from cencomm.domain.envelopes import HandlingCode
from cencomm.domain.errors import NotFound
from cencomm.domain.events import MessagePosted, WatchMatched
from cencomm.domain.groups import Group, GroupAccess, access_for
from cencomm.domain.identifiers import Identifier, IdentifierKind
from cencomm.domain.ids import SessionId, UserId, new_id
from cencomm.domain.messages import withheld_codes
from cencomm.domain.notifications import MailKind
from cencomm.domain.policy import Action, authorize
from cencomm.domain.users import Caller, Principal, Role, clean_text
from cencomm.domain.watch_lists import (
    MAX_REASON,
    MatchMode,
    Watch,
    WatchMatch,
    check_expiry,
    check_room,
    first_match,
    selector,
    watch_mail,
)
from cencomm.services.audit import AuditTrail
from cencomm.services.background import Job
from cencomm.services.events import Event, Publisher
from cencomm.services.notifications import NotificationService
from cencomm.storage.audience import AudienceMember
from cencomm.storage.db import Database
from cencomm.storage.outbox import PENDING
from cencomm.storage.unit import Unit
from cencomm.storage.watch_lists import ReportFacts, StoredMatch

logger = logging.getLogger(__name__)

# Reports waiting to be matched; past this the oldest are dropped (logged): memory is bounded.
MAX_QUEUED = 100_000
# Queued messages sorted out per read.
BATCH = 500
# A principal for deciding what a watcher may read outside any request: no session.
NO_SESSION = SessionId(uuid.UUID(int=0))


@dataclass(frozen=True, slots=True)
class NewWatch:
    kind: IdentifierKind
    match: MatchMode
    value: str
    reason: str
    expires_at: datetime


def _decide(access: GroupAccess | None, report: ReportFacts) -> bool | None:
    """True: the watcher may read the report; False: only that a report elsewhere matches;
    None: nothing at all (hidden, or TLP:RED they may not read)."""
    if report.hidden:
        return None
    if access is not None and report.hc not in withheld_codes(access):
        return True
    if report.hc == HandlingCode.RED.value:
        return None
    return False


def _access(member: AudienceMember | None, group: Group | None) -> GroupAccess | None:
    """The watcher's access to the report's group, as a request of theirs would have it."""
    if member is None or group is None:
        return None
    principal = Principal(member.user_id, member.organization_id, member.role, NO_SESSION)
    try:
        return access_for(principal, group, member.group_role)
    except NotFound:
        return None


def _view(stored: StoredMatch, watch: Watch, readable: bool) -> WatchMatch:
    if readable:
        return WatchMatch(
            id=stored.id,
            watch_id=stored.watch_id,
            message_id=stored.report.message_id,
            group_id=stored.report.group_id,
            identifier=stored.identifier,
            elsewhere=False,
            matched_at=stored.matched_at,
        )
    s = watch.selector
    return WatchMatch(
        id=stored.id,
        watch_id=stored.watch_id,
        message_id=None,
        group_id=None,
        # The watcher's own selector: nothing written in a report they may not read.
        identifier=Identifier(s.kind, s.value, s.label),
        elsewhere=True,
        matched_at=stored.matched_at,
    )


@dataclass(frozen=True, slots=True)
class _Found:
    watch: Watch
    identifier: Identifier
    readable: bool


class WatchListService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        audit: AuditTrail,
        publisher: Publisher,
        notifications: NotificationService,
        base_url: str,
    ) -> None:
        self._db = db
        self._clock = clock
        self._audit = audit
        self._publisher = publisher
        self._notifications = notifications
        self._base_url = base_url.rstrip("/")
        self._queue: deque[uuid.UUID] = deque()
        self._queued = asyncio.Event()
        # Set while nothing is queued or being matched (see `settled`).
        self._idle = asyncio.Event()
        self._idle.set()
        self.matched = 0
        self.dropped = 0

    # -- keeping watches -------------------------------------------------------------------

    async def create(self, caller: Caller, new: NewWatch) -> Watch:
        """A new watch of the caller's.

        Raises:
            Forbidden: observers keep no watches.
            Invalid: a bad selector, reason or expiry (`invalid-watch`).
            Conflict: the caller already keeps `MAX_ACTIVE_WATCHES` active watches.
        """
        principal = _principal(caller)
        authorize(principal, Action.KEEP_WATCHES)
        chosen = selector(new.kind, new.match, new.value)
        reason = clean_text(new.reason, "body.reason", MAX_REASON)
        now = self._clock.now()
        check_expiry(new.expires_at, now)
        watch = Watch(new_id(), principal.user_id, chosen, reason, new.expires_at, now)

        def create(unit: Unit) -> Watch:
            # The user's row, locked: two creates at once cannot both pass the limit.
            unit.watches.lock_user(principal.user_id)
            check_room(unit.watches.count_active(principal.user_id, now))
            unit.watches.insert(watch)
            self._audit.append(
                unit,
                AuditRecord.by(
                    caller,
                    "watch.create",
                    target_type="watch",
                    target_id=watch.id,
                    details={"kind": chosen.kind.value, "match": chosen.match.value},
                ),
            )
            return watch

        return await self._db.write(create)

    async def list_watches(
        self,
        principal: Principal,
        *,
        active: bool,
        before: tuple[datetime, uuid.UUID] | None,
        limit: int,
    ) -> list[Watch]:
        authorize(principal, Action.KEEP_WATCHES)
        at = self._clock.now() if active else None
        return await self._db.read(
            lambda unit: unit.watches.list_own(
                principal.user_id, active_at=at, before=before, limit=limit
            )
        )

    async def get(self, principal: Principal, watch_id: uuid.UUID) -> Watch:
        """The caller's watch. Raises NotFound for anyone else's (it is not theirs to know of)."""
        authorize(principal, Action.KEEP_WATCHES)
        watch = await self._db.read(lambda unit: unit.watches.find_own(watch_id, principal.user_id))
        if watch is None:
            raise NotFound("no such watch")
        return watch

    async def delete(self, caller: Caller, watch_id: uuid.UUID) -> None:
        principal = _principal(caller)
        authorize(principal, Action.KEEP_WATCHES)
        now = self._clock.now()

        def delete(unit: Unit) -> None:
            if unit.watches.find_own(watch_id, principal.user_id) is None:
                raise NotFound("no such watch")
            unit.watches.delete(watch_id, now)
            self._audit.append(
                unit,
                AuditRecord.by(caller, "watch.delete", target_type="watch", target_id=watch_id),
            )

        await self._db.write(delete)

    async def matches(
        self,
        principal: Principal,
        watch_id: uuid.UUID,
        *,
        before: tuple[datetime, uuid.UUID] | None,
        limit: int,
    ) -> tuple[list[WatchMatch], tuple[datetime, uuid.UUID] | None]:
        """The watch's matches, newest first, each as the caller may see it now; and where the
        next page starts (None at the end). A page may hold fewer than `limit` matches: those
        the caller may no longer learn of (hidden since, say) are left out."""
        authorize(principal, Action.KEEP_WATCHES)

        def read(unit: Unit) -> tuple[list[WatchMatch], tuple[datetime, uuid.UUID] | None]:
            watch = unit.watches.find_own(watch_id, principal.user_id)
            if watch is None:
                raise NotFound("no such watch")
            stored = unit.watches.list_matches(watch_id, before, limit)
            accesses = self._accesses(unit, principal, {m.report.group_id for m in stored})
            views = []
            for match in stored:
                readable = _decide(accesses.get(match.report.group_id), match.report)
                if readable is not None:
                    views.append(_view(match, watch, readable))
            last = stored[-1] if len(stored) == limit else None
            return views, None if last is None else (last.matched_at, last.id)

        return await self._db.read(read)

    @staticmethod
    def _accesses(
        unit: Unit, principal: Principal, group_ids: Iterable[uuid.UUID]
    ) -> dict[uuid.UUID, GroupAccess]:
        accesses = {}
        for group_id in group_ids:
            group = unit.groups.find(group_id)
            role = unit.groups.role_of(group_id, principal.user_id, principal.organization_id)
            try:
                accesses[group_id] = access_for(principal, group, role)
            except NotFound:
                continue
        return accesses

    async def match_for_delivery(self, match_id: uuid.UUID, user_id: UserId) -> WatchMatch | None:
        """The match as its watcher may see it now (None: not at all): the live frame, decided
        when it is delivered like every frame."""

        def read(unit: Unit) -> WatchMatch | None:
            found = unit.watches.find_match(match_id)
            if found is None:
                return None
            stored, watch = found
            if watch.user_id != user_id:
                return None
            member = unit.audience.readers(stored.report.group_id, [user_id]).get(user_id)
            if member is None or member.role is Role.OBSERVER:
                return None  # disabled, or no longer keeps watches
            access = _access(member, unit.groups.find(stored.report.group_id))
            readable = _decide(access, stored.report)
            return None if readable is None else _view(stored, watch, readable)

        return await self._db.read(read)

    # -- matching --------------------------------------------------------------------------

    def publish(self, event: Event) -> None:
        """Listener on this process's service events: queue each new message for matching
        (never waits; the post has committed and been answered)."""
        if not isinstance(event, MessagePosted):
            return
        if len(self._queue) >= MAX_QUEUED:
            self._queue.popleft()
            self.dropped += 1
            logger.warning("watch matching is behind: a report was not matched")
        self._queue.append(event.message_id)
        self._idle.clear()
        self._queued.set()

    def job(self) -> Job:
        """The matcher: one pass matches every report queued so far."""
        return Job("watch-matcher", self._queued.wait, self.match_queued)

    async def match_queued(self) -> int:
        """Match every queued report; returns how many matches were recorded. Messages are
        sorted out in batches (one read for up to `BATCH` of them): only reports one of whose
        identifiers a watch names go on to be matched, one by one."""
        recorded = 0
        try:
            recorded = await self._match_all()
        finally:
            if not self._queue:
                self._idle.set()
        return recorded

    async def settled(self) -> None:
        """Returns once every report queued so far has been matched: what a caller waits for
        before it reads what matching wrote (tests, an orderly stop)."""
        await self._idle.wait()

    async def _match_all(self) -> int:
        recorded = 0
        while self._queue:
            batch = [self._queue.popleft() for _ in range(min(len(self._queue), BATCH))]
            watched = await self._db.read(functools.partial(_with_candidates, batch))
            for message_id in batch:
                if message_id not in watched:
                    continue
                try:
                    recorded += await self.match_report(message_id)
                except Exception:
                    # One report that cannot be matched must not cost the others theirs.
                    logger.exception("watch matching failed for one report")
        self._queued.clear()
        return recorded

    async def match_report(self, message_id: uuid.UUID) -> int:
        """Record (once) every active watch this report matches, queue its e-mails, then
        publish its frames; returns how many matches were recorded."""
        found = await self._db.read(lambda unit: self._find(unit, message_id))
        if not found:
            return 0  # the common case: one read, no write
        report, matches = found
        now = self._clock.now()

        def record(unit: Unit) -> list[WatchMatched]:
            already = unit.watches.matched_watch_ids(message_id)
            fresh = [f for f in matches if f.watch.id not in already]
            rows: list[dict[str, Any]] = [
                {
                    "id": new_id(),
                    "watch_id": f.watch.id,
                    "message_id": message_id,
                    "kind": f.identifier.kind.value,
                    "value": f.identifier.value,
                    "label": f.identifier.label,
                    "matched_at": now,
                }
                for f in fresh
            ]
            unit.watches.insert_matches(rows)
            for f, row in zip(fresh, rows, strict=True):
                self._enqueue_mail(unit, f, report, row["id"], now)
            events = [
                WatchMatched(row["id"], UserId(f.watch.user_id))
                for f, row in zip(fresh, rows, strict=True)
            ]
            unit.after_commit(lambda: self._publish(events))
            return events

        events = await self._db.write(record)
        self.matched += len(events)
        return len(events)

    def _publish(self, events: list[WatchMatched]) -> None:
        for event in events:
            self._publisher.publish(event)

    def _find(self, unit: Unit, message_id: uuid.UUID) -> tuple[ReportFacts, list[_Found]] | None:
        store = unit.watches
        report = store.report(message_id)
        if report is None or report.hidden:
            return None  # not a seizure report, or hidden: matches nobody
        identifiers = store.report_identifiers(message_id)
        if not identifiers:
            return None
        candidates = []
        for watch in store.candidates(identifiers, report.reported_at):
            identifier = first_match(watch.selector, identifiers)
            if identifier is not None:
                candidates.append((watch, identifier))
        if not candidates:
            return None
        members = unit.audience.readers(report.group_id, {w.user_id for w, _ in candidates})
        group = unit.groups.find(report.group_id)
        found = []
        for watch, identifier in candidates:
            member = members.get(UserId(watch.user_id))
            if member is None or member.role is Role.OBSERVER:
                continue  # disabled, or made an observer since: keeps no watches
            readable = _decide(_access(member, group), report)
            if readable is not None:
                found.append(_Found(watch, identifier, readable))
        return (report, found) if found else None

    def _enqueue_mail(
        self,
        unit: Unit,
        found: _Found,
        report: ReportFacts,
        match_id: uuid.UUID,
        now: datetime,
    ) -> None:
        if not self._notifications.enabled:
            return
        targets = unit.outbox.mail_targets([found.watch.user_id], MailKind.WATCH)
        if not targets:
            return
        link = f"{self._base_url}/#/groups/{report.group_id}" if found.readable else None
        subject, body = watch_mail(found.watch.selector, link=link)
        unit.outbox.enqueue(
            [
                {
                    "id": new_id(),
                    "kind": MailKind.WATCH.value,
                    "dedupe_key": f"watch:{match_id}",
                    "user_id": user_id,
                    "alert_id": None,
                    "recipient": address,
                    "subject": subject,
                    "body": body,
                    "status": PENDING,
                    "created_at": now,
                    "next_attempt_at": now,
                    "attempts": 0,
                }
                for user_id, address in targets
            ]
        )


def _with_candidates(message_ids: list[uuid.UUID], unit: Unit) -> set[uuid.UUID]:
    return unit.watches.with_candidates(message_ids)


def _principal(caller: Caller) -> Principal:
    principal = caller.principal
    assert principal is not None  # noqa: S101 - the route authenticates
    return principal
