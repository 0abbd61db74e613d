"""What the document says of fields that the domain checks beyond their type (free text, names,
cursors): the same rules, as JSON Schema, so that a request valid by the document is one the
server takes, and one it refuses breaks the document."""

from __future__ import annotations

import array
import functools
import operator
import re
import sys
import unicodedata
from collections.abc import Iterator
from typing import Any

from pydantic import Field

# Where control, white-space and format characters are: the rest of the code space has none.
_SCANNED = (range(0x30000), range(0xE0000, 0xE1000))
_EVERYWHERE = (range(0x110000),)
_SURROGATES = (0xD800, 0xDFFF)
_RUN = re.compile(b"\x01+")  # a run of selected code points
_CONTROL = frozenset({"Cc"})
_INVISIBLE = frozenset({"Cc", "Cf", "Zl", "Zp"})  # control too: what a name refuses


def _class_char(point: int) -> str:
    char = chr(point)
    return "\\" + char if char in "\\]^-[" else char


def _characters(span: range) -> str:
    """The characters of `span` (as UTF-32 decoded: five times `"".join(map(chr, span))`'s
    speed), lone surrogates included."""
    points = array.array("I", span)
    if points.itemsize != 4:
        return "".join(map(chr, span))
    return points.tobytes().decode(f"utf-32-{sys.byteorder[0]}e", "surrogatepass")


def _categories(span: range) -> Iterator[str]:
    return map(unicodedata.category, _characters(span))


def _flags(
    span: range, categories: frozenset[str], space: bool, unprintable: bool
) -> Iterator[bool]:
    """For each character of `span`: of one of `categories`, or (`space`) white space, or
    (`unprintable`) not printable. Built from C-level maps: a server's start scans 1.3M code
    points."""
    chars = _characters(span)
    flags: Iterator[bool] = iter(())
    if categories:
        flags = map(categories.__contains__, _categories(span))
    if space:
        spaces = map(str.isspace, chars)
        flags = map(operator.or_, flags, spaces) if categories else spaces
    if unprintable:
        unprintables = map(operator.not_, map(str.isprintable, chars))
        flags = map(operator.or_, flags, unprintables) if categories or space else unprintables
    return flags


def _char_class(
    categories: frozenset[str] = frozenset(),
    *,
    space: bool = False,
    unprintable: bool = False,
    everywhere: bool = False,
) -> str:
    """The code points of `categories`, plus white space (`space`), plus what is not printable
    (`unprintable`), as the ranges of a regex character class (surrogates left out: they never
    reach us as text); `everywhere` scans all of Unicode."""
    ranges: list[tuple[int, int]] = []
    for span in _EVERYWHERE if everywhere else _SCANNED:
        selected = bytes(_flags(span, categories, space, unprintable))
        for run in _RUN.finditer(selected):
            ranges += _without_surrogates(span.start + run.start(), span.start + run.end() - 1)
    return "".join(
        _class_char(a) if a == b else f"{_class_char(a)}-{_class_char(b)}" for a, b in ranges
    )


def _without_surrogates(first: int, last: int) -> list[tuple[int, int]]:
    low, high = _SURROGATES
    parts = [(first, min(last, low - 1)), (max(first, high + 1), last)]
    return [(a, b) for a, b in parts if a <= b]


@functools.cache
def text_pattern(name: bool = False) -> str:
    """What `domain.users.clean_text` takes (free text: reasons, notes, descriptions), or with
    `name` what `clean_name` takes (names shown as labels): white space at either end (it is
    trimmed), between them some other character, and no control character (for names, no
    invisible or direction-changing one either) once trimmed."""

    refused = _INVISIBLE if name else _CONTROL
    space = _char_class(space=True)
    inner = _char_class(refused)
    edge = _char_class(refused, space=True)
    return f"^[{space}]*[^{edge}](?:[^{inner}]*[^{edge}])?[{space}]*$"


@functools.cache
def printable_pattern() -> str:
    """What `str.isprintable` takes (key labels), as a pattern."""
    return f"^[^{_char_class(unprintable=True, everywhere=True)}]*$"


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
