"""The web client's stylesheet works right to left (Arabic is a WCO language): sides are
logical (`margin-inline-start`, `border-inline-end`, `text-align: start`, `inset-inline-start`),
never `left` or `right`, so the page mirrors by itself when `<html dir="rtl">`. The browser
test tests/browser/test_web_client_languages.py checks the result with the pseudo-locale."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

STYLES = Path(str(resources.files("cencomm.web").joinpath("static"))) / "styles" / "app.css"

PHYSICAL = re.compile(
    r"""(?x)
    \b(?:margin|padding|border|scroll-margin|scroll-padding)-(?:left|right)\b  # margin-left …
    | (?<![\w-])(?:left|right)\s*:                                   # left: 0 (use inset-inline-*)
    | \b(?:text-align|float|clear|justify-content|justify-self)\s*:\s*(?:left|right)\b
    | \bborder-(?:top|bottom)-(?:left|right)-radius\b                  # use border-start-start…
    """
)


def _without_comments(css: str) -> str:
    return re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)


def test_the_stylesheet_uses_logical_sides_only() -> None:
    css = _without_comments(STYLES.read_text(encoding="utf-8"))
    found = [
        f"line {number}: {line.strip()}"
        for number, line in enumerate(css.splitlines(), start=1)
        if PHYSICAL.search(line)
    ]
    assert found == []


def test_the_check_finds_physical_sides() -> None:
    for bad in (
        ".a { margin-left: auto; }",
        ".a { border-right: 1px solid; }",
        ".a { padding-left: 1rem; }",
        ".a { left: 0; }",
        ".a { text-align: right; }",
        ".a { float: left; }",
        ".a { border-top-left-radius: 3px; }",
    ):
        assert PHYSICAL.search(bad), bad
    for good in (
        ".a { margin-inline-start: auto; }",
        ".a { inset-inline-start: 0; }",
        ".a { text-align: end; }",
        ".a { border-inline-start: 6px solid; }",
        ".a { top: 0.5rem; }",
    ):
        assert not PHYSICAL.search(good), good
