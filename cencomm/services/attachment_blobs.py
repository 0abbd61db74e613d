"""BlobVault: blob files plus the keys that open them (master keys by kid, the name key).

Master keys are read from the data directory when needed rather than once at start, so a
`cencomm keys rotate` run beside a live server takes effect without a restart: new blobs are
wrapped with the newest key and re-wrapped ones open with it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from cencomm.crypto.blobcrypt import CHUNK_SIZE, BlobCorrupted, chunk_count, unwrap_key
from cencomm.domain.attachments import Attachment, AttachmentCorrupted, StoredBlob
from cencomm.services.images import make_preview
from cencomm.storage.blobs import BlobFiles, BlobReader
from cencomm.storage.keyring import MasterKey, load_master_keys

logger = logging.getLogger(__name__)

STREAM_CHUNKS = 16  # chunks (1 MiB) decrypted per thread hop while streaming
SMALL_DOWNLOAD = 4 * 1024 * 1024  # verified in full before the first byte is sent


def corrupted(sha256: str, exc: Exception) -> AttachmentCorrupted:
    logger.error("attachment blob failed its integrity check", extra={"sha256": sha256})
    return AttachmentCorrupted(
        f"the stored attachment failed its integrity check ({exc}); it was not served",
    )


@dataclass(frozen=True, slots=True)
class Download:
    """What to send: all of `body`, or `stream`; `span` is (first, last) for a 206."""

    attachment: Attachment
    content_type: str
    size: int
    span: tuple[int, int] | None
    body: bytes | None
    stream: AsyncGenerator[bytes, None] | None


class BlobVault:
    def __init__(self, data_dir: Path, name_key: bytes) -> None:
        self.data_dir = data_dir
        self.files = BlobFiles(data_dir, name_key)

    @staticmethod
    def context(sha256: str) -> bytes:
        """What a wrapped blob key is bound to: its content hash."""
        return b"cencomm-blob:" + sha256.encode("ascii")

    def masters(self) -> tuple[MasterKey, dict[str, MasterKey]]:
        return load_master_keys(self.data_dir)

    def current_master(self) -> tuple[str, bytes]:
        current, _ = self.masters()
        return current.kid, current.key

    def blob_key(self, blob: StoredBlob) -> bytes:
        _, by_kid = self.masters()
        master = by_kid.get(blob.master_kid)
        if master is None:
            raise BlobCorrupted(f"master key {blob.master_kid} is missing from the key directory")
        return unwrap_key(master.key, master.kid, blob.wrapped_key, self.context(blob.sha256))

    def open_reader(self, blob: StoredBlob) -> BlobReader:
        """Open a stored blob (blocking).

        Raises:
            AttachmentCorrupted: missing file, wrong size, bad header or unwrappable key.
        """
        try:
            key = self.blob_key(blob)
            handle = self.files.open(blob.sha256)
        except FileNotFoundError as exc:
            raise corrupted(blob.sha256, exc) from None
        except BlobCorrupted as exc:
            raise corrupted(blob.sha256, exc) from None
        try:
            return BlobReader(handle, key, blob.size)
        except (BlobCorrupted, OSError) as exc:
            handle.close()
            raise corrupted(blob.sha256, exc) from None

    @staticmethod
    def read_all(reader: BlobReader) -> bytes:
        """The whole plaintext, every chunk (the final one included) authenticated."""
        last = chunk_count(reader.size) - 1
        return b"".join(reader.chunk(index) for index in range(last + 1))

    async def stream(
        self, reader: BlobReader, first: int, last: int, *, whole: bool, sha256: str = ""
    ) -> AsyncGenerator[bytes, None]:
        """Plaintext [first, last] in pieces of about 1 MiB, each authenticated before it is
        yielded; a whole-file stream also checks the final chunk before its last piece.
        Raises BlobCorrupted mid-stream: the sender must then abort, not end cleanly."""
        try:
            start = first
            while start <= last:
                end = min(last, (start // CHUNK_SIZE + STREAM_CHUNKS) * CHUNK_SIZE - 1)
                try:
                    piece = await asyncio.to_thread(_read_span, reader, start, end, whole)
                except BlobCorrupted as exc:
                    raise corrupted(sha256, exc) from None
                yield piece
                start = end + 1
        finally:
            reader.close()

    async def plaintext(self, blob: StoredBlob) -> AsyncIterator[bytes]:
        """The whole plaintext of a blob, for the scanner."""
        reader = await asyncio.to_thread(self.open_reader, blob)
        if blob.size == 0:
            reader.close()
            return
        async for piece in self.stream(reader, 0, blob.size - 1, whole=True, sha256=blob.sha256):
            yield piece

    async def open_body(
        self,
        attachment: Attachment,
        reader: BlobReader,
        span: tuple[int, int] | None,
        preview: bool,
        max_pixels: int,
    ) -> Download:
        """The response body: a preview, a small file verified in full, or a stream."""
        size = attachment.size
        if preview:
            try:
                data, media = await asyncio.to_thread(
                    make_preview, reader, attachment.content_type, max_pixels
                )
            except BlobCorrupted as exc:
                raise corrupted(attachment.sha256, exc) from None
            finally:
                reader.close()
            return Download(attachment, media, len(data), None, data, None)
        first, last = span if span else (0, size - 1)
        if span is None and size <= SMALL_DOWNLOAD:
            try:
                data = await asyncio.to_thread(self.read_all, reader)
            except BlobCorrupted as exc:
                raise corrupted(attachment.sha256, exc) from None
            finally:
                reader.close()
            return Download(attachment, attachment.content_type, size, None, data, None)
        stream = self.stream(reader, first, last, whole=span is None, sha256=attachment.sha256)
        return Download(attachment, attachment.content_type, size, span, None, stream)


def _read_span(reader: BlobReader, first: int, last: int, whole: bool) -> bytes:
    data = b"".join(reader.iter_range(first, last))
    if whole and last == reader.size - 1:
        reader.chunk(chunk_count(reader.size) - 1)  # the final flag: truncation shows here
    return data
