"""Builders for the attachment corpus: good files and hostile ones, made in memory.

Nothing big is committed: every file is built here when a test needs it. Run this module
(`python -m tests.data.attachments.build DIR`) to write the whole corpus to DIR for a look.
"""

from __future__ import annotations

import io
import struct
import sys
import zipfile
import zlib
from pathlib import Path

from PIL import Image

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
SYNTHETIC_MALWARE = b"harmless text, then CENCOMM-SYNTHETIC-MALWARE-SAMPLE, then more text\n"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def png(width: int = 64, height: int = 48, *, text: str = "SECRET-GPS 48.85,2.35") -> bytes:
    """A PNG with a tEXt metadata chunk (which previews must drop)."""
    from PIL.PngImagePlugin import PngInfo

    image = Image.new("RGB", (width, height))
    for x in range(width):
        for y in range(height):
            image.putpixel((x, y), ((x * 37) % 256, (y * 91) % 256, (x * y) % 256))
    info = PngInfo()
    info.add_text("Comment", text)
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def jpeg(width: int = 64, height: int = 48, *, comment: bytes | None = None) -> bytes:
    """A JPEG with EXIF (a camera model) and, optionally, a COM segment."""
    image = Image.new("RGB", (width, height), (200, 30, 30))
    exif = Image.Exif()
    exif[0x0110] = "SECRET-CAMERA-MODEL"
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes(), quality=90)
    data = out.getvalue()
    if comment is not None:
        segment = b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment
        data = data[:2] + segment + data[2:]
    return data


def webp() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), (10, 200, 10)).save(out, format="WEBP")
    return out.getvalue()


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def pixel_flood_png(side: int = 100_000) -> bytes:
    """A tiny PNG whose header claims side x side pixels (10 gigapixels by default)."""
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    row = b"\x00" + b"\x00" * 3 * 16
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(row * 16))
        + _chunk(b"IEND", b"")
    )


def pdf(extra: bytes = b"") -> bytes:
    """A small one-page PDF; `extra` goes into the catalogue dictionary."""
    return (
        b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R " + extra + b" >>\nendobj\n"
        b"2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n"
        b"3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>\nendobj\n"
        b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
    )


def pdf_with_javascript() -> bytes:
    return pdf(b"/OpenAction << /S /JavaScript /JS (app.alert('x')) >>")


def pdf_with_escaped_javascript() -> bytes:
    # `/J#61vaScript` is the name /JavaScript written with a #xx escape.
    return pdf(b"/Names << /J#61vaScript 4 0 R >>")


def _ooxml(parts: dict[str, bytes], *, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=method) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return out.getvalue()


_TYPES = b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'


def docx(text: bytes = b"Seizure of 12,000 masks at CDG") -> bytes:
    return _ooxml(
        {
            "[Content_Types].xml": _TYPES,
            "_rels/.rels": b"<Relationships/>",
            "word/document.xml": b"<w:document><w:body><w:p>"
            + text
            + b"</w:p></w:body></w:document>",
        }
    )


def xlsx() -> bytes:
    return _ooxml({"[Content_Types].xml": _TYPES, "xl/workbook.xml": b"<workbook/>"})


def zip_bomb(expanded: int = 8 * 1024 * 1024) -> bytes:
    """A docx whose one part inflates about a thousandfold."""
    return _ooxml({"[Content_Types].xml": _TYPES, "word/document.xml": b"\0" * expanded})


def overlapping_zip() -> bytes:
    """A docx whose directory names two entries that share the same local bytes."""
    data = bytearray(docx())
    eocd = data.rfind(b"PK\x05\x06")
    directory = struct.unpack_from("<I", data, eocd + 16)[0]
    offsets = []
    pos = directory
    while data[pos : pos + 4] == b"PK\x01\x02":
        offsets.append(pos + 42)
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, pos + 28)
        pos += 46 + name_len + extra_len + comment_len
    struct.pack_into("<I", data, offsets[-1], 0)  # the last entry points at the first's bytes
    return bytes(data)


def many_entries_zip(count: int = 100_000) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("[Content_Types].xml", _TYPES)
        archive.writestr("word/document.xml", b"<w:document/>")
        for n in range(count):
            archive.writestr(f"word/media/{n}", b"")
    return out.getvalue()


def symlink_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", _TYPES)
        archive.writestr("word/document.xml", b"<w:document/>")
        link = zipfile.ZipInfo("word/link.xml")
        link.create_system = 3
        link.external_attr = (0o120777 << 16) & 0xFFFFFFFF
        archive.writestr(link, "/etc/passwd")
    return out.getvalue()


def traversal_zip() -> bytes:
    return _ooxml(
        {
            "[Content_Types].xml": _TYPES,
            "word/document.xml": b"<w:document/>",
            "../../evil.xml": b"x",
        }
    )


def gif_js_polyglot() -> bytes:
    """Valid GIF header that is also JavaScript (`GIF89a/*...*/=alert(1)`)."""
    return b"GIF89a/*\x01\x00\x01\x00\x00\x00\x00;*/=alert(document.domain);//" + b"\x00;"


def jpeg_html_polyglot() -> bytes:
    return jpeg(comment=b"<html><body><script>alert(document.cookie)</script></body></html>")


SVG_WITH_SCRIPT = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg">'
    b"<script>alert(1)</script><circle r='4'/></svg>\n"
)
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>\n"
CSV = b"date,country,category,quantity\n2020-05-20,FR,masks,12000\n2020-05-21,BE,gloves,300\n"
TEXT = "Rapport de saisie : 12 000 masques, numéro de lot ÉTÉ-2020.\n".encode()

CORPUS: dict[str, bytes] = {}


def corpus() -> dict[str, bytes]:
    """Every hostile file by name (built once)."""
    if not CORPUS:
        CORPUS.update(
            {
                "zip-bomb.docx": zip_bomb(),
                "overlapping.docx": overlapping_zip(),
                "100000-entries.docx": many_entries_zip(),
                "symlink.docx": symlink_zip(),
                "traversal.docx": traversal_zip(),
                "gif-js.gif": gif_js_polyglot(),
                "jpeg-html.jpg": jpeg_html_polyglot(),
                "javascript.pdf": pdf_with_javascript(),
                "escaped-javascript.pdf": pdf_with_escaped_javascript(),
                "script.svg": SVG_WITH_SCRIPT,
                "page.html": HTML,
                "pixel-flood.png": pixel_flood_png(),
                "eicar.txt": EICAR,
            }
        )
    return CORPUS


def main(argv: list[str]) -> int:
    target = Path(argv[1] if len(argv) > 1 else "attachment-corpus")
    target.mkdir(parents=True, exist_ok=True)
    for name, data in corpus().items():
        (target / name).write_bytes(data)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
