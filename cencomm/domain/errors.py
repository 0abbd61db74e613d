"""The error tree every layer raises; web/problems.py maps it to HTTP statuses."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldError:
    """One invalid field: a dotted path (`body.items[0].unit`) and why."""

    field: str
    message: str


class CencommError(Exception):
    """Base of every expected failure: a problem slug and a message safe to show a user."""

    slug = "error"
    title = "Error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        slug: str | None = None,
        title: str | None = None,
        errors: tuple[FieldError, ...] = (),
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        if slug is not None:
            self.slug = slug
        if title is not None:
            self.title = title
        self.errors = errors


class BadRequest(CencommError):
    slug = "bad-request"
    title = "Malformed request"


class Unauthenticated(CencommError):
    slug = "unauthenticated"
    title = "Not authenticated"


class Forbidden(CencommError):
    slug = "forbidden"
    title = "Not allowed"


class NotFound(CencommError):
    slug = "not-found"
    title = "Not found"


class Conflict(CencommError):
    slug = "conflict"
    title = "Conflict with the current state"


class TooLarge(CencommError):
    slug = "too-large"
    title = "Too large"


class UnsupportedMediaType(CencommError):
    slug = "unsupported-media-type"
    title = "Unsupported media type"


class Invalid(CencommError):
    slug = "invalid"
    title = "Invalid input"


class RateLimited(CencommError):
    slug = "rate-limited"
    title = "Too many requests"

    def __init__(self, detail: str | None = None, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = max(1, retry_after)


class Unavailable(CencommError):
    slug = "unavailable"
    title = "Service unavailable"
