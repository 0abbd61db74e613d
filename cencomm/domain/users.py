"""Roles, organisations, users and the authenticated principal."""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from cencomm.domain.errors import FieldError, Invalid
from cencomm.domain.ids import OrganizationId, SessionId, UserId

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
MAX_USERNAME = 64
USERNAME_PATTERN = re.compile(rf"^[a-z0-9][a-z0-9._-]{{2,{MAX_USERNAME - 1}}}$")
MAX_DISPLAY_NAME = 200
MAX_ORGANIZATION_NAME = 200


class Role(enum.StrEnum):
    """A user's global role."""

    ADMIN = "admin"  # platform administrator (Secretariat)
    MODERATOR = "moderator"  # Secretariat operation moderator
    ANALYST = "analyst"  # RILO staff
    OFFICER = "officer"  # member administration
    OBSERVER = "observer"  # partner organisation: read-only wherever admitted


class OrganizationKind(enum.StrEnum):
    ADMINISTRATION = "administration"
    RILO = "rilo"
    SECRETARIAT = "secretariat"
    PARTNER = "partner"


class Region(enum.StrEnum):
    """The six WCO regions."""

    AMERICAS_CARIBBEAN = "AMERICAS_CARIBBEAN"
    ASIA_PACIFIC = "ASIA_PACIFIC"
    EAST_SOUTHERN_AFRICA = "EAST_SOUTHERN_AFRICA"
    EUROPE = "EUROPE"
    MENA = "MENA"
    WEST_CENTRAL_AFRICA = "WEST_CENTRAL_AFRICA"


@dataclass(frozen=True, slots=True)
class Organization:
    id: OrganizationId
    name: str
    kind: OrganizationKind
    country: str | None
    region: Region | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class User:
    id: UserId
    username: str
    display_name: str
    organization_id: OrganizationId
    role: Role
    disabled: bool
    mfa_enabled: bool
    created_at: datetime
    # Where e-mail notifications go (none when None).
    email: str | None = None


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is making a request, as established by a verified access token."""

    user_id: UserId
    organization_id: OrganizationId
    role: Role
    session_id: SessionId
    # The role must use MFA but has not enrolled yet: only enrolment is allowed.
    needs_mfa_enrolment: bool = False

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


def normalize_username(raw: str) -> str:
    """Usernames compare case-insensitively: NFKC, then lower case."""
    return unicodedata.normalize("NFKC", raw).strip().lower()


def validate_username(raw: str) -> str:
    username = normalize_username(raw)
    if not USERNAME_PATTERN.match(username):
        raise Invalid(
            f"usernames are 3 to {MAX_USERNAME} characters: letters, digits, '.', '_' or '-'",
            slug="validation-failed",
            errors=(
                FieldError(
                    "body.username", f"3-{MAX_USERNAME} of a-z 0-9 . _ -, starting alphanumeric"
                ),
            ),
        )
    return username


def validate_password(password: str) -> None:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise Invalid(
            f"passwords have {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters",
            slug="weak-password",
            errors=(FieldError("body.password", f"at least {MIN_PASSWORD_LENGTH} characters"),),
        )


def clean_text(value: str, field: str, max_length: int) -> str:
    """Trimmed, NFC, no control characters, not empty, at most `max_length` characters."""
    text = unicodedata.normalize("NFC", value).strip()
    if not text or len(text) > max_length or any(unicodedata.category(c) == "Cc" for c in text):
        raise Invalid(
            f"{field} must be 1 to {max_length} printable characters",
            slug="validation-failed",
            errors=(FieldError(field, f"1 to {max_length} printable characters"),),
        )
    return text


# Invisible or direction-changing characters: format characters (bidi embeddings, overrides,
# isolates and marks; zero-width space, joiners and word joiner; BOM; soft hyphen), line and
# paragraph separators, surrogates. In a name someone reads as a label they can make one name
# look like another, or reorder what is shown around it.
_INVISIBLE_CATEGORIES = frozenset({"Cf", "Zl", "Zp", "Cs"})


def clean_name(value: str, field: str, max_length: int) -> str:
    """A name shown as a label (display names, group and organisation names): `clean_text`,
    and no invisible or direction-changing characters (refused, not stripped, so what is
    stored is what the sender typed)."""
    text = clean_text(value, field, max_length)
    if any(unicodedata.category(c) in _INVISIBLE_CATEGORIES for c in text):
        raise Invalid(
            f"{field} must not contain invisible or text-direction characters",
            slug="validation-failed",
            errors=(FieldError(field, "no invisible or text-direction characters"),),
        )
    return text


def check_organization(kind: OrganizationKind, country: str | None) -> None:
    """Administrations are national: they need a country."""
    if kind is OrganizationKind.ADMINISTRATION and country is None:
        raise Invalid(
            "an administration needs its ISO 3166-1 country",
            slug="validation-failed",
            errors=(FieldError("body.country", "required for administrations"),),
        )
