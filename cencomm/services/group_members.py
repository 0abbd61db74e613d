"""Who may be admitted to a group, and in which role (checked inside the admitting unit)."""

from __future__ import annotations

import uuid

from cencomm.domain.errors import FieldError, Invalid
from cencomm.domain.groups import GroupRole
from cencomm.domain.users import Role
from cencomm.storage.unit import Unit


def check_candidate(
    unit: Unit,
    role: GroupRole,
    *,
    user_id: uuid.UUID | None,
    organization_id: uuid.UUID | None,
) -> None:
    """The user or organisation exists, and a partner observer joins only as an observer.

    Raises:
        Invalid: `unknown-user`, `observer-only` or `unknown-organization`.
    """
    if user_id is not None:
        user = unit.users.find(user_id)
        if user is None:
            raise Invalid(
                "no such user",
                slug="unknown-user",
                errors=(FieldError("body.user_id", "no such user"),),
            )
        if user.role is Role.OBSERVER and role is not GroupRole.OBSERVER:
            raise Invalid(
                "partner observers join groups as observers",
                slug="observer-only",
                errors=(FieldError("body.role", "must be observer"),),
            )
    elif organization_id is None or unit.organizations.find(organization_id) is None:
        raise Invalid(
            "no such organisation",
            slug="unknown-organization",
            errors=(FieldError("body.organization_id", "no such organisation"),),
        )
