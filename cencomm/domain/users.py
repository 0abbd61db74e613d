"""Roles, organisations, users and the authenticated principal."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from cencomm.domain.ids import OrganizationId, SessionId, UserId


class Role(enum.StrEnum):
    """A user's global role."""

    ADMIN = "admin"  # platform administrator (Secretariat)
    MODERATOR = "moderator"  # Secretariat operation moderator
    ANALYST = "analyst"  # RILO staff
    OFFICER = "officer"  # member administration
    OBSERVER = "observer"  # partner organisation: read-only wherever admitted


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is making a request, as established by a verified access token."""

    user_id: UserId
    organization_id: OrganizationId
    role: Role
    session_id: SessionId

    @property
    def is_staff(self) -> bool:
        """Global admins and moderators see and moderate every group."""
        return self.role in (Role.ADMIN, Role.MODERATOR)


@dataclass(frozen=True, slots=True)
class Caller:
    """Whoever triggered a use case: a principal (None when anonymous) and the client address."""

    principal: Principal | None
    ip: str | None = None

    @classmethod
    def system(cls) -> Caller:
        """The server itself (command line, background tasks)."""
        return cls(principal=None, ip=None)
