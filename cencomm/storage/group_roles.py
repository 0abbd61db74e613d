"""Effective group roles in SQL: the two membership roles a query selects for a user in a group,
decided by `domain.groups.effective_role` (the only place the rule is written).

Every store that needs a user's role in a group (the caller's access, groups lists, posting,
live-delivery readers, alert audiences) selects `role_columns(...)` and passes the two values
of each row to `effective`; none compares or ranks roles itself.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ScalarSelect, select

from cencomm.domain.groups import GroupRole, effective_role
from cencomm.storage.tables import GroupMemberRow


def role_columns(
    group_id: Any, user_id: Any, organization_id: Any
) -> tuple[ScalarSelect[Any], ScalarSelect[Any]]:
    """The user's own membership role and their organisation's in the group (each NULL when
    absent), as two scalar subqueries for a select.

    Arguments may be values, bound parameters, or columns of the enclosing query (the
    subqueries then correlate, one pair per row). Each finds at most one row: a group holds one
    membership per user and one per organisation (`uq_group_member_group_user`,
    `uq_group_member_group_organization`).
    """
    own = select(GroupMemberRow.role).where(
        GroupMemberRow.group_id == group_id, GroupMemberRow.user_id == user_id
    )
    organization = select(GroupMemberRow.role).where(
        GroupMemberRow.group_id == group_id, GroupMemberRow.organization_id == organization_id
    )
    return own.scalar_subquery(), organization.scalar_subquery()


def effective(own: object, organization: object) -> GroupRole | None:
    """The effective role from the two values `role_columns` selected."""
    return effective_role(_role(own), _role(organization))


def _role(value: object) -> GroupRole | None:
    return GroupRole(str(value)) if value is not None else None
