"""Opaque page cursors: clients pass back what `next` said, without reading into it."""

from __future__ import annotations

from cencomm.crypto.keys import b64url_decode, b64url_encode
from cencomm.domain.errors import FieldError, Invalid


def encode_cursor(value: str) -> str:
    return b64url_encode(value.encode("utf-8"))


def decode_cursor(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        return b64url_decode(cursor).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        raise Invalid(
            "not a cursor this server gave out",
            slug="validation-failed",
            title="Validation failed",
            errors=(FieldError("query.after", "invalid cursor"),),
        ) from None
