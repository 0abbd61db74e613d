"""Attachment rules without I/O: names, declared types, sniffing, streamed checks, ranges, zips."""

from __future__ import annotations

import pytest

from cencomm.domain.attachments import (
    ContentInspector,
    RangeNotSatisfiable,
    declared_type,
    parse_range,
    safe_name,
    sniff,
)
from cencomm.domain.errors import Invalid, UnsupportedMediaType
from cencomm.domain.ooxml import ReadAt, inspect_ooxml
from tests.data.attachments import build


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("C:evil.txt", "evil.txt"),
        ("a\x00b\x07c.txt", "abc.txt"),
        ("x\u202e\u2067\u200b.txt", "x.txt"),
        ("tab\tand\u00a0nbsp.txt", "taband nbsp.txt"),  # controls go, spaces stay
        ("...dots...", "dots"),
    ],
)
def test_safe_name(raw: str, expected: str) -> None:
    assert safe_name(raw) == expected


def test_safe_name_truncates_on_a_character_boundary_and_keeps_the_extension() -> None:
    name = safe_name("界" * 400 + ".xlsx")
    assert len(name.encode()) <= 255 and name.endswith(".xlsx")
    name.encode().decode("utf-8")  # whole characters only


def test_safe_name_refuses_what_reduces_to_nothing() -> None:
    with pytest.raises(Invalid):
        safe_name("../")


def test_declared_type_ignores_parameters_but_wants_utf8_text() -> None:
    assert declared_type("Text/CSV; charset=UTF-8").media_type == "text/csv"
    with pytest.raises(UnsupportedMediaType):
        declared_type("text/plain; charset=latin-1")
    for refused in ("image/svg+xml", "text/html", "application/zip", "", None):
        with pytest.raises(UnsupportedMediaType):
            declared_type(refused)


@pytest.mark.parametrize(
    ("data", "label"),
    [
        (build.png(), "image/png"),
        (build.jpeg(), "image/jpeg"),
        (build.webp(), "image/webp"),
        (build.pdf(), "application/pdf"),
        (build.docx(), "zip"),
        (build.CSV, "text"),
        (build.gif_js_polyglot(), "image/gif"),
        (build.SVG_WITH_SCRIPT, "markup"),
        (b"\xef\xbb\xbf  <!DOCTYPE html>", "markup"),
        (b"\x7fELF\x02", "executable"),
        (b"\xff\xfe\x00\x00", "binary"),
    ],
)
def test_sniff(data: bytes, label: str) -> None:
    assert sniff(data[:4096]) == label


def test_pdf_names_split_across_chunks_are_still_found() -> None:
    data = build.pdf_with_javascript()
    cut = data.index(b"/JavaScript") + 4
    inspector = ContentInspector(declared_type("application/pdf"))
    with pytest.raises(Invalid):
        inspector.feed(data[:cut])
        inspector.feed(data[cut:])
        inspector.finish()


def test_a_utf8_character_split_across_chunks_is_fine() -> None:
    text = "Été 2020 ✓\n".encode()
    inspector = ContentInspector(declared_type("text/plain"))
    inspector.feed(text[:1])
    inspector.feed(text[1:])
    inspector.finish()


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        (None, 10, None),
        ("bytes=0-0", 10, (0, 0)),
        ("bytes=5-", 10, (5, 9)),
        ("bytes=-3", 10, (7, 9)),
        ("bytes=-30", 10, (0, 9)),
        ("bytes=2-100", 10, (2, 9)),
        ("bytes=5-2", 10, None),
        ("bytes=0-1,3-4", 10, None),
        ("items=0-1", 10, None),
    ],
)
def test_parse_range(header: str | None, size: int, expected: tuple[int, int] | None) -> None:
    assert parse_range(header, size) == expected


@pytest.mark.parametrize("header", ["bytes=10-", "bytes=10-20", "bytes=-0"])
def test_unsatisfiable_ranges(header: str) -> None:
    with pytest.raises(RangeNotSatisfiable):
        parse_range(header, 10)


def _reader(data: bytes) -> ReadAt:
    return lambda offset, n: data[offset : offset + n]


def test_ooxml_documents_are_told_apart_from_the_directory() -> None:
    for data, expected in ((build.docx(), build.DOCX), (build.xlsx(), build.XLSX)):
        assert inspect_ooxml(_reader(data), len(data)) == expected


@pytest.mark.parametrize(
    "data",
    [
        build.zip_bomb(),
        build.overlapping_zip(),
        build.symlink_zip(),
        build.traversal_zip(),
        b"junk before the zip" + build.docx(),
        build.docx()[:-30],
    ],
)
def test_unsafe_zips_are_refused_from_the_directory(data: bytes) -> None:
    with pytest.raises(Invalid):
        inspect_ooxml(_reader(data), len(data))
