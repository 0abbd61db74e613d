"""Opaque page cursors: clients pass back what `next` said, without reading into it."""

from __future__ import annotations

import uuid
from datetime import datetime

from cencomm.crypto.keys import b64url_decode, b64url_encode
from cencomm.domain.errors import FieldError, Invalid


def encode_cursor(value: str) -> str:
    return b64url_encode(value.encode("utf-8"))


def invalid_cursor() -> Invalid:
    """The problem for a cursor we did not give out (a 422, never a 500)."""
    return Invalid(
        "not a cursor this server gave out",
        slug="validation-failed",
        errors=(FieldError("query.after", "invalid cursor"),),
    )


def decode_cursor(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        return b64url_decode(cursor).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        raise invalid_cursor() from None


def cursor_time(text: str) -> datetime:
    """A cursor's timestamp: ours are always timezone-aware (the database holds aware times,
    and comparing a naive one with them would fail deep inside the query)."""
    at = datetime.fromisoformat(text)
    if at.tzinfo is None:
        raise ValueError("naive timestamp")
    return at


def decode_time_cursor(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    """A `<time>|<id>` keyset cursor; a forged or damaged one is a 422."""
    raw = decode_cursor(cursor)
    if raw is None:
        return None
    at, _, item_id = raw.partition("|")
    try:
        return cursor_time(at), uuid.UUID(item_id)
    except ValueError:
        raise invalid_cursor() from None
