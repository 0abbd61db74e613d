"""Collects every field error of a body, so a client can fix them all in one round trip."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, TypeVar

from cencomm.domain.countries import COUNTRY_CODES
from cencomm.domain.errors import FieldError, Invalid

_E = TypeVar("_E", bound=enum.StrEnum)


class FieldCollector:
    """Gathers every field error so the client can fix them all in one round trip."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def add(self, field: str, message: str) -> None:
        self.errors.append(FieldError(field, message))

    def unknown(self, value: Mapping[str, Any], allowed: frozenset[str], prefix: str) -> None:
        for key in sorted(set(value) - allowed):
            self.add(f"{prefix}.{key}", "unknown field")

    def choice(self, obj: Mapping[str, Any], key: str, kind: type[_E], prefix: str) -> _E | None:
        value = obj.get(key)
        if value is None:
            self.add(f"{prefix}.{key}", "is required")
            return None
        if isinstance(value, str):
            try:
                return kind(value)
            except ValueError:
                pass
        choices = " | ".join(member.value for member in kind)
        self.add(f"{prefix}.{key}", f"must be one of {choices}")
        return None

    def country(self, value: Any, field: str) -> str | None:
        if value is None:
            self.add(field, "is required")
            return None
        if not isinstance(value, str) or value not in COUNTRY_CODES:
            self.add(field, "must be an ISO 3166-1 alpha-2 country code (upper case)")
            return None
        return value

    def text(self, obj: Mapping[str, Any], key: str, max_chars: int, prefix: str) -> str | None:
        """An optional free-text field: absent or null → None; else 1..max_chars after strip."""
        value = obj.get(key)
        if value is None:
            return None
        field = f"{prefix}.{key}"
        if not isinstance(value, str):
            self.add(field, "must be a string")
            return None
        stripped = value.strip()
        if not stripped:
            self.add(field, "must not be blank")
            return None
        if len(stripped) > max_chars:
            self.add(field, f"must be at most {max_chars} characters")
            return None
        return stripped

    def error(self) -> Invalid:
        """The `invalid-body` problem naming every error (the first in its detail)."""
        first = self.errors[0] if self.errors else FieldError("body", "is invalid")
        return Invalid(
            f"{first.field} {first.message}",
            slug="invalid-body",
            errors=tuple(self.errors) or (first,),
        )
