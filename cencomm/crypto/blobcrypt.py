"""Chunked AES-256-GCM for attachment blobs at rest, blob key wrapping and blob names.

Blob format (version 1)::

    header  = b"CCB" || 0x01 || nonce_prefix (8 random bytes)         13 bytes
    chunk i = AES-256-GCM(blob key, nonce_prefix || u32be(i), plaintext_i,
                          aad = header || u64be(i) || final flag byte)

Plaintext chunk i is bytes [i * CHUNK_SIZE, (i + 1) * CHUNK_SIZE). Every chunk
but the last is full; the last one is flagged final and is *shorter* than
CHUNK_SIZE (possibly empty), so a blob of n bytes has n // CHUNK_SIZE + 1
chunks and a sealed chunk of exactly SEALED_CHUNK_SIZE bytes is never final.
Binding the index and the final flag into the nonce and associated data makes
reordering, duplicating, dropping or truncating chunks fail authentication.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT_VERSION = 1
MAGIC = b"CCB"
KEY_SIZE = 32
NONCE_PREFIX_SIZE = 8
HEADER_SIZE = len(MAGIC) + 1 + NONCE_PREFIX_SIZE
CHUNK_SIZE = 64 * 1024
TAG_SIZE = 16
SEALED_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE
# The nonce holds the chunk index in 32 bits: 2**32 chunks of 64 KiB = 256 TiB.
MAX_CHUNKS = 2**32

WRAP_VERSION = 1
WRAP_NONCE_SIZE = 12
WRAPPED_KEY_SIZE = 1 + WRAP_NONCE_SIZE + KEY_SIZE + TAG_SIZE
_WRAP_LABEL = b"cencomm-blob-key"
_NAME_LABEL = b"cencomm-blob-name\x00"


class BlobCorrupted(ValueError):
    """The blob, a chunk or a wrapped key failed authentication or is malformed."""


def generate_key() -> bytes:
    """A fresh random 256-bit key (one per blob; also fine for master and name keys)."""
    return secrets.token_bytes(KEY_SIZE)


def _check_key(key: bytes, what: str = "key") -> AESGCM:
    if not isinstance(key, bytes) or len(key) != KEY_SIZE:
        raise ValueError(f"{what} must be {KEY_SIZE} bytes")
    return AESGCM(key)


def _nonce(prefix: bytes, index: int) -> bytes:
    return prefix + index.to_bytes(4, "big")


def _aad(header: bytes, index: int, final: bool) -> bytes:
    return header + index.to_bytes(8, "big") + (b"\x01" if final else b"\x00")


def parse_header(header: bytes) -> bytes:
    """Check a blob header and return its nonce prefix.

    Raises:
        BlobCorrupted: wrong length, magic or version.
    """
    if (
        len(header) != HEADER_SIZE
        or header[: len(MAGIC)] != MAGIC
        or header[len(MAGIC)] != FORMAT_VERSION
    ):
        raise BlobCorrupted("not a version 1 cencomm blob header")
    return bytes(header[len(MAGIC) + 1 :])


def chunk_count(plaintext_size: int) -> int:
    """How many chunks a plaintext of this size is sealed into (always >= 1)."""
    if plaintext_size < 0:
        raise ValueError("plaintext size must be >= 0")
    return plaintext_size // CHUNK_SIZE + 1


def ciphertext_size(plaintext_size: int) -> int:
    """The exact size of the encrypted blob for a plaintext of `plaintext_size` bytes."""
    return HEADER_SIZE + plaintext_size + chunk_count(plaintext_size) * TAG_SIZE


def plaintext_size(ciphertext_size: int) -> int:
    """Inverse of `ciphertext_size`.

    Raises:
        BlobCorrupted: no plaintext size encrypts to that many bytes.
    """
    body = ciphertext_size - HEADER_SIZE
    full, rest = divmod(body, SEALED_CHUNK_SIZE)
    if body < TAG_SIZE or rest < TAG_SIZE:
        raise BlobCorrupted(f"{ciphertext_size} bytes is not a valid blob size")
    return full * CHUNK_SIZE + rest - TAG_SIZE


def chunk_offset(index: int) -> int:
    """Byte offset of sealed chunk `index` in the blob (after the header)."""
    if index < 0:
        raise ValueError("chunk index must be >= 0")
    return HEADER_SIZE + index * SEALED_CHUNK_SIZE


def chunk_span(start: int, end_inclusive: int) -> tuple[int, int]:
    """First and last (inclusive) chunk indexes covering plaintext bytes [start, end_inclusive].

    To serve an HTTP range: read ciphertext [chunk_offset(first),
    chunk_offset(last + 1)) clipped to the blob size, decrypt each chunk with
    `decrypt_chunk` (final = index == chunk_count(size) - 1), then slice
    [start - first * CHUNK_SIZE, end_inclusive - first * CHUNK_SIZE + 1).

    Raises:
        ValueError: negative start or end_inclusive < start.
    """
    if start < 0 or end_inclusive < start:
        raise ValueError(f"invalid byte range {start}-{end_inclusive}")
    return start // CHUNK_SIZE, end_inclusive // CHUNK_SIZE


def decrypt_chunk(key: bytes, header: bytes, index: int, sealed: bytes, final: bool) -> bytes:
    """Open one sealed chunk (random access, e.g. for HTTP ranges).

    Raises:
        BlobCorrupted: bad header, wrong key, or the chunk is not chunk `index`
            with this final flag of this blob.
        ValueError: the key is not 32 bytes.
    """
    aead = _check_key(key)
    return _open(aead, header, parse_header(header), index, sealed, final)


def _open(
    aead: AESGCM, header: bytes, prefix: bytes, index: int, sealed: bytes | bytearray, final: bool
) -> bytes:
    if not 0 <= index < MAX_CHUNKS:
        raise BlobCorrupted(f"chunk index {index} out of range")
    # Non-final chunks are exactly full; the final one is strictly shorter.
    size_ok = (
        TAG_SIZE <= len(sealed) < SEALED_CHUNK_SIZE if final else len(sealed) == SEALED_CHUNK_SIZE
    )
    if not size_ok:
        raise BlobCorrupted(f"chunk {index} has the wrong size")
    try:
        return aead.decrypt(_nonce(prefix, index), bytes(sealed), _aad(header, index, final))
    except InvalidTag:
        raise BlobCorrupted(f"chunk {index} failed authentication") from None


class BlobEncryptor:
    """Streaming encryptor: feed plaintext with `update`, then call `finalize` once.

    Holds at most one chunk of plaintext. Write `header()` first, then every
    chunk `update` returns, then the one `finalize` returns.
    """

    def __init__(self, key: bytes, nonce_prefix: bytes | None = None) -> None:
        """Args:
        key: the blob's own random 32-byte key (`generate_key()`).
        nonce_prefix: 8 bytes; random when omitted (pass one only in tests).
        """
        self._aead = _check_key(key)
        if nonce_prefix is None:
            nonce_prefix = secrets.token_bytes(NONCE_PREFIX_SIZE)
        if len(nonce_prefix) != NONCE_PREFIX_SIZE:
            raise ValueError(f"nonce prefix must be {NONCE_PREFIX_SIZE} bytes")
        self._prefix = bytes(nonce_prefix)
        self._header = MAGIC + bytes([FORMAT_VERSION]) + self._prefix
        self._buffer = bytearray()
        self._index = 0
        self._done = False

    def header(self) -> bytes:
        """The blob header: the first HEADER_SIZE bytes of the stored blob."""
        return self._header

    def _seal(self, data: bytes | bytearray | memoryview, final: bool) -> bytes:
        if self._index >= MAX_CHUNKS:
            raise ValueError("blob too large")
        sealed = self._aead.encrypt(
            _nonce(self._prefix, self._index),
            bytes(data),
            _aad(self._header, self._index, final),
        )
        self._index += 1
        return sealed

    def update(self, data: bytes) -> list[bytes]:
        """Add plaintext; return the sealed chunks completed by it (possibly none).

        Raises:
            ValueError: called after `finalize`.
        """
        if self._done:
            raise ValueError("encryptor already finalized")
        out: list[bytes] = []
        view = memoryview(data)
        if self._buffer:
            take = CHUNK_SIZE - len(self._buffer)
            self._buffer += view[:take]
            view = view[take:]
            if len(self._buffer) < CHUNK_SIZE:
                return out
            out.append(self._seal(self._buffer, final=False))
            self._buffer.clear()
        # A full chunk is sealed as non-final at once: the final chunk is the
        # (possibly empty) remainder that `finalize` seals.
        while len(view) >= CHUNK_SIZE:
            out.append(self._seal(view[:CHUNK_SIZE], final=False))
            view = view[CHUNK_SIZE:]
        self._buffer += view
        return out

    def finalize(self) -> bytes:
        """Seal and return the final chunk (shorter than CHUNK_SIZE, maybe empty).

        Raises:
            ValueError: called twice.
        """
        if self._done:
            raise ValueError("encryptor already finalized")
        self._done = True
        sealed = self._seal(self._buffer, final=True)
        self._buffer.clear()
        return sealed


class BlobDecryptor:
    """Streaming decryptor: feed the stored blob (header first) in any pieces.

    `update` returns only authenticated plaintext, one whole chunk at a time.
    Truncation is only detectable at the end: plaintext already returned is
    genuine, but the blob is only complete once `finalize` has returned.
    """

    def __init__(self, key: bytes) -> None:
        self._aead = _check_key(key)
        self._header: bytes | None = None
        self._prefix = b""
        self._buffer = bytearray()
        self._index = 0
        self._done = False

    def update(self, data: bytes) -> bytes:
        """Add ciphertext; return the plaintext of every non-final chunk it completes.

        Raises:
            BlobCorrupted: bad header or a chunk failed authentication.
            ValueError: called after `finalize`.
        """
        if self._done:
            raise ValueError("decryptor already finalized")
        self._buffer += data
        if self._header is None:
            if len(self._buffer) < HEADER_SIZE:
                return b""
            header = bytes(self._buffer[:HEADER_SIZE])
            self._prefix = parse_header(header)
            self._header = header
            del self._buffer[:HEADER_SIZE]
        out = bytearray()
        # A sealed chunk of full size is never the final one (the final chunk
        # is always shorter), so it can be opened as soon as it is complete.
        pos = 0
        while len(self._buffer) - pos >= SEALED_CHUNK_SIZE:
            sealed = self._buffer[pos : pos + SEALED_CHUNK_SIZE]
            out += _open(self._aead, self._header, self._prefix, self._index, sealed, False)
            self._index += 1
            pos += SEALED_CHUNK_SIZE
        del self._buffer[:pos]
        return bytes(out)

    def finalize(self) -> bytes:
        """Open the final chunk and return its plaintext.

        Raises:
            BlobCorrupted: the header or final chunk is missing, truncated,
                followed by trailing bytes, or fails authentication.
            ValueError: called twice.
        """
        if self._done:
            raise ValueError("decryptor already finalized")
        self._done = True
        if self._header is None:
            raise BlobCorrupted("blob is truncated: no complete header")
        if len(self._buffer) < TAG_SIZE:
            raise BlobCorrupted("blob is truncated: the final chunk is missing")
        plain = _open(self._aead, self._header, self._prefix, self._index, self._buffer, True)
        self._buffer.clear()
        return plain


def encrypt_blob(key: bytes, plaintext: bytes) -> bytes:
    """One-shot encryption of a small in-memory plaintext (header and all chunks)."""
    enc = BlobEncryptor(key)
    return b"".join([enc.header(), *enc.update(plaintext), enc.finalize()])


def decrypt_blob(key: bytes, blob: bytes) -> bytes:
    """One-shot decryption of a whole in-memory blob.

    Raises:
        BlobCorrupted: anything about the blob fails to verify.
    """
    dec = BlobDecryptor(key)
    return dec.update(blob) + dec.finalize()


def _wrap_aad(master_kid: str, context: bytes) -> bytes:
    # The kid is length-prefixed so (kid, context) pairs cannot run into each
    # other ("ab" + "c" vs "a" + "bc"); the version byte is bound too.
    kid = master_kid.encode("utf-8")
    if len(kid) > 0xFFFF:
        raise ValueError("master key id too long")
    return _WRAP_LABEL + bytes([WRAP_VERSION]) + len(kid).to_bytes(2, "big") + kid + context


def wrap_key(master_key: bytes, master_kid: str, blob_key: bytes, context: bytes) -> bytes:
    """Encrypt a blob key under the master key: version || 96-bit nonce || ciphertext+tag.

    Args:
        master_key: the 32-byte master key named `master_kid`.
        master_kid: its key id, bound into the associated data (store it next
            to the wrapped key to know which master to unwrap with).
        blob_key: the 32-byte blob key.
        context: what the key belongs to (e.g. the blob's storage name), also bound.

    Returns:
        WRAPPED_KEY_SIZE (61) bytes.
    """
    aead = _check_key(master_key, "master key")
    if not isinstance(blob_key, bytes) or len(blob_key) != KEY_SIZE:
        raise ValueError(f"blob key must be {KEY_SIZE} bytes")
    nonce = secrets.token_bytes(WRAP_NONCE_SIZE)
    sealed = aead.encrypt(nonce, blob_key, _wrap_aad(master_kid, context))
    return bytes([WRAP_VERSION]) + nonce + sealed


def unwrap_key(master_key: bytes, master_kid: str, wrapped: bytes, context: bytes) -> bytes:
    """Recover a blob key from `wrap_key` output.

    To rotate the master key: `wrap_key(new, new_kid, unwrap_key(old, old_kid, w, ctx), ctx)`;
    the blob itself is untouched.

    Raises:
        BlobCorrupted: wrong master key, kid or context, or a damaged wrapped key.
    """
    aead = _check_key(master_key, "master key")
    if len(wrapped) != WRAPPED_KEY_SIZE or wrapped[0] != WRAP_VERSION:
        raise BlobCorrupted("not a version 1 wrapped blob key")
    nonce = bytes(wrapped[1 : 1 + WRAP_NONCE_SIZE])
    try:
        return aead.decrypt(
            nonce, bytes(wrapped[1 + WRAP_NONCE_SIZE :]), _wrap_aad(master_kid, context)
        )
    except InvalidTag:
        raise BlobCorrupted("wrapped blob key failed authentication") from None


def storage_name(name_key: bytes, plaintext_sha256: bytes) -> str:
    """HMAC-SHA256 of the content hash, hex: a file name that dedupes identical
    content yet reveals nothing about it without `name_key`.

    Raises:
        ValueError: `plaintext_sha256` is not 32 bytes or `name_key` is shorter than 32 bytes.
    """
    if len(plaintext_sha256) != hashlib.sha256().digest_size:
        raise ValueError("plaintext_sha256 must be a 32-byte SHA-256 digest")
    if len(name_key) < KEY_SIZE:
        raise ValueError(f"name key must be at least {KEY_SIZE} bytes")
    return hmac.new(name_key, _NAME_LABEL + plaintext_sha256, hashlib.sha256).hexdigest()
