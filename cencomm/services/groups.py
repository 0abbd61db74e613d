"""Operation groups: lifecycle, membership, join requests. Every access decided by domain rules."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from cencomm.domain.audit import AuditRecord
from cencomm.domain.clock import Clock
from cencomm.domain.errors import Conflict, Forbidden, Invalid, NotFound
from cencomm.domain.events import MembershipChange, MembershipChanged
from cencomm.domain.groups import (
    MAX_DESCRIPTION,
    MAX_NAME,
    MAX_REASON,
    Group,
    GroupAccess,
    GroupChanges,
    GroupRole,
    GroupStatus,
    JoinRequest,
    JoinRequestStatus,
    JoinRequestView,
    Membership,
    NewGroup,
    access_for,
    check_period,
    check_transition,
    normalize_code,
)
from cencomm.domain.ids import GroupId, JoinRequestId, UserId, new_id
from cencomm.domain.policy import Action, authorize
from cencomm.domain.users import Caller, Principal, Role, clean_name, clean_text
from cencomm.services.audit import AuditTrail
from cencomm.services.events import Publisher
from cencomm.services.group_members import check_candidate
from cencomm.storage.db import Database
from cencomm.storage.groups import GroupStore
from cencomm.storage.unit import Unit


@dataclass(frozen=True, slots=True)
class MemberView:
    membership: Membership
    name: str  # the user's display name or the organisation's name
    organization_id: uuid.UUID  # the user's organisation, or the organisation itself


# The nil UUID is never a group's id (ids are random UUIDv4s). A lookup of a missing object
# (message, join request) goes through `access` with it, so that it runs exactly the same
# queries, and fails the same way, as a lookup of an object in a group the caller cannot see.
NO_GROUP = uuid.UUID(int=0)


def _principal(caller: Caller) -> Principal:
    if caller.principal is None:
        raise Forbidden("authentication required")
    return caller.principal


def _reason(reason: str | None, field: str = "body.reason") -> str | None:
    return None if reason is None else clean_text(reason, field, MAX_REASON)


class GroupService:
    def __init__(self, db: Database, clock: Clock, audit: AuditTrail, publisher: Publisher) -> None:
        self._db = db
        self._clock = clock
        self._audit = audit
        self._publisher = publisher

    def access(
        self,
        unit: Unit,
        principal: Principal,
        group_id: uuid.UUID,
        *,
        for_update: bool = False,
    ) -> GroupAccess:
        """What `principal` may do in the group; NotFound when they may not see it at all.

        The role is looked up even for a missing group: a missing group and a hidden one run
        the same queries and raise the same error, so not even timing tells them apart.
        """
        store = unit.groups
        group = store.find(group_id, for_update=for_update)
        role = store.role_of(group_id, principal.user_id, principal.organization_id)
        return access_for(principal, group, role)

    # -- groups ----------------------------------------------------------------------------

    async def create_group(self, caller: Caller, new: NewGroup) -> Group:
        """A new group in `planned`; its creator becomes its first moderator."""
        principal = _principal(caller)
        authorize(principal, Action.CREATE_GROUP)
        check_period(new.starts_at, new.ends_at)
        now = self._clock.now()
        group = Group(
            id=GroupId(new_id()),
            code=normalize_code(new.code),
            name=clean_name(new.name, "body.name", MAX_NAME),
            description=(
                clean_text(new.description, "body.description", MAX_DESCRIPTION)
                if new.description
                else None
            ),
            starts_at=new.starts_at,
            ends_at=new.ends_at,
            status=GroupStatus.PLANNED,
            roster_visible=new.roster_visible,
            report_form=new.report_form,
            created_at=now,
        )

        def work(unit: Unit) -> None:
            store = unit.groups
            store.insert(group)
            store.upsert_membership(group.id, GroupRole.MODERATOR, now, user_id=principal.user_id)
            self._audit.append(
                unit,
                AuditRecord.by(
                    caller,
                    "group.create",
                    target_type="group",
                    target_id=group.id,
                    group_id=group.id,
                    details={"code": group.code},
                ),
            )

        await self._db.write(work)
        return group

    async def list_groups(
        self, principal: Principal, after: str | None, limit: int
    ) -> list[GroupAccess]:
        """The caller's groups (staff: every group), each with the caller's access, by code."""

        def work(unit: Unit) -> list[GroupAccess]:
            store = unit.groups
            member_filter = None if principal.is_staff else principal
            groups = store.list_page(
                user_id=member_filter.user_id if member_filter else None,
                organization_id=member_filter.organization_id if member_filter else None,
                after=after,
                limit=limit,
            )
            roles = store.roles_of(
                [g.id for g in groups], principal.user_id, principal.organization_id
            )
            return [access_for(principal, g, roles.get(g.id)) for g in groups]

        return await self._db.read(work)

    async def get_group(self, principal: Principal, group_id: uuid.UUID) -> GroupAccess:
        return await self._db.read(lambda unit: self.access(unit, principal, group_id))

    async def update_group(
        self, caller: Caller, group_id: uuid.UUID, changes: GroupChanges
    ) -> Group:
        principal = _principal(caller)

        def work(unit: Unit) -> Group:
            access = self.access(unit, principal, group_id, for_update=True)
            access.ensure_can_moderate()
            group = access.group
            status = changes.status or group.status
            check_transition(group.status, status)
            ends_at = changes.ends_at if changes.ends_at is not None else group.ends_at
            check_period(group.starts_at, ends_at)
            name = clean_name(changes.name, "body.name", MAX_NAME) if changes.name else group.name
            description = (
                clean_text(changes.description, "body.description", MAX_DESCRIPTION)
                if changes.description is not None
                else group.description
            )
            report_form = changes.report_form or group.report_form
            unit.groups.update(
                group_id,
                name=name,
                description=description,
                ends_at=ends_at,
                status=status,
                report_form=report_form,
            )
            details: dict[str, object] = {"reason": _reason(changes.reason)}
            if status is not group.status:
                details["status"] = {"from": group.status.value, "to": status.value}
            for key, value in (("name", changes.name), ("description", changes.description)):
                if value is not None:
                    details[key] = "changed"
            if changes.ends_at is not None:
                details["ends_at"] = "changed"
            if report_form is not group.report_form:
                details["report_form"] = {"from": group.report_form.value, "to": report_form.value}
            self._audit.append(
                unit,
                AuditRecord.by(
                    caller,
                    "group.update",
                    target_type="group",
                    target_id=group_id,
                    group_id=group.id,
                    details=details,
                ),
            )
            updated = unit.groups.find(group_id)
            assert updated is not None  # noqa: S101 - read back inside the same transaction
            return updated

        return await self._db.write(work)

    # -- members ---------------------------------------------------------------------------

    async def list_members(self, principal: Principal, group_id: uuid.UUID) -> list[MemberView]:
        """Members with names; with the roster hidden, non-moderators see only the moderators
        and their own organisation."""

        def work(unit: Unit) -> list[MemberView]:
            access = self.access(unit, principal, group_id)
            memberships = unit.groups.list_members(group_id)
            views: list[MemberView] = []
            for m in memberships:
                if m.user_id is not None:
                    user = unit.users.get(m.user_id)
                    view = MemberView(m, user.display_name, user.organization_id)
                else:
                    assert m.organization_id is not None  # noqa: S101 - check constraint
                    org = unit.organizations.get(m.organization_id)
                    view = MemberView(m, org.name, org.id)
                if (
                    access.sees_full_roster
                    or m.role is GroupRole.MODERATOR
                    or view.organization_id == principal.organization_id
                ):
                    views.append(view)
            return views

        return await self._db.read(work)

    async def add_member(
        self,
        caller: Caller,
        group_id: uuid.UUID,
        role: GroupRole,
        *,
        user_id: uuid.UUID | None = None,
        organization_id: uuid.UUID | None = None,
    ) -> tuple[Membership, bool]:
        """Admit a user or an organisation, or change their role. Returns (membership, created)."""
        principal = _principal(caller)
        now = self._clock.now()

        def work(unit: Unit) -> tuple[Membership, bool, GroupId, tuple[UserId, ...]]:
            access = self.access(unit, principal, group_id, for_update=True)
            access.ensure_can_moderate()
            store = unit.groups
            check_candidate(unit, role, user_id=user_id, organization_id=organization_id)
            before = store.find_membership(
                group_id, user_id=user_id, organization_id=organization_id
            )
            if (
                before is not None
                and before.role is GroupRole.MODERATOR
                and role is not GroupRole.MODERATOR
            ):
                self._keep_a_moderator(store, group_id)
            membership, created = store.upsert_membership(
                group_id, role, now, user_id=user_id, organization_id=organization_id
            )
            affected = self._affected_users(unit, user_id, organization_id)
            if created or before is None or before.role is not role:
                self._audit.append(
                    unit,
                    AuditRecord.by(
                        caller,
                        "group.member_add" if created else "group.member_role",
                        target_type="user" if user_id else "organization",
                        target_id=user_id or organization_id,
                        group_id=access.group.id,
                        details={"role": role.value},
                    ),
                )
            return membership, created, access.group.id, affected

        membership, created, in_group, affected = await self._db.write(work)
        if created:
            self._publisher.publish(MembershipChanged(in_group, affected, MembershipChange.ADDED))
        return membership, created

    async def remove_member(
        self,
        caller: Caller,
        group_id: uuid.UUID,
        *,
        user_id: uuid.UUID | None = None,
        organization_id: uuid.UUID | None = None,
        reason: str | None = None,
    ) -> None:
        """Remove at once (open sockets included); the last moderator cannot be removed."""
        principal = _principal(caller)
        reason = _reason(reason, "query.reason")

        def work(unit: Unit) -> tuple[GroupId, tuple[UserId, ...]]:
            access = self.access(unit, principal, group_id, for_update=True)
            access.ensure_can_moderate()
            store = unit.groups
            existing = store.find_membership(
                group_id, user_id=user_id, organization_id=organization_id
            )
            if existing is None:
                raise NotFound("no such member")
            if existing.role is GroupRole.MODERATOR:
                self._keep_a_moderator(store, group_id)
            store.delete_membership(group_id, user_id=user_id, organization_id=organization_id)
            affected = self._affected_users(unit, user_id, organization_id)
            self._audit.append(
                unit,
                AuditRecord.by(
                    caller,
                    "group.member_remove",
                    target_type="user" if user_id else "organization",
                    target_id=user_id or organization_id,
                    group_id=access.group.id,
                    details={"reason": reason},
                ),
            )
            return access.group.id, affected

        in_group, affected = await self._db.write(work)
        self._publisher.publish(MembershipChanged(in_group, affected, MembershipChange.REMOVED))

    def _keep_a_moderator(self, store: GroupStore, group_id: uuid.UUID) -> None:
        # The group row is locked (for_update), so two removals cannot both pass this check.
        if store.count_moderators(group_id) <= 1:
            raise Conflict("a group always keeps one moderator", slug="last-moderator")

    def _affected_users(
        self,
        unit: Unit,
        user_id: uuid.UUID | None,
        organization_id: uuid.UUID | None,
    ) -> tuple[UserId, ...]:
        if user_id is not None:
            return (UserId(user_id),)
        assert organization_id is not None  # noqa: S101 - one of the two is always given
        return tuple(unit.users.ids_of_organization(organization_id))

    # -- join requests ---------------------------------------------------------------------

    async def request_to_join(self, caller: Caller, code: str, reason: str) -> None:
        """Ask to join by code. Answers the same whether or not the code exists, so codes
        cannot be probed; an unknown code, a member or a duplicate just records nothing new."""
        principal = _principal(caller)
        reason_text = clean_text(reason, "body.reason", MAX_REASON)
        try:
            normalized = normalize_code(code, "body.group_code")
        except Invalid:
            normalized = None
        now = self._clock.now()

        def work(unit: Unit) -> None:
            # Every outcome runs the same statements in the same order (a missing group's
            # lookups use the nil id, and the insert selects from no group), so neither the
            # answer nor the work tells an existing code from an unknown one.
            store = unit.groups
            group = store.find_by_code(normalized or "")
            group_id = group.id if group is not None else NO_GROUP
            role = store.role_of(group_id, principal.user_id, principal.organization_id)
            pending = store.has_pending_request(group_id, principal.user_id)
            if group is None:
                outcome = "unknown-code"
            elif role is not None:
                outcome = "already-member"
            elif pending:
                outcome = "already-pending"
            else:
                outcome = "created"
            into = group.id if group is not None and outcome == "created" else GroupId(NO_GROUP)
            store.insert_join_request(
                JoinRequest(
                    id=JoinRequestId(new_id()),
                    group_id=into,
                    user_id=principal.user_id,
                    organization_id=principal.organization_id,
                    reason=reason_text,
                    status=JoinRequestStatus.PENDING,
                    created_at=now,
                )
            )
            self._audit.append(
                unit,
                AuditRecord.by(
                    caller,
                    "join_request.create",
                    target_type="group",
                    target_id=group.id if group else None,
                    group_id=group.id if group else None,
                    details={"outcome": outcome},
                ),
            )

        await self._db.write(work)

    async def list_join_requests(
        self,
        principal: Principal,
        group_id: uuid.UUID,
        status: JoinRequestStatus | None,
        after: str | None,
        limit: int,
    ) -> list[JoinRequest]:
        def work(unit: Unit) -> list[JoinRequest]:
            access = self.access(unit, principal, group_id)
            access.ensure_can_moderate()
            return unit.groups.list_join_requests(group_id, status, after, limit)

        return await self._db.read(work)

    async def list_join_request_views(
        self,
        principal: Principal,
        group_id: uuid.UUID,
        status: JoinRequestStatus | None,
        after: str | None,
        limit: int,
    ) -> list[JoinRequestView]:
        """`list_join_requests` with the requesters' names, read in the same transaction."""

        def work(unit: Unit) -> list[JoinRequestView]:
            access = self.access(unit, principal, group_id)
            access.ensure_can_moderate()
            return unit.groups.list_join_request_views(group_id, status, after, limit)

        return await self._db.read(work)

    async def decide_join_request(
        self, caller: Caller, request_id: uuid.UUID, approve: bool
    ) -> JoinRequest:
        """Approve (admitting the user) or reject; exactly one of concurrent decisions wins."""
        principal = _principal(caller)
        now = self._clock.now()
        status = JoinRequestStatus.APPROVED if approve else JoinRequestStatus.REJECTED

        def work(unit: Unit) -> JoinRequest:
            store = unit.groups
            request = store.find_join_request(request_id)
            group_id = request.group_id if request is not None else NO_GROUP  # same path
            try:
                access = self.access(unit, principal, group_id, for_update=True)
            except NotFound:
                raise NotFound("no such join request") from None
            if request is None or not access.can_moderate:
                raise NotFound("no such join request")  # members do not learn of requests
            if not store.decide_join_request(request_id, status, principal.user_id, now):
                raise Conflict("this request was already decided", slug="already-decided")
            if approve:
                user = unit.users.get(request.user_id)
                role = GroupRole.OBSERVER if user.role is Role.OBSERVER else GroupRole.MEMBER
                store.upsert_membership(request.group_id, role, now, user_id=request.user_id)
            self._audit.append(
                unit,
                AuditRecord.by(
                    caller,
                    "join_request.approve" if approve else "join_request.reject",
                    target_type="join_request",
                    target_id=request_id,
                    group_id=request.group_id,
                    details={"user_id": str(request.user_id)},
                ),
            )
            return request

        request = await self._db.write(work)
        if approve:
            self._publisher.publish(
                MembershipChanged(request.group_id, (request.user_id,), MembershipChange.ADDED)
            )
        return JoinRequest(
            request.id,
            request.group_id,
            request.user_id,
            request.organization_id,
            request.reason,
            status,
            request.created_at,
        )
