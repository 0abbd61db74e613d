"""Attachments: the type allow-list, safe names, magic-byte sniffing, streamed content checks.

Only plain rules here; the zip (OOXML) checks are in domain/ooxml.py, the I/O in
services/attachments.py. Every refusal is a CencommError: 415 for a type that is not allowed or
content that is not what it claims to be, 422 for content of an allowed type that is unsafe.
"""

from __future__ import annotations

import codecs
import enum
import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime

from cencomm.domain.errors import CencommError, Invalid, UnsupportedMediaType

MAX_NAME_BYTES = 255
HEAD_BYTES = 4096  # what sniffing looks at


class BlobStatus(enum.StrEnum):
    PENDING = "pending"  # not scanned yet (or the scanner was down): never served
    CLEAN = "clean"
    INFECTED = "infected"  # quarantined: never served, reported to moderators


class Kind(enum.StrEnum):
    IMAGE = "image"
    PDF = "pdf"
    TEXT = "text"
    OOXML = "ooxml"


@dataclass(frozen=True, slots=True)
class FileType:
    media_type: str
    extensions: tuple[str, ...]
    kind: Kind


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

ALLOWED: dict[str, FileType] = {
    t.media_type: t
    for t in (
        FileType("image/jpeg", (".jpg", ".jpeg"), Kind.IMAGE),
        FileType("image/png", (".png",), Kind.IMAGE),
        FileType("image/webp", (".webp",), Kind.IMAGE),
        FileType("application/pdf", (".pdf",), Kind.PDF),
        FileType("text/plain", (".txt",), Kind.TEXT),
        FileType("text/csv", (".csv",), Kind.TEXT),
        FileType(DOCX, (".docx",), Kind.OOXML),
        FileType(XLSX, (".xlsx",), Kind.OOXML),
    )
}


@dataclass(frozen=True, slots=True)
class Attachment:
    """An upload as its group sees it."""

    id: uuid.UUID
    group_id: uuid.UUID
    sha256: str
    size: int
    name: str
    content_type: str
    uploader_id: uuid.UUID
    created_at: datetime
    status: BlobStatus


@dataclass(frozen=True, slots=True)
class StoredBlob:
    """One distinct content: its key (wrapped by master key `master_kid`) and scan status."""

    sha256: str
    size: int
    wrapped_key: bytes
    master_kid: str
    status: BlobStatus
    scan_detail: str | None


def type_mismatch(detail: str) -> UnsupportedMediaType:
    return UnsupportedMediaType(detail, slug="attachment-type-mismatch")


def unsafe(detail: str) -> Invalid:
    return Invalid(detail, slug="unsafe-attachment")


def declared_type(content_type: str | None) -> FileType:
    """The allowed type a `Content-Type` value names (parameters ignored but a charset,
    which must be UTF-8 for text).

    Raises:
        UnsupportedMediaType: `unsupported-attachment-type` for anything off the allow-list.
    """
    media, _, params = (content_type or "").partition(";")
    media = media.strip().lower()
    file_type = ALLOWED.get(media)
    if file_type is None:
        allowed = ", ".join(sorted(ALLOWED))
        raise UnsupportedMediaType(
            f"attachments of type {media or '(none)'!r} are not accepted; allowed: {allowed}",
            slug="unsupported-attachment-type",
        )
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and value.strip().strip('"').lower() not in {
            "utf-8",
            "utf8",
            "us-ascii",
        }:
            raise type_mismatch("text attachments must be UTF-8")
    return file_type


# Controls (Cc), format characters (Cf: bidi overrides and isolates, zero-width), separators
# other than the plain space, surrogates and unassigned code points are all dropped.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def safe_name(raw: str | None) -> str:
    """Reduce a client's file name to a safe base name: NFC, no control or bidi characters,
    no directory parts, no leading dots, at most 255 bytes of UTF-8 (the extension kept).

    It is only ever metadata: nothing on disk is named from it.

    Raises:
        Invalid: `invalid-attachment-name` when nothing usable is left.
    """
    text = unicodedata.normalize("NFC", raw or "")
    text = "".join(
        " " if unicodedata.category(ch) == "Zs" else ch
        for ch in text
        if unicodedata.category(ch) not in _DROPPED_CATEGORIES
    )
    # Both separators count, whatever the server's OS: `..\..\x` is as hostile as `../../x`.
    text = re.split(r"[/\\]", text)[-1]
    text = text.split(":")[-1]  # drive letters and NTFS streams
    text = " ".join(text.split()).strip(" .")
    if not text:
        raise Invalid(
            "the file name is empty once reduced to a safe base name",
            slug="invalid-attachment-name",
        )
    return _truncate_utf8(text, MAX_NAME_BYTES)


def _truncate_utf8(name: str, limit: int) -> str:
    if len(name.encode("utf-8")) <= limit:
        return name
    stem, dot, ext = name.rpartition(".")
    suffix = f".{ext}" if dot and stem and len(ext.encode("utf-8")) <= 16 else ""
    stem = stem if suffix else name
    budget = limit - len(suffix.encode("utf-8"))
    encoded = stem.encode("utf-8")[:budget]
    return encoded.decode("utf-8", errors="ignore").rstrip(" .") + suffix


def check_extension(name: str, file_type: FileType) -> None:
    """The name's extension must be one of the declared type's.

    Raises:
        UnsupportedMediaType: `attachment-type-mismatch`.
    """
    lowered = name.lower()
    if not any(lowered.endswith(ext) for ext in file_type.extensions):
        raise type_mismatch(
            f"a {file_type.media_type} file must be named *{' or *'.join(file_type.extensions)}"
        )


def sniff(head: bytes) -> str:
    """What the first bytes say the content is: an allowed media type, "zip" (OOXML is told
    apart later from its central directory), "text", or a label of something refused."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    for magic, label in _REFUSED_MAGIC:
        if head.startswith(magic):
            return label
    text = head.removeprefix(codecs.BOM_UTF8).lstrip().lower()
    if text.startswith((b"<?xml", b"<svg", b"<!doctype", b"<html", b"<script", b"<!--")):
        return "markup"
    if b"\x00" in head or not _utf8_prefix(head):
        return "binary"
    return "text"


_REFUSED_MAGIC = (
    (b"GIF8", "image/gif"),
    (b"MZ", "executable"),
    (b"\x7fELF", "executable"),
    (b"\xca\xfe\xba\xbe", "executable"),
    (b"\xcf\xfa\xed\xfe", "executable"),
    (b"#!", "script"),
    (b"BM", "image/bmp"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"Rar!", "archive"),
    (b"7z\xbc\xaf", "archive"),
    (b"\x1f\x8b", "archive"),
    (b"\xd0\xcf\x11\xe0", "ole2"),
)


def _utf8_prefix(data: bytes) -> bool:
    """Valid UTF-8, allowing a character cut off at the end of the sample."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    try:
        decoder.decode(data, final=False)
    except UnicodeDecodeError:
        return False
    return True


def check_sniffed(file_type: FileType, sniffed: str) -> None:
    """The sniffed content must be what was declared.

    Raises:
        UnsupportedMediaType: `attachment-type-mismatch`.
    """
    expected = {Kind.TEXT: "text", Kind.OOXML: "zip"}.get(file_type.kind, file_type.media_type)
    if sniffed != expected:
        shown = {"text": "text", "zip": "a zip archive"}.get(sniffed, sniffed)
        raise type_mismatch(f"declared {file_type.media_type} but the content is {shown}")


# Markup that turns a file into an HTML/SVG/script polyglot, whatever its type claims.
_MARKUP = (b"<script", b"<html", b"<!doctype html", b"<iframe", b"<svg", b"<?php", b"<object")
# In compressed binary data a short marker turns up by chance (`<svg` about once in 500 MB):
# images and PDFs are searched for longer ones only; OOXML parts are deflated, so not at all.
_BINARY_MARKUP = (
    b"<script",
    b"<iframe",
    b"<!doctype html",
    b"<html>",
    b"<html ",
    b"<svg ",
    b"<?php ",
)
_PDF_NAME = re.compile(rb"/([A-Za-z0-9#]{1,64})")
# PDF names that run code or act on open: refused (ASVS V5: no active content).
PDF_FORBIDDEN = frozenset(
    {b"JS", b"JavaScript", b"OpenAction", b"AA", b"Launch", b"EmbeddedFile", b"RichMedia", b"XFA"}
)
_OVERLAP = 80


def _pdf_name(raw: bytes) -> bytes:
    # `/J#61vaScript` is `/JavaScript`: decode #xx escapes before comparing.
    return re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), raw)


class ContentInspector:
    """Checks content as it streams past, holding only a small head and an overlap window.

    Feed every chunk to `feed`, then call `finish`; either raises on the first problem.
    """

    def __init__(self, file_type: FileType) -> None:
        self.file_type = file_type
        self.head = b""
        self.size = 0
        self._tail = b""
        self._text = codecs.getincrementaldecoder("utf-8")("strict")
        self._sniffed = False

    def feed(self, chunk: bytes) -> None:
        if not chunk:
            return
        self.size += len(chunk)
        if len(self.head) < HEAD_BYTES:
            self.head += chunk[: HEAD_BYTES - len(self.head)]
            if len(self.head) >= HEAD_BYTES:
                self._check_head()
        kind = self.file_type.kind
        if kind is Kind.TEXT:
            if b"\x00" in chunk:
                raise type_mismatch("text attachments must not contain NUL bytes")
            try:
                self._text.decode(chunk, final=False)
            except UnicodeDecodeError:
                raise type_mismatch("text attachments must be valid UTF-8") from None
        window = self._tail + chunk
        self._scan(window, final=False)
        self._tail = window[-_OVERLAP:]

    def finish(self) -> None:
        if self.size == 0:
            raise Invalid("the attachment is empty", slug="empty-attachment")
        if not self._sniffed:
            self._check_head()
        if self.file_type.kind is Kind.TEXT:
            try:
                self._text.decode(b"", final=True)
            except UnicodeDecodeError:
                raise type_mismatch("text attachments must be valid UTF-8") from None
        self._scan(self._tail, final=True)

    def _check_head(self) -> None:
        self._sniffed = True
        check_sniffed(self.file_type, sniff(self.head))
        if self.file_type.kind is Kind.TEXT and b"%PDF-" in self.head[:1024]:
            # PDF readers accept a header anywhere in the first KiB: a text/PDF polyglot.
            raise type_mismatch("declared text but the content is also a PDF")

    def _scan(self, window: bytes, *, final: bool) -> None:
        kind = self.file_type.kind
        markers = {Kind.TEXT: _MARKUP, Kind.OOXML: ()}.get(kind, _BINARY_MARKUP)
        lowered = window.lower() if markers else b""
        for marker in markers:
            if marker in lowered:
                raise type_mismatch(
                    f"the content carries {marker.decode().strip()}… markup (an HTML polyglot)"
                )
        if kind is Kind.PDF:
            for match in _PDF_NAME.finditer(window):
                if match.end() == len(window) and not final:
                    continue  # may go on in the next chunk: the overlap sees it again
                if _pdf_name(match.group(1)) in PDF_FORBIDDEN:
                    name = _pdf_name(match.group(1)).decode("ascii", "replace")
                    raise unsafe(f"PDF with active content (/{name}) is not accepted")


class AttachmentCorrupted(CencommError):
    """The stored blob failed authentication: tampered with or damaged on disk (a 500)."""

    slug = "attachment-corrupted"


class RangeNotSatisfiable(CencommError):
    slug = "range-not-satisfiable"

    def __init__(self, size: int) -> None:
        super().__init__(f"the attachment has {size} bytes")
        self.size = size


_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """A single byte range as (first, last inclusive), or None to send the whole file
    (no header, another unit, several ranges or a malformed one: RFC 9110 lets us ignore it).

    Raises:
        RangeNotSatisfiable: the range starts past the end, or is an empty suffix.
    """
    if not header:
        return None
    match = _RANGE.match(header.strip().replace(" ", ""))
    if match is None or not (match.group(1) or match.group(2)):
        return None
    first_s, last_s = match.groups()
    if not first_s:  # suffix: the last n bytes
        suffix = int(last_s)
        if suffix == 0:
            raise RangeNotSatisfiable(size)
        return max(0, size - suffix), size - 1
    first = int(first_s)
    if first >= size:
        raise RangeNotSatisfiable(size)
    last = int(last_s) if last_s else size - 1
    if last < first:
        return None
    return first, min(last, size - 1)
