"""Groups, their members and join requests."""

from __future__ import annotations

import uuid
from typing import Any

from cencomm.domain.clock import rfc3339
from cencomm.domain.groups import Group, GroupRole, JoinRequest, JoinRequestView, Membership
from cencomm.domain.wire.common import time_or_none


def group_json(group: Group, my_role: GroupRole | None) -> dict[str, Any]:
    """A group with the caller's group role (None: staff who are not members)."""
    return {
        "id": str(group.id),
        "code": group.code,
        "name": group.name,
        "description": group.description,
        "starts_at": time_or_none(group.starts_at),
        "ends_at": time_or_none(group.ends_at),
        "status": group.status.value,
        "roster_visible": group.roster_visible,
        "report_form": group.report_form.value,
        "created_at": rfc3339(group.created_at),
        "my_role": my_role.value if my_role else None,
        "last_seq": group.last_seq,
    }


def member_json(membership: Membership, name: str, organization_id: uuid.UUID) -> dict[str, Any]:
    """A member: a user (`name` their display name, `organization_id` theirs) or a whole
    organisation (`name` and `organization_id` its own)."""
    return {
        "kind": "user" if membership.user_id else "organization",
        "user_id": str(membership.user_id) if membership.user_id else None,
        "organization_id": str(organization_id),
        "name": name,
        "role": membership.role.value,
        "added_at": rfc3339(membership.added_at),
    }


def join_request_json(request: JoinRequest) -> dict[str, Any]:
    return {
        "id": str(request.id),
        "group_id": str(request.group_id),
        "user_id": str(request.user_id),
        "organization_id": str(request.organization_id),
        "reason": request.reason,
        "status": request.status.value,
        "created_at": rfc3339(request.created_at),
    }


def join_request_view_json(view: JoinRequestView) -> dict[str, Any]:
    """A join request in a moderator's list, with who asks (group moderators who are not staff
    cannot read the directory)."""
    return {
        **join_request_json(view.request),
        "username": view.username,
        "display_name": view.display_name,
        "organization_name": view.organization_name,
    }


# `POST /join-requests`: the same answer whether or not the code exists, so codes cannot be probed.
JOIN_REQUEST_RECEIVED: dict[str, Any] = {"status": "received"}


# What an evidence bundle's export.json says of its group: the group object without what is only
# the reader's (`my_role`) or changes after the export (`last_seq` is the bundle's own field).
_EVIDENCE_GROUP = ("id", "code", "name", "status", "created_at")


def evidence_group_json(group: Group) -> dict[str, Any]:
    full = group_json(group, None)
    return {name: full[name] for name in _EVIDENCE_GROUP}
