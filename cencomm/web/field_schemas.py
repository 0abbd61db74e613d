"""What the document says of fields that the domain checks beyond their type (free text, names,
cursors): the same rules, as JSON Schema, so that a request valid by the document is one the
server takes, and one it refuses breaks the document."""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable
from typing import Any

from pydantic import Field

# Where control, white-space and format characters are: the rest of the code space has none.
_SCANNED = (*range(0x30000), *range(0xE0000, 0xE1000))


def _class_char(point: int) -> str:
    char = chr(point)
    return "\\" + char if char in "\\]^-[" else char


def _char_class(keep: Callable[[str], bool], *, everywhere: bool = False) -> str:
    """The code points `keep` selects, as the ranges of a regex character class (surrogates
    left out: they never reach us as text); `everywhere` scans all of Unicode."""
    ranges: list[tuple[int, int]] = []
    for point in range(0x110000) if everywhere else _SCANNED:
        if 0xD800 <= point <= 0xDFFF or not keep(chr(point)):
            continue
        if ranges and ranges[-1][1] == point - 1:
            ranges[-1] = (ranges[-1][0], point)
        else:
            ranges.append((point, point))
    return "".join(
        _class_char(a) if a == b else f"{_class_char(a)}-{_class_char(b)}" for a, b in ranges
    )


def _is_control(c: str) -> bool:
    return unicodedata.category(c) == "Cc"


def _is_invisible(c: str) -> bool:
    return unicodedata.category(c) in {"Cf", "Zl", "Zp"}


@functools.cache
def text_pattern(name: bool = False) -> str:
    """What `domain.users.clean_text` takes (free text: reasons, notes, descriptions), or with
    `name` what `clean_name` takes (names shown as labels): white space at either end (it is
    trimmed), between them some other character, and no control character (for names, no
    invisible or direction-changing one either) once trimmed."""

    def refused(c: str) -> bool:
        return _is_control(c) or (name and _is_invisible(c))

    space = _char_class(str.isspace)
    inner = _char_class(refused)
    edge = _char_class(lambda c: refused(c) or c.isspace())
    return f"^[{space}]*[^{edge}](?:[^{inner}]*[^{edge}])?[{space}]*$"


@functools.cache
def printable_pattern() -> str:
    """What `str.isprintable` takes (key labels), as a pattern."""
    return f"^[^{_char_class(lambda c: not c.isprintable(), everywhere=True)}]*$"


def printable_schema(schema: dict[str, Any]) -> None:
    schema["pattern"] = printable_pattern()


def text_field(
    max_length: int, *, name: bool = False, allow_empty: bool = False, **extra: Any
) -> Any:
    """A free-text (or `name`) field of 1 to `max_length` characters (or "" with `allow_empty`),
    documented with the pattern the domain enforces on it (built with the document, not at
    import)."""

    def document(schema: dict[str, Any]) -> None:
        schema["pattern"] = ("^$|" if allow_empty else "") + text_pattern(name)

    return Field(
        min_length=0 if allow_empty else 1,
        max_length=max_length,
        json_schema_extra=document,
        **extra,
    )


# An opaque page cursor (the `next` of a previous page) is base64url; empty is no cursor.
CURSOR_PATTERN = "^[A-Za-z0-9_-]*$"


# A page cursor (opaque to clients) is never longer than this.
MAX_CURSOR = 200


def cursor_field() -> Any:
    return Field(
        default=None,
        max_length=MAX_CURSOR,
        json_schema_extra={"pattern": CURSOR_PATTERN},
        description="the `next` of the previous page",
    )
