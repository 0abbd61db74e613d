"""Closed user groups (operations): lifecycle, membership roles, and who may do what inside.

Access is decided from four things only: the caller's global role, their group role (their own
membership, else their organisation's: `effective_role`), the group's status and, for content,
its handling code.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import datetime

from cencomm.domain.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from cencomm.domain.ids import GroupId, OrganizationId, UserId
from cencomm.domain.seizure_standard import ReportForm
from cencomm.domain.users import Principal, Role

MAX_CODE = 32
CODE_PATTERN = re.compile(rf"^[A-Z0-9][A-Z0-9-]{{2,{MAX_CODE - 1}}}$")
MAX_NAME = 200
MAX_DESCRIPTION = 4000
MAX_REASON = 1000


class GroupStatus(enum.StrEnum):
    PLANNED = "planned"
    ACTIVE = "active"
    CLOSED = "closed"
    ARCHIVED = "archived"


# The lifecycle: planned → active → closed → archived, and closed → active to reopen.
TRANSITIONS: dict[GroupStatus, frozenset[GroupStatus]] = {
    GroupStatus.PLANNED: frozenset({GroupStatus.ACTIVE}),
    GroupStatus.ACTIVE: frozenset({GroupStatus.CLOSED}),
    GroupStatus.CLOSED: frozenset({GroupStatus.ARCHIVED, GroupStatus.ACTIVE}),
    GroupStatus.ARCHIVED: frozenset(),
}


class GroupRole(enum.StrEnum):
    MODERATOR = "moderator"
    MEMBER = "member"
    OBSERVER = "observer"


def effective_role(own: GroupRole | None, organization: GroupRole | None) -> GroupRole | None:
    """A user's role in a group, from their own membership and their organisation's.

    The one definition, used by every path (HTTP reads, posting, search, live delivery, alert
    recipients, `my_role`): the user's own membership, when there is one, decides, so a
    moderator can restrict one user below the rest of their organisation (or raise them above
    it); otherwise their organisation's membership does. A user belongs to one organisation
    and an organisation holds at most one membership per group, so there is never more than
    one of each.
    """
    return own if own is not None else organization


class JoinRequestStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Group:
    id: GroupId
    code: str
    name: str
    description: str | None
    starts_at: datetime | None
    ends_at: datetime | None
    status: GroupStatus
    roster_visible: bool
    created_at: datetime
    # The newest message's seq (0: none yet); clients count unread messages from it.
    last_seq: int = 0
    # Which seizure report form the group asks for (standard: conveyance and documents).
    report_form: ReportForm = ReportForm.SIMPLIFIED


@dataclass(frozen=True, slots=True)
class Membership:
    """A user or a whole organisation (covering its current and future users) in a group."""

    group_id: GroupId
    user_id: UserId | None
    organization_id: OrganizationId | None
    role: GroupRole
    added_at: datetime


@dataclass(frozen=True, slots=True)
class JoinRequest:
    id: object
    group_id: GroupId
    user_id: UserId
    organization_id: OrganizationId
    reason: str
    status: JoinRequestStatus
    created_at: datetime


@dataclass(frozen=True, slots=True)
class GroupAccess:
    """What one principal may do in one group. Built by `access_for`, used by every check."""

    group: Group
    group_role: GroupRole | None  # None for staff who are not members

    principal: Principal

    @property
    def read_only(self) -> bool:
        """Observers (global or in this group) only ever read."""
        return self.principal.role is Role.OBSERVER or self.group_role is GroupRole.OBSERVER

    @property
    def can_moderate(self) -> bool:
        if self.principal.role is Role.OBSERVER:
            return False
        return self.principal.is_staff or self.group_role is GroupRole.MODERATOR

    @property
    def restricted_reader(self) -> bool:
        """Observers never receive TLP:AMBER+STRICT or TLP:RED content."""
        return self.read_only

    @property
    def sees_full_roster(self) -> bool:
        return self.group.roster_visible or self.can_moderate

    def ensure_can_post(self) -> None:
        """Raises Forbidden (observers) or Conflict (group not active)."""
        if self.read_only:
            raise Forbidden("observers are read-only in this group", slug="read-only")
        if self.group.status is not GroupStatus.ACTIVE:
            raise Conflict(f"the group is {self.group.status.value}", slug="group-not-active")

    def ensure_can_moderate(self) -> None:
        if not self.can_moderate:
            raise Forbidden("only the group's moderators may do this", slug="not-moderator")


def access_for(
    principal: Principal, group: Group | None, group_role: GroupRole | None
) -> GroupAccess:
    """Decide visibility. A non-member learns nothing: a group they cannot see is NotFound,
    exactly as a group that does not exist."""
    if group is None or (group_role is None and not principal.is_staff):
        raise NotFound("no such group")
    return GroupAccess(group=group, group_role=group_role, principal=principal)


def check_transition(current: GroupStatus, target: GroupStatus) -> None:
    if target == current:
        return
    if target not in TRANSITIONS[current]:
        raise Conflict(
            f"a {current.value} group cannot become {target.value}", slug="invalid-transition"
        )


def normalize_code(raw: str, field: str = "body.code") -> str:
    code = raw.strip().upper()
    if not CODE_PATTERN.match(code):
        raise Invalid(
            f"group codes are 3 to {MAX_CODE} of A-Z, 0-9 and '-'",
            slug="validation-failed",
            errors=(FieldError(field, f"3-{MAX_CODE} of A-Z 0-9 -, starting alphanumeric"),),
        )
    return code


def check_period(starts_at: datetime | None, ends_at: datetime | None) -> None:
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        raise Invalid(
            "an operation ends after it starts",
            slug="validation-failed",
            errors=(FieldError("body.ends_at", "must be after starts_at"),),
        )


@dataclass(frozen=True, slots=True)
class JoinRequestView:
    """A join request with who is asking, for the group's moderators (who may not read the
    directory): the requester's username and display name and their organisation's name."""

    request: JoinRequest
    username: str
    display_name: str
    organization_name: str


# What creating a group and changing one take (the service checks and cleans each field).
@dataclass(frozen=True, slots=True)
class NewGroup:
    code: str
    name: str
    description: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    roster_visible: bool = True
    report_form: ReportForm = ReportForm.SIMPLIFIED


@dataclass(frozen=True, slots=True)
class GroupChanges:
    name: str | None = None
    description: str | None = None
    ends_at: datetime | None = None
    status: GroupStatus | None = None
    report_form: ReportForm | None = None
    reason: str | None = None
