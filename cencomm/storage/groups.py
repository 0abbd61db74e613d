"""GroupStore: groups, their members (users and organisations) and join requests."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, delete, func, insert, literal, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cencomm.domain.errors import Conflict
from cencomm.domain.groups import (
    Group,
    GroupRole,
    GroupStatus,
    JoinRequest,
    JoinRequestStatus,
    JoinRequestView,
    Membership,
)
from cencomm.domain.ids import GroupId, JoinRequestId, OrganizationId, UserId, new_id
from cencomm.domain.seizure_standard import ReportForm
from cencomm.storage.changes import Changed, mark
from cencomm.storage.group_roles import effective, role_columns
from cencomm.storage.tables import (
    GroupMemberRow,
    GroupRow,
    JoinRequestRow,
    OrganizationRow,
    UserRow,
)


def to_group(row: GroupRow) -> Group:
    return Group(
        id=GroupId(row.id),
        code=row.code,
        name=row.name,
        description=row.description,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        status=GroupStatus(row.status),
        roster_visible=row.roster_visible,
        created_at=row.created_at,
        last_seq=row.last_seq,
        report_form=ReportForm(row.report_form),
    )


def to_membership(row: GroupMemberRow) -> Membership:
    return Membership(
        group_id=GroupId(row.group_id),
        user_id=UserId(row.user_id) if row.user_id else None,
        organization_id=OrganizationId(row.organization_id) if row.organization_id else None,
        role=GroupRole(row.role),
        added_at=row.added_at,
    )


def to_join_request(row: JoinRequestRow) -> JoinRequest:
    return JoinRequest(
        id=JoinRequestId(row.id),
        group_id=GroupId(row.group_id),
        user_id=UserId(row.user_id),
        organization_id=OrganizationId(row.organization_id),
        reason=row.reason,
        status=JoinRequestStatus(row.status),
        created_at=row.created_at,
    )


class GroupStore:
    def __init__(self, session: Session) -> None:
        self._session = session

    # -- groups ----------------------------------------------------------------------------

    def insert(self, group: Group) -> None:
        mark(self._session, Changed.POSTING)
        self._session.add(
            GroupRow(
                id=group.id,
                code=group.code,
                name=group.name,
                description=group.description,
                starts_at=group.starts_at,
                ends_at=group.ends_at,
                status=group.status.value,
                roster_visible=group.roster_visible,
                report_form=group.report_form.value,
                last_seq=0,
                created_at=group.created_at,
            )
        )
        try:
            self._session.flush()
        except IntegrityError:
            raise Conflict("a group with this code exists", slug="duplicate-group-code") from None

    def find(self, group_id: uuid.UUID, *, for_update: bool = False) -> Group | None:
        row = self._session.get(GroupRow, group_id, with_for_update=for_update)
        return to_group(row) if row else None

    def find_by_code(self, code: str) -> Group | None:
        row = self._session.scalar(select(GroupRow).where(GroupRow.code == code))
        return to_group(row) if row else None

    def update(
        self,
        group_id: uuid.UUID,
        *,
        name: str,
        description: str | None,
        ends_at: datetime | None,
        status: GroupStatus,
        report_form: ReportForm,
    ) -> None:
        mark(self._session, Changed.POSTING)
        self._session.execute(
            update(GroupRow)
            .where(GroupRow.id == group_id)
            .values(
                name=name,
                description=description,
                ends_at=ends_at,
                status=status.value,
                report_form=report_form.value,
            )
        )

    def list_page(
        self,
        *,
        user_id: uuid.UUID | None,
        organization_id: uuid.UUID | None,
        after: str | None,
        limit: int,
    ) -> list[Group]:
        """Groups ordered by code; with ids given, only those the user or organisation is in."""
        query = select(GroupRow).order_by(GroupRow.code).limit(limit)
        if user_id is not None:
            member_of = select(GroupMemberRow.group_id).where(
                or_(
                    GroupMemberRow.user_id == user_id,
                    GroupMemberRow.organization_id == organization_id,
                )
            )
            query = query.where(GroupRow.id.in_(member_of))
        if after is not None:
            query = query.where(GroupRow.code > after)
        return [to_group(r) for r in (self._session.scalars(query)).all()]

    # -- membership ------------------------------------------------------------------------

    def role_of(
        self, group_id: uuid.UUID, user_id: uuid.UUID, organization_id: uuid.UUID
    ) -> GroupRole | None:
        """The user's effective role in the group (`domain.groups.effective_role`)."""
        row = (
            self._session.execute(select(*role_columns(group_id, user_id, organization_id)))
        ).one()
        return effective(row[0], row[1])

    def roles_of(
        self, group_ids: list[GroupId], user_id: uuid.UUID, organization_id: uuid.UUID
    ) -> dict[GroupId, GroupRole]:
        """The user's effective role in each of these groups they are in (one query)."""
        if not group_ids:
            return {}
        rows = self._session.execute(
            select(GroupRow.id, *role_columns(GroupRow.id, user_id, organization_id)).where(
                GroupRow.id.in_(group_ids)
            )
        )
        roles: dict[GroupId, GroupRole] = {}
        for group_id, own, organization in rows.all():
            role = effective(own, organization)
            if role is not None:
                roles[GroupId(group_id)] = role
        return roles

    def find_membership(
        self,
        group_id: uuid.UUID,
        *,
        user_id: uuid.UUID | None = None,
        organization_id: uuid.UUID | None = None,
    ) -> Membership | None:
        query = select(GroupMemberRow).where(GroupMemberRow.group_id == group_id)
        if user_id is not None:
            query = query.where(GroupMemberRow.user_id == user_id)
        else:
            query = query.where(GroupMemberRow.organization_id == organization_id)
        row = self._session.scalar(query)
        return to_membership(row) if row else None

    def upsert_membership(
        self,
        group_id: uuid.UUID,
        role: GroupRole,
        now: datetime,
        *,
        user_id: uuid.UUID | None = None,
        organization_id: uuid.UUID | None = None,
    ) -> tuple[Membership, bool]:
        """Add the member, or change their role; returns the membership and whether it is new."""
        mark(self._session, Changed.POSTING)
        existing = self.find_membership(group_id, user_id=user_id, organization_id=organization_id)
        if existing is not None:
            if existing.role is not role:
                self._session.execute(
                    update(GroupMemberRow)
                    .where(
                        GroupMemberRow.group_id == group_id,
                        GroupMemberRow.user_id == user_id
                        if user_id is not None
                        else GroupMemberRow.organization_id == organization_id,
                    )
                    .values(role=role.value)
                )
            return Membership(
                existing.group_id,
                existing.user_id,
                existing.organization_id,
                role,
                existing.added_at,
            ), False
        self._session.add(
            GroupMemberRow(
                id=new_id(),
                group_id=group_id,
                user_id=user_id,
                organization_id=organization_id,
                role=role.value,
                added_at=now,
            )
        )
        try:
            self._session.flush()
        except IntegrityError:  # a concurrent add of the same member won
            raise Conflict("this member was just added", slug="already-member") from None
        membership = Membership(
            GroupId(group_id),
            UserId(user_id) if user_id else None,
            OrganizationId(organization_id) if organization_id else None,
            role,
            now,
        )
        return membership, True

    def delete_membership(
        self,
        group_id: uuid.UUID,
        *,
        user_id: uuid.UUID | None = None,
        organization_id: uuid.UUID | None = None,
    ) -> bool:
        mark(self._session, Changed.POSTING)
        query = delete(GroupMemberRow).where(GroupMemberRow.group_id == group_id)
        if user_id is not None:
            query = query.where(GroupMemberRow.user_id == user_id)
        else:
            query = query.where(GroupMemberRow.organization_id == organization_id)
        result = self._session.execute(query)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def count_moderators(self, group_id: uuid.UUID) -> int:
        count = self._session.scalar(
            select(func.count())
            .select_from(GroupMemberRow)
            .where(
                GroupMemberRow.group_id == group_id,
                GroupMemberRow.role == GroupRole.MODERATOR.value,
            )
        )
        return int(count or 0)

    def list_members(self, group_id: uuid.UUID) -> list[Membership]:
        rows = self._session.scalars(
            select(GroupMemberRow)
            .where(GroupMemberRow.group_id == group_id)
            .order_by(GroupMemberRow.added_at, GroupMemberRow.id)
        )
        return [to_membership(r) for r in rows.all()]

    # -- join requests ---------------------------------------------------------------------

    def insert_join_request(self, request: JoinRequest) -> bool:
        """Insert the request if a group has its `group_id`; returns whether one was inserted.

        One `INSERT ... SELECT` either way: a caller that must not create a request passes a
        group id no group has (the nil UUID), so that path runs the very same statement.
        """
        row = JoinRequestRow
        source = select(
            literal(request.id, row.id.type),
            GroupRow.id,  # from the group row: no group, nothing inserted
            literal(request.user_id, row.user_id.type),
            literal(request.organization_id, row.organization_id.type),
            literal(request.reason, row.reason.type),
            literal(request.status.value, row.status.type),
            literal(request.created_at, row.created_at.type),
        ).where(GroupRow.id == request.group_id)
        columns = [
            row.id,
            row.group_id,
            row.user_id,
            row.organization_id,
            row.reason,
            row.status,
            row.created_at,
        ]
        result = self._session.execute(insert(JoinRequestRow).from_select(columns, source))
        return bool(getattr(result, "rowcount", 0))

    def has_pending_request(self, group_id: uuid.UUID, user_id: uuid.UUID) -> bool:
        found = self._session.scalar(
            select(JoinRequestRow.id).where(
                JoinRequestRow.group_id == group_id,
                JoinRequestRow.user_id == user_id,
                JoinRequestRow.status == JoinRequestStatus.PENDING.value,
            )
        )
        return found is not None

    def find_join_request(self, request_id: uuid.UUID) -> JoinRequest | None:
        row = self._session.get(JoinRequestRow, request_id)
        return to_join_request(row) if row else None

    def decide_join_request(
        self, request_id: uuid.UUID, status: JoinRequestStatus, by: uuid.UUID, now: datetime
    ) -> bool:
        """Move a pending request to `status`; False when it was decided already (a race lost)."""
        result = self._session.execute(
            update(JoinRequestRow)
            .where(
                JoinRequestRow.id == request_id,
                JoinRequestRow.status == JoinRequestStatus.PENDING.value,
            )
            .values(status=status.value, decided_at=now, decided_by=by)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def list_join_requests(
        self, group_id: uuid.UUID, status: JoinRequestStatus | None, after: str | None, limit: int
    ) -> list[JoinRequest]:
        """Oldest first; `after` is the id of the last request of the previous page."""
        query = self._join_request_page(select(JoinRequestRow), group_id, status, after, limit)
        return [to_join_request(r) for r in (self._session.scalars(query)).all()]

    def list_join_request_views(
        self, group_id: uuid.UUID, status: JoinRequestStatus | None, after: str | None, limit: int
    ) -> list[JoinRequestView]:
        """`list_join_requests` with each requester's names, in one query."""
        columns = (
            select(JoinRequestRow, UserRow.username, UserRow.display_name, OrganizationRow.name)
            .join(UserRow, UserRow.id == JoinRequestRow.user_id)
            .join(OrganizationRow, OrganizationRow.id == JoinRequestRow.organization_id)
        )
        # Wider than mypy's Select generics spell, as for the message queries.
        query = self._join_request_page(
            cast("Select[Any]", columns), group_id, status, after, limit
        )
        return [
            JoinRequestView(to_join_request(row), username, display_name, organization)
            for row, username, display_name, organization in (self._session.execute(query)).all()
        ]

    def _join_request_page(
        self,
        query: Select[Any],
        group_id: uuid.UUID,
        status: JoinRequestStatus | None,
        after: str | None,
        limit: int,
    ) -> Select[Any]:
        query = query.where(JoinRequestRow.group_id == group_id)
        if status is not None:
            query = query.where(JoinRequestRow.status == status.value)
        if after is not None:
            anchor = self._session.get(JoinRequestRow, uuid.UUID(after))
            if anchor is not None:
                query = query.where(
                    or_(
                        JoinRequestRow.created_at > anchor.created_at,
                        (JoinRequestRow.created_at == anchor.created_at)
                        & (JoinRequestRow.id > anchor.id),
                    )
                )
        return query.order_by(JoinRequestRow.created_at, JoinRequestRow.id).limit(limit)
