"""AudienceStore: who is reached by a group, organisations, regions or everyone, with roles.

Alert recipients and live-event readers are decided by the domain policy from these rows
(global role, organisation, effective group role); only enabled users are returned.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from cencomm.domain.groups import GroupRole
from cencomm.domain.ids import GroupId, OrganizationId, UserId
from cencomm.domain.users import Role
from cencomm.storage.group_roles import effective, role_columns
from cencomm.storage.tables import GroupMemberRow, GroupRow, OrganizationRow, UserRow


@dataclass(frozen=True, slots=True)
class AudienceMember:
    user_id: UserId
    organization_id: OrganizationId
    role: Role
    group_role: GroupRole | None = None  # set when reached through a group


class AudienceStore:
    def __init__(self, session: Session) -> None:
        self._session = session

    def _users(self, *conditions: object) -> list[AudienceMember]:
        rows = self._session.execute(
            select(UserRow.id, UserRow.organization_id, UserRow.role).where(
                UserRow.disabled.is_(False),
                *conditions,  # type: ignore[arg-type]
            )
        )
        return [AudienceMember(UserId(r[0]), OrganizationId(r[1]), Role(r[2])) for r in rows.all()]

    def group_members(self, group_id: uuid.UUID) -> list[AudienceMember]:
        """Users in the group directly or through their organisation, with their effective
        role (`domain.groups.effective_role`)."""
        in_group = GroupMemberRow.group_id == group_id
        return self._with_group_roles(
            group_id,
            or_(
                UserRow.id.in_(select(GroupMemberRow.user_id).where(in_group)),
                UserRow.organization_id.in_(select(GroupMemberRow.organization_id).where(in_group)),
            ),
        )

    def _with_group_roles(
        self, group_id: uuid.UUID, *conditions: ColumnElement[bool]
    ) -> list[AudienceMember]:
        """Enabled users matching `conditions`, each with their effective role in the group
        (None when they are not in it)."""
        rows = self._session.execute(
            select(
                UserRow.id,
                UserRow.organization_id,
                UserRow.role,
                *role_columns(group_id, UserRow.id, UserRow.organization_id),
            ).where(UserRow.disabled.is_(False), *conditions)
        )
        return [
            AudienceMember(UserId(r[0]), OrganizationId(r[1]), Role(r[2]), effective(r[3], r[4]))
            for r in rows.all()
        ]

    def organization_users(self, organization_ids: Iterable[uuid.UUID]) -> list[AudienceMember]:
        return self._users(UserRow.organization_id.in_(list(organization_ids)))

    def region_users(self, regions: Iterable[str]) -> list[AudienceMember]:
        in_regions = select(OrganizationRow.id).where(OrganizationRow.region.in_(list(regions)))
        return self._users(UserRow.organization_id.in_(in_regions))

    def everyone(self) -> list[AudienceMember]:
        return self._users()

    def existing_organizations(self, ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
        rows = self._session.scalars(
            select(OrganizationRow.id).where(OrganizationRow.id.in_(list(ids)))
        )
        return set(rows.all())

    def readers(
        self, group_id: uuid.UUID, user_ids: Iterable[uuid.UUID]
    ) -> dict[UserId, AudienceMember]:
        """Of `user_ids`, the enabled ones with their current global role and effective group
        role (None for staff who are not members; non-members who are not staff are left out
        by the caller's policy check)."""
        ids = list(user_ids)
        if not ids:
            return {}
        members = self._with_group_roles(group_id, UserRow.id.in_(ids))
        return {m.user_id: m for m in members}

    def member_group_ids(
        self, user_id: uuid.UUID, organization_id: uuid.UUID, *, everything: bool
    ) -> list[GroupId]:
        """Groups the user is in (directly or through their organisation); all with `everything`."""
        return list(self.member_group_positions(user_id, organization_id, everything=everything))

    def member_group_positions(
        self, user_id: uuid.UUID, organization_id: uuid.UUID, *, everything: bool
    ) -> dict[GroupId, int]:
        """The same groups, each with its latest seq."""
        query = select(GroupRow.id, GroupRow.last_seq)
        if not everything:
            member_of = select(GroupMemberRow.group_id).where(
                or_(
                    GroupMemberRow.user_id == user_id,
                    GroupMemberRow.organization_id == organization_id,
                )
            )
            query = query.where(GroupRow.id.in_(member_of))
        return {GroupId(row[0]): int(row[1]) for row in self._session.execute(query).all()}
