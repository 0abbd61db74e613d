"""OrganizationStore and UserStore: the directory of who belongs where."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cencomm.domain.errors import Conflict, NotFound
from cencomm.domain.ids import OrganizationId, UserId
from cencomm.domain.users import Organization, OrganizationKind, Region, Role, User
from cencomm.storage.changes import Changed, mark
from cencomm.storage.tables import OrganizationRow, UserRow


def to_organization(row: OrganizationRow) -> Organization:
    return Organization(
        id=OrganizationId(row.id),
        name=row.name,
        kind=OrganizationKind(row.kind),
        country=row.country,
        region=Region(row.region) if row.region else None,
        created_at=row.created_at,
    )


def to_user(row: UserRow) -> User:
    return User(
        id=UserId(row.id),
        username=row.username,
        display_name=row.display_name,
        organization_id=OrganizationId(row.organization_id),
        role=Role(row.role),
        disabled=row.disabled,
        mfa_enabled=row.mfa_enabled,
        created_at=row.created_at,
        email=row.email,
    )


@dataclass(frozen=True, slots=True)
class Credentials:
    """What login needs about a user, besides the public view."""

    user: User
    password_hash: str
    mfa_secret: bytes | None
    mfa_pending_secret: bytes | None
    mfa_last_step: int


class OrganizationStore:
    def __init__(self, session: Session) -> None:
        self._session = session

    def insert(self, organization: Organization) -> None:
        mark(self._session, Changed.POSTING)
        self._session.add(
            OrganizationRow(
                id=organization.id,
                name=organization.name,
                kind=organization.kind.value,
                country=organization.country,
                region=organization.region.value if organization.region else None,
                created_at=organization.created_at,
            )
        )
        try:
            self._session.flush()
        except IntegrityError:
            raise Conflict(
                "an organisation with this name exists", slug="duplicate-organization"
            ) from None

    def find(self, organization_id: uuid.UUID) -> Organization | None:
        row = self._session.get(OrganizationRow, organization_id)
        return to_organization(row) if row else None

    def get(self, organization_id: uuid.UUID) -> Organization:
        organization = self.find(organization_id)
        if organization is None:
            raise NotFound("no such organisation")
        return organization

    def find_by_name(self, name: str) -> Organization | None:
        row = self._session.scalar(select(OrganizationRow).where(OrganizationRow.name == name))
        return to_organization(row) if row else None

    def list_page(self, after: str | None, limit: int) -> list[Organization]:
        """Ordered by name; `after` is the last name of the previous page."""
        query = select(OrganizationRow).order_by(OrganizationRow.name).limit(limit)
        if after is not None:
            query = query.where(OrganizationRow.name > after)
        return [to_organization(r) for r in (self._session.scalars(query)).all()]


class UserStore:
    def __init__(self, session: Session) -> None:
        self._session = session

    def insert(self, user: User, password_hash: str) -> None:
        self._session.add(
            UserRow(
                id=user.id,
                username=user.username,
                display_name=user.display_name,
                organization_id=user.organization_id,
                role=user.role.value,
                password_hash=password_hash,
                disabled=user.disabled,
                mfa_enabled=False,
                mfa_last_step=0,
                created_at=user.created_at,
                email=user.email,
            )
        )
        try:
            self._session.flush()
        except IntegrityError:
            raise Conflict("this username is taken", slug="duplicate-username") from None

    def find(self, user_id: uuid.UUID) -> User | None:
        row = self._session.get(UserRow, user_id)
        return to_user(row) if row else None

    def get(self, user_id: uuid.UUID) -> User:
        user = self.find(user_id)
        if user is None:
            raise NotFound("no such user")
        return user

    def ids_of_organization(self, organization_id: uuid.UUID) -> list[UserId]:
        rows = self._session.scalars(
            select(UserRow.id).where(UserRow.organization_id == organization_id)
        )
        return [UserId(i) for i in rows.all()]

    def find_credentials(self, username: str) -> Credentials | None:
        row = self._session.scalar(select(UserRow).where(UserRow.username == username))
        return _credentials(row) if row else None

    def get_credentials(self, user_id: uuid.UUID) -> Credentials:
        row = self._session.get(UserRow, user_id, with_for_update=True)
        if row is None:
            raise NotFound("no such user")
        return _credentials(row)

    def list_page(self, after: str | None, limit: int) -> list[User]:
        """Ordered by username; `after` is the last username of the previous page."""
        query = select(UserRow).order_by(UserRow.username).limit(limit)
        if after is not None:
            query = query.where(UserRow.username > after)
        return [to_user(r) for r in (self._session.scalars(query)).all()]

    def update_profile(
        self,
        user_id: uuid.UUID,
        *,
        display_name: str,
        role: Role,
        disabled: bool,
        email: str | None = None,
    ) -> None:
        mark(self._session, Changed.POSTING)
        self._session.execute(
            update(UserRow)
            .where(UserRow.id == user_id)
            .values(display_name=display_name, role=role.value, disabled=disabled, email=email)
        )

    def update_password_hash(self, user_id: uuid.UUID, password_hash: str) -> None:
        self._session.execute(
            update(UserRow).where(UserRow.id == user_id).values(password_hash=password_hash)
        )

    def set_pending_mfa(self, user_id: uuid.UUID, sealed_secret: bytes) -> None:
        self._session.execute(
            update(UserRow).where(UserRow.id == user_id).values(mfa_pending_secret=sealed_secret)
        )

    def enable_mfa(self, user_id: uuid.UUID, sealed_secret: bytes, step: int) -> None:
        self._session.execute(
            update(UserRow)
            .where(UserRow.id == user_id)
            .values(
                mfa_secret=sealed_secret,
                mfa_pending_secret=None,
                mfa_enabled=True,
                mfa_last_step=step,
            )
        )

    def spend_totp_step(self, user_id: uuid.UUID, step: int) -> bool:
        """Record `step` as used; False when it (or a later one) was used already (a replay)."""
        result = self._session.execute(
            update(UserRow)
            .where(UserRow.id == user_id, UserRow.mfa_last_step < step)
            .values(mfa_last_step=step)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def _credentials(row: UserRow) -> Credentials:
    return Credentials(
        user=to_user(row),
        password_hash=row.password_hash,
        mfa_secret=row.mfa_secret,
        mfa_pending_secret=row.mfa_pending_secret,
        mfa_last_step=row.mfa_last_step,
    )
