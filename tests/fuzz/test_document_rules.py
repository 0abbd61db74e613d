"""The rules the OpenAPI document states for text are the domain's own, character for character;
and the fuzzing excuses only what they name."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bench.fuzz_hooks import excused
from cencomm.domain.errors import Invalid
from cencomm.domain.users import clean_name, clean_text
from cencomm.web.field_schemas import printable_pattern, text_pattern

TEXT = re.compile(text_pattern())
NAME = re.compile(text_pattern(name=True))
PRINTABLE = re.compile(printable_pattern())
# Mostly the characters the rules are about, and some of anything else.
CHARS = st.one_of(
    st.sampled_from(" \t\n\x00\x1f\x7f\x85\xa0\u00ad\u200b\u200e\u2028\u202e\u3000\ufeffa"),
    st.characters(exclude_categories=["Cs"]),
)


def _accepted(clean: object, value: str) -> bool:
    try:
        clean(value, "body.x", 10_000)  # type: ignore[operator]
    except Invalid:
        return False
    return True


@settings(max_examples=400, derandomize=True, database=None)
@given(st.text(CHARS, max_size=6))
def test_the_text_patterns_are_what_the_domain_takes(value: str) -> None:
    # The document's patterns are ECMA-262: `$` is the very end (Python's also takes a final
    # newline), so the match is a full match here.
    assert bool(TEXT.fullmatch(value)) == _accepted(clean_text, value), repr(value)
    assert bool(NAME.fullmatch(value)) == _accepted(clean_name, value), repr(value)
    assert bool(PRINTABLE.fullmatch(value)) == value.isprintable(), repr(value)


def test_only_the_named_refusals_are_excused() -> None:
    def problem(kind: str, detail: str = "", field: str = "body.x") -> dict[str, object]:
        return {
            "type": f"urn:cencomm:problem:{kind}",
            "detail": detail,
            "errors": [{"field": field}],
        }

    assert excused(422, problem("invalid-jws"))
    assert excused(422, problem("validation-failed", "not a cursor this server gave out"))
    assert excused(415, problem("attachment-type-mismatch"))
    assert not excused(422, problem("validation-failed", "body.reason must be 1 to 9 characters"))
    assert not excused(400, problem("invalid-jws"))
    assert not excused(500, problem("invalid-jws"))
