"""The evidence bundle's zip layout: one strict form, written as a stream, parsed byte for byte.

Every member is stored (never compressed), in ZIP64 form, with its CRC-32 and sizes in a data
descriptor after the data (so the writer never seeks back and needs no temporary file):

    [local header, name, data, data descriptor] per member
    central directory (one record per member, each with a ZIP64 extra of sizes and offset)
    ZIP64 end of central directory record, its locator, the end of central directory record

`parse_strict` accounts for every byte of a file in that form: each field is either pinned to
the one value the writer uses, or equal to the same field elsewhere (local header against the
central record and the descriptor, offsets and sizes against where things really are). So any
single changed byte in the structure is refused here, and one in a member's data fails its
CRC-32 (and the manifest's SHA-256). Standard tools (`unzip`, Python's `zipfile`) read it too.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

LOCAL_SIG = 0x04034B50
DESCRIPTOR_SIG = 0x08074B50
CENTRAL_SIG = 0x02014B50
ZIP64_END_SIG = 0x06064B50
ZIP64_LOCATOR_SIG = 0x07064B50
END_SIG = 0x06054B50

VERSION = 45  # 4.5: ZIP64
MADE_BY = (3 << 8) | VERSION  # Unix
FLAGS = 0x0808  # bit 3: sizes in the data descriptor; bit 11: UTF-8 names
STORED = 0
EXTERNAL_ATTR = 0o100644 << 16  # a regular file, rw-r--r--
MAX16 = 0xFFFF
MAX32 = 0xFFFFFFFF
MAX_NAME_BYTES = 255
MAX_MEMBERS = 1_000_000

_LOCAL = struct.Struct("<IHHHHHIIIHH")  # 30 bytes
_DESCRIPTOR = struct.Struct("<IIQQ")  # 24 bytes
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")  # 46 bytes
_ZIP64_EXTRA = struct.Struct("<HHQQQ")  # 28 bytes: id 1, length 24, sizes, offset
_ZIP64_END = struct.Struct("<IQHHIIQQQQ")  # 56 bytes
_LOCATOR = struct.Struct("<IIQI")  # 20 bytes
_END = struct.Struct("<IHHHHIIH")  # 22 bytes
_TAIL = _ZIP64_END.size + _LOCATOR.size + _END.size


class ZipLayoutError(ValueError):
    """The file is not an evidence zip in its one strict form; the message says where."""


def dos_time(moment: datetime) -> tuple[int, int]:
    """(time, date) in MS-DOS form, to two seconds."""
    year = min(max(moment.year, 1980), 2107)
    date = ((year - 1980) << 9) | (moment.month << 5) | moment.day
    time = (moment.hour << 11) | (moment.minute << 5) | (moment.second // 2)
    return time, date


def check_member_name(name: str) -> bytes:
    """A relative path of safe ASCII parts; returns its bytes.

    Raises:
        ZipLayoutError: absolute, `..`, empty parts, unusual characters or too long.
    """
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
    parts = name.split("/")
    if (
        not name
        or len(name) > MAX_NAME_BYTES
        or any(not p or p in {".", ".."} or not set(p) <= allowed for p in parts)
    ):
        raise ZipLayoutError(f"member name {name!r} is not a safe relative path")
    return name.encode("ascii")


@dataclass(frozen=True, slots=True)
class WrittenMember:
    name: str
    offset: int
    size: int
    crc: int
    sha256: str


@dataclass
class _Open:
    name: str
    offset: int
    crc: int = 0
    size: int = 0
    digest: hashlib._Hash = field(default_factory=hashlib.sha256)


class ZipStreamWriter:
    """Produces the bytes of a bundle piece by piece; the caller sends them on in order."""

    def __init__(self, moment: datetime) -> None:
        self._time, self._date = dos_time(moment)
        self.offset = 0
        self.members: list[WrittenMember] = []
        self._open: _Open | None = None
        self._names: set[str] = set()

    def begin(self, name: str) -> bytes:
        """The local header of a new member."""
        if self._open is not None:
            raise RuntimeError("the previous member is still open")
        raw = check_member_name(name)
        if name in self._names:
            raise ValueError(f"duplicate member {name}")
        self._names.add(name)
        self._open = _Open(name, self.offset)
        header = _LOCAL.pack(
            LOCAL_SIG, VERSION, FLAGS, STORED, self._time, self._date, 0, 0, 0, len(raw), 0
        )
        piece = header + raw
        self.offset += len(piece)
        return piece

    def data(self, chunk: bytes) -> bytes:
        """Account for a piece of the open member's data; returns it unchanged."""
        member = self._open
        if member is None:
            raise RuntimeError("no member is open")
        member.crc = zlib.crc32(chunk, member.crc)
        member.size += len(chunk)
        member.digest.update(chunk)
        self.offset += len(chunk)
        return chunk

    def end(self) -> bytes:
        """The data descriptor that closes the open member."""
        member = self._open
        if member is None:
            raise RuntimeError("no member is open")
        self._open = None
        self.members.append(
            WrittenMember(
                member.name, member.offset, member.size, member.crc, member.digest.hexdigest()
            )
        )
        piece = _DESCRIPTOR.pack(DESCRIPTOR_SIG, member.crc, member.size, member.size)
        self.offset += len(piece)
        return piece

    def member(self, name: str, content: bytes) -> bytes:
        """A whole small member at once."""
        return self.begin(name) + self.data(content) + self.end()

    def finish(self) -> bytes:
        """The central directory and the end records."""
        if self._open is not None:
            raise RuntimeError("a member is still open")
        start = self.offset
        records = []
        for m in self.members:
            raw = m.name.encode("ascii")
            records.append(
                _CENTRAL.pack(
                    CENTRAL_SIG,
                    MADE_BY,
                    VERSION,
                    FLAGS,
                    STORED,
                    self._time,
                    self._date,
                    m.crc,
                    MAX32,
                    MAX32,
                    len(raw),
                    _ZIP64_EXTRA.size,
                    0,
                    0,
                    0,
                    EXTERNAL_ATTR,
                    MAX32,
                )
                + raw
                + _ZIP64_EXTRA.pack(1, 24, m.size, m.size, m.offset)
            )
        directory = b"".join(records)
        end64_at = start + len(directory)
        count = len(self.members)
        tail = (
            _ZIP64_END.pack(
                ZIP64_END_SIG, 44, MADE_BY, VERSION, 0, 0, count, count, len(directory), start
            )
            + _LOCATOR.pack(ZIP64_LOCATOR_SIG, 0, end64_at, 1)
            + _END.pack(END_SIG, 0, 0, MAX16, MAX16, MAX32, MAX32, 0)
        )
        self.offset += len(directory) + len(tail)
        return directory + tail


@dataclass(frozen=True, slots=True)
class ZipMember:
    """A member as the strict parser found it: where its data is, how long, its CRC-32."""

    name: str
    data_offset: int
    size: int
    crc: int


ReadAt = Callable[[int, int], bytes]


def _read(read_at: ReadAt, offset: int, length: int, what: str) -> bytes:
    data = read_at(offset, length)
    if len(data) != length:
        raise ZipLayoutError(f"{what} at byte {offset} is cut short")
    return data


def _expect(condition: bool, what: str) -> None:
    if not condition:
        raise ZipLayoutError(what)


def parse_strict(read_at: ReadAt, size: int) -> list[ZipMember]:
    """Every member of a bundle, after checking that every byte is where the form puts it.

    Raises:
        ZipLayoutError: naming the first structure that is not exactly as written.
    """
    _expect(size >= _TAIL, "the file is too short to be a zip")
    end_at = size - _END.size
    sig, d1, d2, n1, n2, cd_size32, cd_off32, comment = _END.unpack(
        _read(read_at, end_at, _END.size, "end record")
    )
    _expect(sig == END_SIG, "no end-of-central-directory record at the end of the file")
    _expect(
        (d1, d2, n1, n2, cd_size32, cd_off32, comment) == (0, 0, MAX16, MAX16, MAX32, MAX32, 0),
        "the end-of-central-directory record is not in its ZIP64 form",
    )
    locator_at = end_at - _LOCATOR.size
    sig, disk, end64_at, disks = _LOCATOR.unpack(
        _read(read_at, locator_at, _LOCATOR.size, "ZIP64 locator")
    )
    _expect(sig == ZIP64_LOCATOR_SIG, "no ZIP64 end-of-central-directory locator")
    _expect(disk == 0 and disks == 1, "the ZIP64 locator names another disk")
    _expect(end64_at == locator_at - _ZIP64_END.size, "the ZIP64 locator points elsewhere")
    sig, length, made_by, needed, disk, cd_disk, on_disk, count, cd_size, cd_offset = (
        _ZIP64_END.unpack(_read(read_at, end64_at, _ZIP64_END.size, "ZIP64 end record"))
    )
    _expect(sig == ZIP64_END_SIG, "no ZIP64 end-of-central-directory record")
    _expect(
        (length, made_by, needed, disk, cd_disk) == (44, MADE_BY, VERSION, 0, 0),
        "the ZIP64 end record has unexpected fields",
    )
    _expect(on_disk == count and count <= MAX_MEMBERS, "the ZIP64 end record's counts differ")
    _expect(cd_offset + cd_size == end64_at, "the central directory does not end where it says")
    central = _parse_central(read_at, cd_offset, cd_size, count)
    return _check_locals(read_at, central, cd_offset)


@dataclass(frozen=True, slots=True)
class _Central:
    name: bytes
    time: int
    date: int
    crc: int
    size: int
    offset: int


def _parse_central(read_at: ReadAt, start: int, length: int, count: int) -> list[_Central]:
    position, end = start, start + length
    found: list[_Central] = []
    names: set[bytes] = set()
    for n in range(count):
        what = f"central directory record {n}"
        _expect(position + _CENTRAL.size <= end, f"{what} runs past the directory")
        fields = _CENTRAL.unpack(_read(read_at, position, _CENTRAL.size, what))
        (sig, made_by, needed, flags, method, time, date, crc, csize, usize, name_len, extra_len,
         comment_len, disk, internal, external, offset) = fields  # fmt: skip
        _expect(sig == CENTRAL_SIG, f"{what} has no signature")
        _expect(
            (made_by, needed, flags, method, csize, usize, extra_len, comment_len, disk, internal,
             external, offset)
            == (MADE_BY, VERSION, FLAGS, STORED, MAX32, MAX32, _ZIP64_EXTRA.size, 0, 0, 0,
                EXTERNAL_ATTR, MAX32),
            f"{what} has unexpected fields",
        )  # fmt: skip
        _expect(0 < name_len <= MAX_NAME_BYTES, f"{what} has a bad name length")
        rest = _read(read_at, position + _CENTRAL.size, name_len + extra_len, what)
        name = rest[:name_len]
        tag, tag_len, usize64, csize64, offset64 = _ZIP64_EXTRA.unpack(rest[name_len:])
        _expect((tag, tag_len) == (1, 24), f"{what} has no ZIP64 extra field")
        _expect(usize64 == csize64, f"{what}: a stored member's sizes differ")
        try:
            check_member_name(name.decode("ascii"))
        except (UnicodeDecodeError, ZipLayoutError):
            raise ZipLayoutError(f"{what} has an unsafe name") from None
        _expect(name not in names, f"{what} repeats the name {name.decode()}")
        names.add(name)
        found.append(_Central(name, time, date, crc, usize64, offset64))
        position += _CENTRAL.size + name_len + extra_len
    _expect(position == end, "the central directory holds more than its records")
    return found


def _check_locals(read_at: ReadAt, central: list[_Central], cd_offset: int) -> list[ZipMember]:
    position = 0
    members = []
    for entry in central:
        what = f"member {entry.name.decode()}"
        _expect(entry.offset == position, f"{what} is not where the central directory says")
        header = _read(read_at, position, _LOCAL.size, f"local header of {what}")
        sig, needed, flags, method, time, date, crc, csize, usize, name_len, extra_len = (
            _LOCAL.unpack(header)
        )
        _expect(sig == LOCAL_SIG, f"local header of {what} has no signature")
        _expect(
            (needed, flags, method, crc, csize, usize, name_len, extra_len)
            == (VERSION, FLAGS, STORED, 0, 0, 0, len(entry.name), 0),
            f"local header of {what} has unexpected fields",
        )
        _expect((time, date) == (entry.time, entry.date), f"{what}: local and central times differ")
        name = _read(read_at, position + _LOCAL.size, name_len, f"local name of {what}")
        _expect(name == entry.name, f"{what}: local and central names differ")
        data_at = position + _LOCAL.size + name_len
        descriptor_at = data_at + entry.size
        _expect(descriptor_at + _DESCRIPTOR.size <= cd_offset, f"{what} runs past its space")
        sig, d_crc, d_csize, d_usize = _DESCRIPTOR.unpack(
            _read(read_at, descriptor_at, _DESCRIPTOR.size, f"data descriptor of {what}")
        )
        _expect(sig == DESCRIPTOR_SIG, f"data descriptor of {what} has no signature")
        _expect(
            (d_crc, d_csize, d_usize) == (entry.crc, entry.size, entry.size),
            f"data descriptor of {what} differs from the central directory",
        )
        members.append(ZipMember(entry.name.decode("ascii"), data_at, entry.size, entry.crc))
        position = descriptor_at + _DESCRIPTOR.size
    _expect(position == cd_offset, "there are bytes between the last member and the directory")
    return members
