"""Organisations and users: the directory the Secretariat administers."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

from cencomm.crypto.passwords import Passwords
from cencomm.domain.audit import AuditRecord
from cencomm.domain.clock import Clock
from cencomm.domain.errors import Forbidden, Invalid, NotFound
from cencomm.domain.events import RoleChanged, SessionRevoked
from cencomm.domain.ids import OrganizationId, SessionId, UserId, new_id
from cencomm.domain.notifications import validate_email
from cencomm.domain.policy import Action, authorize, is_allowed
from cencomm.domain.users import (
    MAX_DISPLAY_NAME,
    MAX_ORGANIZATION_NAME,
    Caller,
    Organization,
    OrganizationKind,
    Principal,
    Region,
    Role,
    User,
    check_organization,
    clean_name,
    validate_password,
    validate_username,
)
from cencomm.services.audit import AuditTrail
from cencomm.services.events import Publisher
from cencomm.services.session_cache import SessionCache
from cencomm.storage.db import Database
from cencomm.storage.unit import Unit


@dataclass(frozen=True, slots=True)
class NewUser:
    username: str
    display_name: str
    organization_id: uuid.UUID
    role: Role
    password: str
    email: str | None = None


@dataclass(frozen=True, slots=True)
class UserChanges:
    display_name: str | None = None
    role: Role | None = None
    disabled: bool | None = None
    email: str | None = None  # "" clears it


@dataclass(frozen=True, slots=True)
class Me:
    user: User
    organization: Organization


class DirectoryService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        audit: AuditTrail,
        passwords: Passwords,
        publisher: Publisher | None = None,
        sessions: SessionCache | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._audit = audit
        self._passwords = passwords
        self._sessions = sessions
        # Disabling a user (4401) or changing their role (4409) closes their live sockets
        # through this, after commit.
        self._publisher = publisher

    async def create_organization(
        self,
        caller: Caller,
        name: str,
        kind: OrganizationKind,
        country: str | None,
        region: Region | None,
    ) -> Organization:
        if caller.principal is not None:  # None: the command line bootstrapping the first admin
            authorize(caller.principal, Action.MANAGE_DIRECTORY)
        check_organization(kind, country)
        organization = Organization(
            id=OrganizationId(new_id()),
            name=clean_name(name, "body.name", MAX_ORGANIZATION_NAME),
            kind=kind,
            country=country,
            region=region,
            created_at=self._clock.now(),
        )

        def work(unit: Unit) -> None:
            unit.organizations.insert(organization)
            self._audit.append(
                unit,
                AuditRecord.by(
                    caller,
                    "organization.create",
                    target_type="organization",
                    target_id=organization.id,
                    details={"name": organization.name, "kind": kind.value},
                ),
            )

        await self._db.write(work)
        return organization

    async def list_organizations(
        self, principal: Principal, after: str | None, limit: int
    ) -> list[Organization]:
        authorize(principal, Action.READ_DIRECTORY)
        return await self._db.read(lambda unit: unit.organizations.list_page(after, limit))

    async def get_organization(
        self, principal: Principal, organization_id: uuid.UUID
    ) -> Organization:
        # Everyone may read their own organisation; the directory is for staff.
        if principal.organization_id != organization_id:
            authorize(principal, Action.READ_DIRECTORY)
        return await self._db.read(lambda unit: unit.organizations.get(organization_id))

    async def create_user(self, caller: Caller, new: NewUser) -> User:
        if caller.principal is not None:
            authorize(caller.principal, Action.MANAGE_DIRECTORY)
        username = validate_username(new.username)
        validate_password(new.password)
        display_name = clean_name(new.display_name, "body.display_name", MAX_DISPLAY_NAME)
        password_hash = await asyncio.to_thread(self._passwords.hash, new.password)
        user = User(
            id=UserId(new_id()),
            username=username,
            display_name=display_name,
            organization_id=OrganizationId(new.organization_id),
            role=new.role,
            disabled=False,
            mfa_enabled=False,
            created_at=self._clock.now(),
            email=validate_email(new.email) if new.email else None,
        )

        def work(unit: Unit) -> None:
            if unit.organizations.find(new.organization_id) is None:
                raise Invalid(
                    "no such organisation",
                    slug="unknown-organization",
                )
            unit.users.insert(user, password_hash)
            self._audit.append(
                unit,
                AuditRecord.by(
                    caller,
                    "user.create",
                    target_type="user",
                    target_id=user.id,
                    details={
                        "username": username,
                        "role": new.role.value,
                        "organization_id": str(new.organization_id),
                    },
                ),
            )

        await self._db.write(work)
        return user

    async def list_users(self, principal: Principal, after: str | None, limit: int) -> list[User]:
        authorize(principal, Action.READ_DIRECTORY)
        return await self._db.read(lambda unit: unit.users.list_page(after, limit))

    async def get_user(self, principal: Principal, user_id: uuid.UUID) -> User:
        if principal.user_id != user_id and not is_allowed(principal, Action.READ_DIRECTORY):
            # Not "forbidden": the directory does not confirm who exists.
            raise NotFound("no such user")
        return await self._db.read(lambda unit: unit.users.get(user_id))

    async def update_user(self, caller: Caller, user_id: uuid.UUID, changes: UserChanges) -> User:
        """Change a user; disabling revokes every session of theirs at once, and a new role
        closes their live sockets (they reconnect with the new role)."""
        if caller.principal is None:
            raise Forbidden("authentication required")
        authorize(caller.principal, Action.MANAGE_DIRECTORY)
        now = self._clock.now()

        def work(unit: Unit) -> tuple[User, User, list[SessionId]]:
            users = unit.users
            current = users.get(user_id)
            display_name = (
                clean_name(changes.display_name, "body.display_name", MAX_DISPLAY_NAME)
                if changes.display_name is not None
                else current.display_name
            )
            role = changes.role or current.role
            disabled = current.disabled if changes.disabled is None else changes.disabled
            email = current.email
            if changes.email is not None:
                email = validate_email(changes.email) if changes.email else None
            users.update_profile(
                user_id, display_name=display_name, role=role, disabled=disabled, email=email
            )
            revoked: list[SessionId] = []
            if disabled and not current.disabled:
                revoked = unit.sessions.revoke_all_of_user(user_id, now, "disabled")
            details: dict[str, object] = {
                k: v
                for k, v in (
                    ("display_name", changes.display_name),
                    ("role", changes.role.value if changes.role else None),
                    ("disabled", changes.disabled),
                    ("email", "changed" if changes.email is not None else None),
                )
                if v is not None
            }
            details["sessions_revoked"] = len(revoked)
            self._audit.append(
                unit,
                AuditRecord.by(
                    caller, "user.update", target_type="user", target_id=user_id, details=details
                ),
            )
            return current, users.get(user_id), revoked

        current, updated, revoked = await self._db.write(work)
        if revoked and self._publisher is not None:
            self._publisher.publish(SessionRevoked(tuple(revoked), UserId(user_id)))
        if updated.role is not current.role:
            if self._sessions is not None:
                self._sessions.forget_user(user_id)  # the next request carries the new role
            if self._publisher is not None:
                # Every process: cached sessions forgotten, open sockets closed (4409).
                self._publisher.publish(RoleChanged(UserId(user_id)))
        return updated

    async def me(self, principal: Principal) -> Me:

        def work(unit: Unit) -> Me:
            user = unit.users.get(principal.user_id)
            return Me(user=user, organization=unit.organizations.get(user.organization_id))

        return await self._db.read(work)
