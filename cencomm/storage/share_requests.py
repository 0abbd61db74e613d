"""ShareRequestStore: share requests, their target groups, and the "matches elsewhere" rule."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, insert, or_, select, update
from sqlalchemy.orm import Session, aliased

from cencomm.domain.envelopes import HandlingCode
from cencomm.domain.groups import GroupRole
from cencomm.domain.identifiers import Identifier, IdentifierKind
from cencomm.domain.ids import GroupId, MessageId, OrganizationId, UserId
from cencomm.domain.share_requests import (
    MAX_MATCHES_PER_GROUP,
    Requester,
    ShareRequest,
    ShareStatus,
    ShareTarget,
)
from cencomm.domain.users import Role
from cencomm.storage.group_roles import effective, role_columns
from cencomm.storage.tables import (
    GroupMemberRow,
    OrganizationRow,
    ReportIdentifierRow,
    SeizureReportRow,
    ShareRequestRow,
    ShareTargetRow,
    UserRow,
)

RED = HandlingCode.RED.value


def _visible_to(group_id: Any, user_id: Any, organization_id: Any) -> Any:
    """The user (or their organisation) holds a membership in the group: they can see it."""
    return exists().where(
        GroupMemberRow.group_id == group_id,
        or_(GroupMemberRow.user_id == user_id, GroupMemberRow.organization_id == organization_id),
    )


def _to_target(row: ShareTargetRow) -> ShareTarget:
    return ShareTarget(
        group_id=GroupId(row.group_id),
        message_ids=tuple(MessageId(uuid.UUID(m)) for m in row.message_ids),
        status=ShareStatus(row.status),
        decided_at=row.decided_at,
        decided_by=UserId(row.decided_by) if row.decided_by else None,
        note=row.note,
    )


def _to_request(row: ShareRequestRow, targets: tuple[ShareTarget, ...] = ()) -> ShareRequest:
    return ShareRequest(
        id=row.id,
        requester_id=UserId(row.requester_id),
        requester_organization_id=OrganizationId(row.requester_organization_id),
        message_id=MessageId(row.message_id),
        group_id=GroupId(row.group_id),
        identifier=Identifier(IdentifierKind(row.kind), row.value, row.label),
        reason=row.reason,
        status=ShareStatus(row.status),
        created_at=row.created_at,
        decided_at=row.decided_at,
        targets=targets,
    )


class ShareRequestStore:
    def __init__(self, session: Session) -> None:
        self._session = session

    # -- the rule ----------------------------------------------------------------------------

    def identifiers_of(self, message_id: uuid.UUID) -> list[Identifier]:
        rows = self._session.execute(
            select(ReportIdentifierRow.kind, ReportIdentifierRow.value, ReportIdentifierRow.label)
            .where(ReportIdentifierRow.message_id == message_id)
            .order_by(ReportIdentifierRow.kind, ReportIdentifierRow.value)
        ).all()
        return [Identifier(IdentifierKind(k), v, label) for k, v, label in rows]

    def elsewhere(
        self,
        message_id: uuid.UUID,
        group_id: uuid.UUID,
        user_id: uuid.UUID,
        organization_id: uuid.UUID,
    ) -> list[Identifier]:
        """The identifiers of the report that also occur in a report of a group the user cannot
        see, neither report hidden nor TLP:RED (the caller checks that staff, who see every
        group, never get here). Nothing about the other reports comes back."""
        mine, other = aliased(ReportIdentifierRow), aliased(ReportIdentifierRow)
        own, theirs = aliased(SeizureReportRow), aliased(SeizureReportRow)
        query = (
            select(mine.kind, mine.value, mine.label)
            .join(own, own.message_id == mine.message_id)
            .join(other, and_(other.kind == mine.kind, other.value == mine.value))
            .join(theirs, theirs.message_id == other.message_id)
            .where(
                mine.message_id == message_id,
                own.hidden.is_(False),
                own.hc != RED,
                other.group_id != group_id,
                theirs.hidden.is_(False),
                theirs.hc != RED,
                ~_visible_to(other.group_id, user_id, organization_id),
            )
            .distinct()
            .order_by(mine.kind, mine.value)
        )
        return [
            Identifier(IdentifierKind(k), v, label)
            for k, v, label in self._session.execute(query).all()
        ]

    def matches_elsewhere(
        self,
        identifier: Identifier,
        group_id: uuid.UUID,
        user_id: uuid.UUID,
        organization_id: uuid.UUID,
    ) -> dict[GroupId, tuple[MessageId, ...]]:
        """The groups the user cannot see holding a report (not hidden, not TLP:RED) with this
        identifier, other than `group_id`, each with its newest matching reports. One statement
        whatever the outcome: no report, or only hidden or RED ones, cost the same."""
        rows = self._session.execute(
            select(ReportIdentifierRow.group_id, ReportIdentifierRow.message_id)
            .join(SeizureReportRow, SeizureReportRow.message_id == ReportIdentifierRow.message_id)
            .where(
                ReportIdentifierRow.kind == identifier.kind.value,
                ReportIdentifierRow.value == identifier.value,
                ReportIdentifierRow.group_id != group_id,
                SeizureReportRow.hidden.is_(False),
                SeizureReportRow.hc != RED,
                ~_visible_to(ReportIdentifierRow.group_id, user_id, organization_id),
            )
            .order_by(ReportIdentifierRow.group_id, SeizureReportRow.seq.desc())
        ).all()
        found: dict[GroupId, list[MessageId]] = {}
        for group, message in rows:
            matches = found.setdefault(GroupId(group), [])
            if len(matches) < MAX_MATCHES_PER_GROUP:
                matches.append(MessageId(message))
        return {group: tuple(messages) for group, messages in found.items()}

    def shown_reports(
        self, message_ids: Sequence[uuid.UUID], withheld: frozenset[str]
    ) -> list[uuid.UUID]:
        """Of these reports, the ids of those still shown across groups (not hidden, not RED,
        not withheld from this reader), newest first."""
        if not message_ids:
            return []
        codes = withheld | {RED}
        rows = self._session.execute(
            select(SeizureReportRow.message_id)
            .where(
                SeizureReportRow.message_id.in_(message_ids),
                SeizureReportRow.hidden.is_(False),
                SeizureReportRow.hc.not_in(codes),
            )
            .order_by(SeizureReportRow.reported_at.desc(), SeizureReportRow.message_id)
        ).all()
        return [uuid.UUID(str(row[0])) for row in rows]

    # -- requests ----------------------------------------------------------------------------

    def lock_requester(self, user_id: uuid.UUID) -> None:
        """Serialise one requester's creations (the repeat check and the pending cap). SQLite
        writes are serial already; PostgreSQL locks the user's row."""
        self._session.execute(select(UserRow.id).where(UserRow.id == user_id).with_for_update())

    def find_pending(
        self, requester_id: uuid.UUID, message_id: uuid.UUID, identifier: Identifier
    ) -> ShareRequest | None:
        row = self._session.scalar(
            select(ShareRequestRow).where(
                ShareRequestRow.requester_id == requester_id,
                ShareRequestRow.message_id == message_id,
                ShareRequestRow.kind == identifier.kind.value,
                ShareRequestRow.value == identifier.value,
                ShareRequestRow.status == ShareStatus.PENDING.value,
            )
        )
        return _to_request(row) if row else None

    def count_pending(self, requester_id: uuid.UUID) -> int:
        return int(
            self._session.scalar(
                select(func.count())
                .select_from(ShareRequestRow)
                .where(
                    ShareRequestRow.requester_id == requester_id,
                    ShareRequestRow.status == ShareStatus.PENDING.value,
                )
            )
            or 0
        )

    def insert(self, request: ShareRequest) -> None:
        self._session.execute(
            insert(ShareRequestRow).values(
                id=request.id,
                requester_id=request.requester_id,
                requester_organization_id=request.requester_organization_id,
                message_id=request.message_id,
                group_id=request.group_id,
                kind=request.identifier.kind.value,
                value=request.identifier.value,
                label=request.identifier.label,
                reason=request.reason,
                status=request.status.value,
                created_at=request.created_at,
                decided_at=None,
            )
        )
        self._session.execute(
            insert(ShareTargetRow),
            [
                {
                    "request_id": request.id,
                    "group_id": t.group_id,
                    "message_ids": [str(m) for m in t.message_ids],
                    "status": t.status.value,
                    "decided_at": None,
                    "decided_by": None,
                    "note": None,
                }
                for t in request.targets
            ],
        )

    def find(self, request_id: uuid.UUID) -> ShareRequest | None:
        """The request with every target (None when absent)."""
        row = self._session.get(ShareRequestRow, request_id)
        if row is None:
            return None
        targets = self._session.scalars(
            select(ShareTargetRow)
            .where(ShareTargetRow.request_id == request_id)
            .order_by(ShareTargetRow.group_id)
        ).all()
        return _to_request(row, tuple(_to_target(t) for t in targets))

    def find_target(
        self, request_id: uuid.UUID, group_id: uuid.UUID
    ) -> tuple[ShareRequest, ShareTarget] | None:
        """The request and the one target `group_id`, in one statement (None when the request is
        absent or does not target that group: the two take the same path)."""
        found = self._session.execute(
            select(ShareRequestRow, ShareTargetRow)
            .join(ShareTargetRow, ShareTargetRow.request_id == ShareRequestRow.id)
            .where(ShareRequestRow.id == request_id, ShareTargetRow.group_id == group_id)
        ).first()
        if found is None:
            return None
        request, target = found
        return _to_request(request), _to_target(target)

    def decide(
        self,
        request_id: uuid.UUID,
        group_id: uuid.UUID,
        status: ShareStatus,
        by: uuid.UUID,
        now: datetime,
        note: str | None,
    ) -> bool:
        """Move a pending target to `status`; False when it was decided already (a race lost)."""
        result = self._session.execute(
            update(ShareTargetRow)
            .where(
                ShareTargetRow.request_id == request_id,
                ShareTargetRow.group_id == group_id,
                ShareTargetRow.status == ShareStatus.PENDING.value,
            )
            .values(status=status.value, decided_at=now, decided_by=by, note=note)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def target_statuses(self, request_id: uuid.UUID) -> list[ShareStatus]:
        rows = self._session.scalars(
            select(ShareTargetRow.status).where(ShareTargetRow.request_id == request_id)
        ).all()
        return [ShareStatus(s) for s in rows]

    def set_status(
        self, request_id: uuid.UUID, status: ShareStatus, decided_at: datetime | None
    ) -> None:
        self._session.execute(
            update(ShareRequestRow)
            .where(ShareRequestRow.id == request_id)
            .values(status=status.value, decided_at=decided_at)
        )

    def list_own(
        self, requester_id: uuid.UUID, before: tuple[datetime, uuid.UUID] | None, limit: int
    ) -> list[ShareRequest]:
        """The requester's requests, newest first; `before`: the last of the previous page."""
        query = select(ShareRequestRow).where(ShareRequestRow.requester_id == requester_id)
        if before is not None:
            at, last = before
            query = query.where(
                or_(
                    ShareRequestRow.created_at < at,
                    and_(ShareRequestRow.created_at == at, ShareRequestRow.id < last),
                )
            )
        query = query.order_by(ShareRequestRow.created_at.desc(), ShareRequestRow.id.desc())
        return [_to_request(r) for r in self._session.scalars(query.limit(limit)).all()]

    def list_for_group(
        self,
        group_id: uuid.UUID,
        status: ShareStatus | None,
        before: tuple[datetime, uuid.UUID] | None,
        limit: int,
    ) -> list[tuple[ShareRequest, ShareTarget, Requester]]:
        """Requests targeting the group (newest first), each with that group's target and who
        asks, in one statement."""
        query = (
            select(ShareRequestRow, ShareTargetRow, UserRow.display_name, OrganizationRow)
            .join(ShareTargetRow, ShareTargetRow.request_id == ShareRequestRow.id)
            .join(UserRow, UserRow.id == ShareRequestRow.requester_id)
            .join(OrganizationRow, OrganizationRow.id == ShareRequestRow.requester_organization_id)
            .where(ShareTargetRow.group_id == group_id)
        )
        if status is not None:
            query = query.where(ShareTargetRow.status == status.value)
        if before is not None:
            at, last = before
            query = query.where(
                or_(
                    ShareRequestRow.created_at < at,
                    and_(ShareRequestRow.created_at == at, ShareRequestRow.id < last),
                )
            )
        query = query.order_by(ShareRequestRow.created_at.desc(), ShareRequestRow.id.desc())
        return [
            (_to_request(request), _to_target(target), Requester(name, org.name, org.country))
            for request, target, name, org in self._session.execute(query.limit(limit)).all()
        ]

    def moderator_ids(self, group_id: uuid.UUID) -> list[UserId]:
        """The users who moderate the group by their effective role (`domain.groups.
        effective_role`: their own membership, else their organisation's), enabled, not
        observers (who never moderate). Staff who are not members are not included."""
        own, organization = role_columns(group_id, UserRow.id, UserRow.organization_id)
        rows = self._session.execute(
            select(UserRow.id, own, organization).where(
                UserRow.disabled.is_(False),
                UserRow.role != Role.OBSERVER.value,
                _visible_to(group_id, UserRow.id, UserRow.organization_id),
            )
        ).all()
        return [
            UserId(user_id)
            for user_id, mine, theirs in rows
            if effective(mine, theirs) is GroupRole.MODERATOR
        ]

    def requester_of(self, request: ShareRequest) -> Requester:
        row = self._session.execute(
            select(UserRow.display_name, OrganizationRow.name, OrganizationRow.country)
            .join(OrganizationRow, OrganizationRow.id == request.requester_organization_id)
            .where(UserRow.id == request.requester_id)
        ).one()
        return Requester(row[0], row[1], row[2])
