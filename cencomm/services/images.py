"""Images through Pillow: the pixel-count check on upload and re-encoded previews.

Both read the plaintext through `PlainFile`, a seekable file over the encrypted blob, so the
plaintext never touches the disk. Previews are built from the pixels alone: no EXIF, ICC, XMP or
text chunks survive; the stored original is never altered. Blocking: call in a thread.
"""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageOps

from cencomm.domain.attachments import unsafe
from cencomm.storage.blobs import BlobReader

PREVIEW_MAX_SIDE = 1024
_PILLOW_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}


class PlainFile(io.RawIOBase):
    """A read-only, seekable file over a blob's plaintext (for Pillow)."""

    def __init__(self, reader: BlobReader) -> None:
        self._reader = reader
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._reader.size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._reader.read_at(self._pos, len(buffer))
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)


def set_pixel_limit(max_pixels: int) -> None:
    # Pillow's own guard (a process-wide setting): a warning past it, an error past twice it.
    Image.MAX_IMAGE_PIXELS = max_pixels


def _open(reader: BlobReader, media_type: str, max_pixels: int) -> Image.Image:
    set_pixel_limit(max_pixels)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            stream = io.BufferedReader(PlainFile(reader), 64 * 1024)
            image = Image.open(stream, formats=[_PILLOW_FORMATS[media_type]])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise unsafe(f"images may have at most {max_pixels} pixels") from None
    except (OSError, SyntaxError, ValueError):
        raise unsafe(f"the content is not a readable {media_type} image") from None
    # Explicit too: Pillow's guard is only as strict as whatever set it last.
    if image.width * image.height > max_pixels or image.width < 1 or image.height < 1:
        image.close()
        raise unsafe(f"images may have at most {max_pixels} pixels")
    return image


def check_image(reader: BlobReader, media_type: str, max_pixels: int) -> None:
    """The image parses as its type (header only) and is within the pixel limit.

    Raises:
        Invalid: `unsafe-attachment` (not readable, or a pixel flood).
    """
    _open(reader, media_type, max_pixels).close()


def make_preview(reader: BlobReader, media_type: str, max_pixels: int) -> tuple[bytes, str]:
    """A re-encoded, metadata-free preview at most 1024 px on a side: (bytes, media type).

    JPEG and WebP sources give a JPEG, PNG a PNG.

    Raises:
        Invalid: `unsafe-attachment` when the image cannot be decoded safely.
    """
    with _open(reader, media_type, max_pixels) as image:
        try:
            if image.format == "JPEG":
                image.draft("RGB", (PREVIEW_MAX_SIDE, PREVIEW_MAX_SIDE))
            upright = ImageOps.exif_transpose(image)
            upright.thumbnail((PREVIEW_MAX_SIDE, PREVIEW_MAX_SIDE))
            png = media_type == "image/png"
            mode = "RGBA" if "A" in upright.getbands() or "transparency" in upright.info else "RGB"
            pixels = upright.convert(mode if png else "RGB")
        except (OSError, SyntaxError, ValueError):
            raise unsafe(f"the {media_type} image cannot be decoded") from None
    # A fresh image from the pixels alone: nothing of the original's metadata comes along.
    clean = Image.frombytes(pixels.mode, pixels.size, pixels.tobytes())
    out = io.BytesIO()
    if png:
        clean.save(out, format="PNG", optimize=False)
        return out.getvalue(), "image/png"
    clean.save(out, format="JPEG", quality=85)
    return out.getvalue(), "image/jpeg"
