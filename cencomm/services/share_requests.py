"""Cross-group share requests: ask, decide, and read what consent shows. Every step audited.

Who may do what (`domain/share_requests.py` has the matching rule):
- ask: a reader of a seizure report who may act in its group (not an observer there), about one
  of its identifiers that matches a report of another operation;
- decide: the moderators of a target group (and staff), for that group only;
- read a request: its requester, its report's group's moderators, its target groups'
  moderators (each sees only their own groups' targets), staff. Anyone else: 404, as for a
  request that does not exist.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from cencomm.domain.audit import AuditRecord
from cencomm.domain.clock import Clock
from cencomm.domain.envelopes import HandlingCode
from cencomm.domain.errors import Forbidden, NotFound
from cencomm.domain.events import ShareRequestChanged
from cencomm.domain.groups import GroupAccess
from cencomm.domain.identifiers import IdentifierKind
from cencomm.domain.ids import GroupId, MessageId, new_id
from cencomm.domain.messages import StoredMessage, may_read, withheld_codes
from cencomm.domain.share_requests import (
    MAX_NOTE,
    MAX_PENDING_PER_REQUESTER,
    MAX_REASON,
    Requester,
    ShareRequest,
    ShareStatus,
    ShareTarget,
    already_decided,
    find_identifier,
    no_match_elsewhere,
    overall_status,
    too_many_pending,
)
from cencomm.domain.users import Caller, Principal, clean_text
from cencomm.services.audit import AuditTrail
from cencomm.services.events import Publisher
from cencomm.services.groups import NO_GROUP, GroupService
from cencomm.services.messaging import ReadableMessage
from cencomm.storage.db import Database
from cencomm.storage.unit import Unit

Page = tuple[datetime, uuid.UUID] | None


@dataclass(frozen=True, slots=True)
class TargetView:
    """A request as one target group's moderators see it: that group's decision and its
    matching reports (those still shown: not hidden, not TLP:RED)."""

    request: ShareRequest
    target: ShareTarget
    requester: Requester
    matching_message_ids: tuple[MessageId, ...]


@dataclass(frozen=True, slots=True)
class RequestDetail:
    """`GET /share-requests/{id}` for one reader.

    `origin_side`: the reader is the requester, one of their report's group's moderators, or
    staff: they see the overall status and the request's message id. `targets`: the targets
    the reader moderates (none for the requester). `shared_reports`: what consent shows them.
    """

    request: ShareRequest
    requester: Requester
    origin_side: bool
    status: ShareStatus
    decided_at: datetime | None
    targets: tuple[TargetView, ...]
    shared_reports: tuple[ReadableMessage, ...]


def _principal(caller: Caller) -> Principal:
    if caller.principal is None:
        raise Forbidden("authentication required")
    return caller.principal


def _no_such_request() -> NotFound:
    return NotFound("no such share request")


class ShareRequestService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        audit: AuditTrail,
        groups: GroupService,
        publisher: Publisher,
    ) -> None:
        self._db = db
        self._clock = clock
        self._audit = audit
        self._groups = groups
        self._publisher = publisher

    def _notify(self, unit: Unit, event: ShareRequestChanged) -> None:
        """Publish once the unit has committed (never for a rolled-back step)."""
        if event.notify_ids:
            unit.after_commit(lambda: self._publisher.publish(event))

    def _try_access(
        self, unit: Unit, principal: Principal, group_id: uuid.UUID
    ) -> GroupAccess | None:
        try:
            return self._groups.access(unit, principal, group_id)
        except NotFound:
            return None

    # -- asking ------------------------------------------------------------------------------

    async def request_share(
        self,
        caller: Caller,
        message_id: uuid.UUID,
        kind: IdentifierKind,
        value: str,
        reason: str,
    ) -> tuple[ShareRequest, bool]:
        """Ask the operations holding a report with this identifier of the report to share it.
        Returns (request, created); a repeat while the first is pending returns the first.

        Raises:
            NotFound: the caller cannot read the report (or it is hidden and they do not
                moderate its group): as for `GET /messages/{id}`.
            Forbidden: (`read-only`) the caller only observes the report's group.
            Invalid: `identifier-not-in-report`; `no-match-elsewhere` (one answer whether no
                report exists elsewhere or only hidden or TLP:RED ones do).
            Conflict: `too-many-share-requests`.
        """
        principal = _principal(caller)
        reason_text = clean_text(reason, "body.reason", MAX_REASON)
        now = self._clock.now()

        def work(unit: Unit) -> tuple[ShareRequest, bool]:
            # The message and its group are looked up as `GET /messages/{id}` does: a missing
            # message goes through the nil group, so missing and unreadable cost the same.
            message = unit.messages.find(message_id)
            group_id = message.group_id if message is not None else NO_GROUP
            access = self._try_access(unit, principal, group_id)
            if (
                access is None
                or message is None
                or not may_read(access, message)
                or (message.hidden and not access.can_moderate)
            ):
                raise NotFound("no such message")
            if access.read_only:
                raise Forbidden("observers only read in this group", slug="read-only")
            store = unit.share_requests
            identifier = find_identifier(store.identifiers_of(message.id), kind, value)
            store.lock_requester(principal.user_id)
            existing = store.find_pending(principal.user_id, message.id, identifier)
            if existing is not None:
                return existing, False  # idempotent: nothing changes, nothing audited
            matches: dict[GroupId, tuple[MessageId, ...]] = {}
            # Staff see every group: nothing is ever elsewhere for them. A hidden or TLP:RED
            # report never takes part across groups.
            takes_part = not message.hidden and message.hc != HandlingCode.RED.value
            if takes_part and not principal.is_staff:
                matches = store.matches_elsewhere(
                    identifier, message.group_id, principal.user_id, principal.organization_id
                )
            if not matches:
                raise no_match_elsewhere()
            if store.count_pending(principal.user_id) >= MAX_PENDING_PER_REQUESTER:
                raise too_many_pending()
            request = ShareRequest(
                id=new_id(),
                requester_id=principal.user_id,
                requester_organization_id=principal.organization_id,
                message_id=MessageId(message.id),
                group_id=GroupId(message.group_id),
                identifier=identifier,
                reason=reason_text,
                status=ShareStatus.PENDING,
                created_at=now,
                decided_at=None,
                targets=tuple(
                    ShareTarget(group, ids, ShareStatus.PENDING, None, None, None)
                    for group, ids in sorted(matches.items())
                ),
            )
            store.insert(request)
            # Each target group's moderators get a frame naming their own group only.
            for target in request.targets:
                self._notify(
                    unit,
                    ShareRequestChanged(
                        request.id,
                        target.group_id,
                        ShareStatus.PENDING.value,
                        tuple(store.moderator_ids(target.group_id)),
                    ),
                )
            # The entry belongs to the requester's group and names no target: the group's
            # evidence export carries it, and must not tell which operations hold a match.
            self._audit.append(
                unit,
                AuditRecord.by(
                    caller,
                    "share_request.create",
                    target_type="share_request",
                    target_id=request.id,
                    group_id=request.group_id,
                    details={
                        "message_id": str(message.id),
                        "kind": identifier.kind.value,
                        "value": identifier.value,
                    },
                ),
            )
            return request, True

        return await self._db.write(work)

    async def list_own(self, principal: Principal, before: Page, limit: int) -> list[ShareRequest]:
        """The caller's own requests, newest first (never their targets)."""
        return await self._db.read(
            lambda unit: unit.share_requests.list_own(principal.user_id, before, limit)
        )

    # -- deciding ----------------------------------------------------------------------------

    async def list_for_group(
        self,
        principal: Principal,
        group_id: uuid.UUID,
        status: ShareStatus | None,
        before: Page,
        limit: int,
    ) -> list[TargetView]:
        """Requests targeting the group, for its moderators (and staff).

        Raises:
            NotFound: the caller cannot see the group.
            Forbidden: (`not-moderator`) a member who does not moderate it.
        """

        def work(unit: Unit) -> list[TargetView]:
            access = self._groups.access(unit, principal, group_id)
            access.ensure_can_moderate()
            store = unit.share_requests
            found = store.list_for_group(group_id, status, before, limit)
            every = [m for _, target, _ in found for m in target.message_ids]
            shown = set(store.shown_reports(list(every), frozenset()))
            return [
                TargetView(
                    request,
                    target,
                    requester,
                    tuple(m for m in target.message_ids if m in shown),
                )
                for request, target, requester in found
            ]

        return await self._db.read(work)

    async def decide(
        self,
        caller: Caller,
        request_id: uuid.UUID,
        group_id: uuid.UUID,
        approve: bool,
        note: str | None,
    ) -> TargetView:
        """A target group's moderators approve or reject; exactly one of concurrent decisions
        of one group wins.

        Raises:
            NotFound: no such request, it does not target that group, or the caller does not
                moderate that group (members do not learn of requests): one answer for all.
            Conflict: (`share-request-decided`) the group has decided already.
        """
        principal = _principal(caller)
        note_text = clean_text(note, "body.note", MAX_NOTE) if note is not None else None
        status = ShareStatus.APPROVED if approve else ShareStatus.REJECTED
        now = self._clock.now()

        def work(unit: Unit) -> TargetView:
            store = unit.share_requests
            found = store.find_target(request_id, group_id)
            # A missing request (or a group it does not target) takes the nil group's path.
            access = self._try_access(unit, principal, group_id if found else NO_GROUP)
            if found is None or access is None or not access.can_moderate:
                raise _no_such_request()
            request, target = found
            if not store.decide(request_id, group_id, status, principal.user_id, now, note_text):
                raise already_decided()
            overall = overall_status(store.target_statuses(request_id))
            if overall is not request.status:
                store.set_status(request_id, overall, now)
                # The requester learns the new overall status, never which group decided.
                self._notify(
                    unit,
                    ShareRequestChanged(request.id, None, overall.value, (request.requester_id,)),
                )
            self._audit.append(
                unit,
                AuditRecord.by(
                    caller,
                    "share_request.approve" if approve else "share_request.reject",
                    target_type="share_request",
                    target_id=request_id,
                    group_id=GroupId(group_id),
                    details={"note": note_text} if note_text else {},
                ),
            )
            decided = ShareTarget(
                target.group_id, target.message_ids, status, now, principal.user_id, note_text
            )
            shown = set(store.shown_reports(list(target.message_ids), frozenset()))
            return TargetView(
                request,
                decided,
                store.requester_of(request),
                tuple(m for m in target.message_ids if m in shown),
            )

        return await self._db.write(work)

    # -- reading -----------------------------------------------------------------------------

    async def get(self, caller: Caller, request_id: uuid.UUID) -> RequestDetail:
        """The request as this reader may see it, with what consent shows them. Showing any
        report writes an audit entry (in the same transaction as the read).

        Raises:
            NotFound: absent, or the caller is none of the readers the module names.
        """
        principal = _principal(caller)

        def work(unit: Unit) -> RequestDetail:
            store = unit.share_requests
            request = store.find(request_id)
            if request is None:
                raise _no_such_request()
            origin = self._try_access(unit, principal, request.group_id)
            is_requester = request.requester_id == principal.user_id
            origin_side = is_requester or (origin is not None and origin.can_moderate)
            moderated: list[tuple[ShareTarget, GroupAccess]] = []
            for target in request.targets:
                access = self._try_access(unit, principal, target.group_id)
                if access is not None and access.can_moderate:
                    moderated.append((target, access))
            if not origin_side and not moderated:
                raise _no_such_request()
            shared = self._shared_ids(unit, request, origin, origin_side, moderated)
            reports = tuple(
                ReadableMessage(m, show_jws=True)
                for m in (unit.messages.find(i) for i in shared)
                if m is not None
            )
            if reports:
                self._audit.append(
                    unit,
                    AuditRecord.by(
                        caller,
                        "share_request.read",
                        target_type="share_request",
                        target_id=request.id,
                        details={"message_ids": [str(r.message.id) for r in reports]},
                    ),
                )
            requester = store.requester_of(request)
            views = []
            for target, _ in moderated:
                shown = set(store.shown_reports(list(target.message_ids), frozenset()))
                views.append(
                    TargetView(
                        request,
                        target,
                        requester,
                        tuple(m for m in target.message_ids if m in shown),
                    )
                )
            if origin_side:
                status, decided_at = request.status, request.decided_at
            else:
                mine = [t for t, _ in moderated]
                status = overall_status([t.status for t in mine])
                times = [t.decided_at for t in mine if t.decided_at is not None]
                decided_at = max(times) if times and status is not ShareStatus.PENDING else None
            return RequestDetail(
                request=request,
                requester=requester,
                origin_side=origin_side,
                status=status,
                decided_at=decided_at,
                targets=tuple(views),
                shared_reports=reports,
            )

        return await self._db.write(work)

    def _shared_ids(
        self,
        unit: Unit,
        request: ShareRequest,
        origin: GroupAccess | None,
        origin_side: bool,
        moderated: list[tuple[ShareTarget, GroupAccess]],
    ) -> list[uuid.UUID]:
        """The reports consent shows this reader: to the origin side, the consenting groups'
        matching reports; to a consenting group's moderators, the requester's report. Never
        hidden, never TLP:RED; a restricted reader (observer) never gets TLP:AMBER+STRICT."""
        store = unit.share_requests
        shown: list[uuid.UUID] = []
        if origin_side and self._origin_still_readable(unit, request, origin):
            assert origin is not None  # noqa: S101 - checked by _origin_still_readable
            consented = [
                m
                for t in request.targets
                if t.status is ShareStatus.APPROVED
                for m in t.message_ids
            ]
            shown += store.shown_reports(consented, withheld_codes(origin))
        if any(t.status is ShareStatus.APPROVED for t, _ in moderated):
            withheld = frozenset().union(
                *(withheld_codes(a) for t, a in moderated if t.status is ShareStatus.APPROVED)
            )
            shown += store.shown_reports([request.message_id], withheld)
        return list(dict.fromkeys(shown))  # each once, in order

    @staticmethod
    def _origin_still_readable(
        unit: Unit, request: ShareRequest, origin: GroupAccess | None
    ) -> bool:
        """The origin side sees shared reports only while it may still read its own report:
        a requester removed from the operation keeps no window into the others."""
        if origin is None:
            return False
        message: StoredMessage | None = unit.messages.find(request.message_id)
        return message is not None and may_read(origin, message) and not message.hidden
