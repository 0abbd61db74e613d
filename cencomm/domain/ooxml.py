"""OOXML (docx, xlsx) checked through the zip central directory, before anything is inflated.

Zip bombs and path tricks are refused from the directory records alone: entry count, total
uncompressed size, compression ratio, local entries that overlap (the "non-recursive" bomb) or
disagree with the directory, symlinks and other special files, absolute and `..` paths, zip64,
encryption, and data before the first entry or between the entries and the directory. Nothing is
ever decompressed: the server stores documents, it does not open them.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

from cencomm.domain.attachments import DOCX, XLSX, type_mismatch, unsafe

MAX_ENTRIES = 10_000
MAX_UNCOMPRESSED = 256 * 1024 * 1024
MAX_RATIO = 100  # per entry over 1 MiB, and for the whole archive
RATIO_FLOOR = 1024 * 1024
MAX_DIRECTORY_BYTES = 16 * 1024 * 1024

_EOCD = struct.Struct("<IHHHHIIH")
_EOCD_SIG = 0x06054B50
_ZIP64_LOCATOR_SIG = 0x07064B50
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_CENTRAL_SIG = 0x02014B50
_LOCAL = struct.Struct("<IHHHHHIIIHH")
_LOCAL_SIG = 0x04034B50
_UNIX = 3
_S_IFMT = 0o170000
_S_IFREG = 0o100000
_S_IFDIR = 0o040000

ReadAt = Callable[[int, int], bytes]


@dataclass(frozen=True, slots=True)
class _Entry:
    name: str
    flags: int
    method: int
    compressed: int
    uncompressed: int
    offset: int


def inspect_ooxml(read_at: ReadAt, size: int) -> str:
    """Check a zip through its directory and return DOCX or XLSX (the media type it is).

    Args:
        read_at: reads `n` plaintext bytes at `offset` (fewer only at the end).
        size: the archive's size in bytes.

    Raises:
        Invalid: `unsafe-attachment` naming what is wrong.
        UnsupportedMediaType: a sound zip that is neither a docx nor an xlsx.
    """
    directory_offset, directory_size, count = _end_record(read_at, size)
    if count > MAX_ENTRIES:
        raise unsafe(f"the archive has {count} entries; at most {MAX_ENTRIES} are accepted")
    if directory_size > MAX_DIRECTORY_BYTES:
        raise unsafe("the archive's directory is too large")
    entries = _central_entries(read_at(directory_offset, directory_size), count)
    _check_sizes(entries)
    _check_layout(read_at, entries, directory_offset)
    names = {entry.name for entry in entries}
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        raise unsafe("documents with macros are not accepted")
    if "[Content_Types].xml" in names and "word/document.xml" in names:
        return DOCX
    if "[Content_Types].xml" in names and "xl/workbook.xml" in names:
        return XLSX
    raise type_mismatch("the zip archive is not a Word (.docx) or Excel (.xlsx) document")


def _end_record(read_at: ReadAt, size: int) -> tuple[int, int, int]:
    tail_size = min(size, _EOCD.size + 0xFFFF)
    tail = read_at(size - tail_size, tail_size)
    pos = tail.rfind(struct.pack("<I", _EOCD_SIG))
    while pos >= 0:
        if pos + _EOCD.size <= len(tail):
            fields = _EOCD.unpack_from(tail, pos)
            if pos + _EOCD.size + fields[7] == len(tail):
                break
        pos = tail.rfind(struct.pack("<I", _EOCD_SIG), 0, pos)
    if pos < 0:
        raise unsafe("not a well-formed zip archive (no end of central directory)")
    _, disk, directory_disk, on_disk, total, directory_size, directory_offset, _ = fields
    eocd_at = size - tail_size + pos
    if eocd_at >= 20 and read_at(eocd_at - 20, 4) == struct.pack("<I", _ZIP64_LOCATOR_SIG):
        raise unsafe("zip64 archives (over 65,535 entries or 4 GiB) are not accepted")
    if 0xFFFF in (on_disk, total) or 0xFFFFFFFF in (directory_size, directory_offset):
        raise unsafe("zip64 archives (over 65,535 entries or 4 GiB) are not accepted")
    if disk or directory_disk or on_disk != total:
        raise unsafe("multi-part zip archives are not accepted")
    if directory_offset + directory_size != eocd_at:
        raise unsafe("the zip directory is not where its end record says")
    return directory_offset, directory_size, total


def _central_entries(directory: bytes, count: int) -> list[_Entry]:
    entries: list[_Entry] = []
    seen: set[str] = set()
    pos = 0
    for _ in range(count):
        if pos + _CENTRAL.size > len(directory):
            raise unsafe("the zip directory is truncated")
        (sig, made_by, _, flags, method, _, _, _, csize, usize, name_len, extra_len,
         comment_len, disk, _, external, offset) = _CENTRAL.unpack_from(directory, pos)  # fmt: skip
        if sig != _CENTRAL_SIG or disk != 0:
            raise unsafe("the zip directory is malformed")
        raw_name = directory[pos + _CENTRAL.size : pos + _CENTRAL.size + name_len]
        pos += _CENTRAL.size + name_len + extra_len + comment_len
        name = raw_name.decode("utf-8" if flags & 0x800 else "cp437", errors="replace")
        _check_name(name)
        if name in seen:
            raise unsafe(f"the archive names {name!r} twice")
        seen.add(name)
        if flags & 0x1:
            raise unsafe("encrypted archives are not accepted")
        if method not in (0, 8):
            raise unsafe(f"compression method {method} is not accepted")
        if 0xFFFFFFFF in (csize, usize, offset):
            raise unsafe("zip64 archives (over 65,535 entries or 4 GiB) are not accepted")
        mode = (external >> 16) & _S_IFMT
        if made_by >> 8 == _UNIX and mode not in (0, _S_IFREG, _S_IFDIR):
            what = "a symbolic link" if mode == 0o120000 else "a special file"
            raise unsafe(f"the archive entry {name!r} is {what}")
        entries.append(_Entry(name, flags, method, csize, usize, offset))
    if pos != len(directory):
        raise unsafe("the zip directory has trailing data")
    return entries


def _check_name(name: str) -> None:
    if not name or "\x00" in name or "\\" in name or name.startswith("/") or ":" in name:
        raise unsafe(f"the archive entry name {name!r} is not a plain relative path")
    if ".." in name.split("/"):
        raise unsafe(f"the archive entry name {name!r} climbs out of the archive")


def _check_sizes(entries: list[_Entry]) -> None:
    total = sum(entry.uncompressed for entry in entries)
    packed = sum(entry.compressed for entry in entries)
    if total > MAX_UNCOMPRESSED:
        raise unsafe(f"the archive expands to {total} bytes; at most {MAX_UNCOMPRESSED}")
    for entry in entries:
        if entry.method == 0 and entry.compressed != entry.uncompressed:
            raise unsafe(f"the stored entry {entry.name!r} has inconsistent sizes")
        if entry.uncompressed > RATIO_FLOOR and entry.uncompressed > MAX_RATIO * max(
            entry.compressed, 1
        ):
            raise unsafe(f"the archive entry {entry.name!r} has a compression ratio over 100")
    if total > RATIO_FLOOR and total > MAX_RATIO * max(packed, 1):
        raise unsafe("the archive has a compression ratio over 100")


def _check_layout(read_at: ReadAt, entries: list[_Entry], directory_offset: int) -> None:
    """Every entry's local record matches the directory, and no two entries share bytes."""
    end = 0
    for entry in sorted(entries, key=lambda e: e.offset):
        if entry.offset != end:
            what = "overlap" if entry.offset < end else "have data between them"
            raise unsafe(f"the archive's entries {what} (at {entry.name!r})")
        header = read_at(entry.offset, _LOCAL.size)
        if len(header) < _LOCAL.size:
            raise unsafe("the archive is truncated")
        (sig, _, flags, method, _, _, _, csize, _, name_len, extra_len) = _LOCAL.unpack(header)
        name = read_at(entry.offset + _LOCAL.size, name_len)
        expected = entry.name.encode("utf-8" if entry.flags & 0x800 else "cp437", "replace")
        if sig != _LOCAL_SIG or method != entry.method or name != expected:
            raise unsafe(f"the local record of {entry.name!r} disagrees with the directory")
        if not flags & 0x8 and csize != entry.compressed:
            raise unsafe(f"the local record of {entry.name!r} disagrees with the directory")
        end = entry.offset + _LOCAL.size + name_len + extra_len + entry.compressed
        if flags & 0x8:
            end += _descriptor_size(read_at, end)
    if end != directory_offset:
        raise unsafe("the archive has data between its entries and its directory")


def _descriptor_size(read_at: ReadAt, at: int) -> int:
    """A data descriptor: crc, sizes, with an optional signature (12 or 16 bytes)."""
    return 16 if read_at(at, 4) == b"PK\x07\x08" else 12
