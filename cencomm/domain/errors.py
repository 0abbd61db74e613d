"""The error tree every layer raises; web/problems.py maps it to HTTP statuses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cencomm.domain.problems import title_of


@dataclass(frozen=True, slots=True)
class FieldError:
    """One invalid field: a dotted path (`body.items[0].unit`) and why."""

    field: str
    message: str


class CencommError(Exception):
    """Base of every expected failure: a problem slug and a message safe to show a user.

    The title comes from the problem catalogue (domain/problems.py), for a subclass's own slug
    and for one given at the raise site: `Conflict("...", slug="duplicate-cid")` needs no title.
    """

    slug = "error"
    title = "Error"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "slug" in vars(cls) and "title" not in vars(cls):
            title = title_of(cls.slug)
            if title is None:
                raise TypeError(f"{cls.__name__}: add {cls.slug!r} to cencomm/domain/problems.py")
            cls.title = title

    def __init__(
        self,
        detail: str | None = None,
        *,
        slug: str | None = None,
        title: str | None = None,
        errors: tuple[FieldError, ...] = (),
    ) -> None:
        if slug is not None:
            self.slug = slug
            title = title or title_of(slug)
        if title is not None:
            self.title = title
        super().__init__(detail or self.title)
        self.detail = detail
        self.errors = errors


class BadRequest(CencommError):
    slug = "bad-request"


class Unauthenticated(CencommError):
    slug = "unauthenticated"


class Forbidden(CencommError):
    slug = "forbidden"


class NotFound(CencommError):
    slug = "not-found"


class Conflict(CencommError):
    slug = "conflict"


class TooLarge(CencommError):
    slug = "too-large"


class UnsupportedMediaType(CencommError):
    slug = "unsupported-media-type"


class Invalid(CencommError):
    slug = "invalid"


class RateLimited(CencommError):
    slug = "rate-limited"

    def __init__(
        self, detail: str | None = None, *, retry_after: int, slug: str | None = None
    ) -> None:
        super().__init__(detail, slug=slug)
        self.retry_after = max(1, retry_after)


class Unavailable(CencommError):
    slug = "unavailable"

    def __init__(
        self,
        detail: str | None = None,
        *,
        retry_after: int | None = None,
        slug: str | None = None,
    ) -> None:
        super().__init__(detail, slug=slug)
        # Seconds after which a retry may succeed (the `Retry-After` header), when known.
        self.retry_after = retry_after
