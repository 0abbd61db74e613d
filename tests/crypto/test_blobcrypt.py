"""Chunked AES-256-GCM attachment encryption, key wrapping and blob names."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from cencomm.crypto.blobcrypt import (
    CHUNK_SIZE,
    HEADER_SIZE,
    SEALED_CHUNK_SIZE,
    TAG_SIZE,
    WRAPPED_KEY_SIZE,
    BlobCorrupted,
    BlobDecryptor,
    BlobEncryptor,
    chunk_count,
    chunk_offset,
    chunk_span,
    ciphertext_size,
    decrypt_blob,
    decrypt_chunk,
    encrypt_blob,
    generate_key,
    parse_header,
    plaintext_size,
    storage_name,
    unwrap_key,
    wrap_key,
)

KEY = bytes(range(32))
SIZES = [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * CHUNK_SIZE + CHUNK_SIZE // 2]


def plaintext(n: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(n)


def pieces(data: bytes, rng: random.Random) -> Iterator[bytes]:
    """Split `data` in random piece sizes, empty pieces and big ones included."""
    pos = 0
    while pos < len(data):
        step = rng.choice([0, 1, 7, 4096, CHUNK_SIZE - 3, CHUNK_SIZE, 2 * CHUNK_SIZE + 5])
        yield data[pos : pos + step]
        pos += step
    yield b""


def encrypt_stream(key: bytes, data: bytes, seed: int = 1) -> tuple[bytes, list[bytes]]:
    """Encrypt in random pieces; return the header and the sealed chunks."""
    enc = BlobEncryptor(key)
    chunks: list[bytes] = []
    for piece in pieces(data, random.Random(seed)):
        chunks += enc.update(piece)
    chunks.append(enc.finalize())
    return enc.header(), chunks


def decrypt_stream(key: bytes, blob: bytes, seed: int = 2) -> bytes:
    dec = BlobDecryptor(key)
    out = bytearray()
    for piece in pieces(blob, random.Random(seed)):
        out += dec.update(piece)
    out += dec.finalize()
    return bytes(out)


@pytest.fixture(scope="module")
def multi_chunk_blob() -> tuple[bytes, bytes, list[bytes]]:
    """3.5 chunks of plaintext, its header and sealed chunks."""
    data = plaintext(SIZES[-1], seed=9)
    header, chunks = encrypt_stream(KEY, data)
    return data, header, chunks


# --- round trips and layout ------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_round_trip_in_random_pieces(size: int, seed: int) -> None:
    data = plaintext(size, seed)
    header, chunks = encrypt_stream(KEY, data, seed)
    blob = header + b"".join(chunks)
    assert len(blob) == ciphertext_size(size)
    assert plaintext_size(len(blob)) == size
    assert len(chunks) == chunk_count(size) == size // CHUNK_SIZE + 1
    assert all(len(c) == SEALED_CHUNK_SIZE for c in chunks[:-1])
    assert len(chunks[-1]) == size % CHUNK_SIZE + TAG_SIZE
    assert decrypt_stream(KEY, blob, seed + 10) == data
    assert decrypt_blob(KEY, blob) == data


def test_empty_plaintext_is_one_final_empty_chunk() -> None:
    enc = BlobEncryptor(KEY)
    assert enc.update(b"") == []
    final = enc.finalize()
    assert len(final) == TAG_SIZE
    assert decrypt_chunk(KEY, enc.header(), 0, final, final=True) == b""
    with pytest.raises(BlobCorrupted):
        decrypt_chunk(KEY, enc.header(), 0, final, final=False)


def test_update_emits_chunks_as_they_fill() -> None:
    enc = BlobEncryptor(KEY)
    assert enc.update(b"x" * (CHUNK_SIZE - 1)) == []
    assert len(enc.update(b"x")) == 1
    assert len(enc.update(b"x" * (2 * CHUNK_SIZE + 1))) == 2
    assert len(enc.finalize()) == 1 + TAG_SIZE


def test_decryptor_releases_each_verified_chunk_early() -> None:
    data = plaintext(2 * CHUNK_SIZE + 10)
    blob = encrypt_blob(KEY, data)
    dec = BlobDecryptor(KEY)
    assert dec.update(blob[: HEADER_SIZE + SEALED_CHUNK_SIZE - 1]) == b""
    assert (
        dec.update(blob[HEADER_SIZE + SEALED_CHUNK_SIZE - 1 : chunk_offset(1)]) == data[:CHUNK_SIZE]
    )
    assert dec.update(blob[chunk_offset(1) :]) == data[CHUNK_SIZE : 2 * CHUNK_SIZE]
    assert dec.finalize() == data[2 * CHUNK_SIZE :]


def test_header_layout_and_deterministic_nonce_prefix() -> None:
    prefix = b"\xa5" * 8
    enc = BlobEncryptor(KEY, nonce_prefix=prefix)
    assert len(enc.header()) == HEADER_SIZE
    assert parse_header(enc.header()) == prefix
    again = BlobEncryptor(KEY, nonce_prefix=prefix)
    assert enc.finalize() == again.finalize()
    # Random prefixes: two encryptions of the same data under the same key differ.
    assert encrypt_blob(KEY, b"same") != encrypt_blob(KEY, b"same")


def test_chunk_nonce_and_aad_are_the_documented_ones() -> None:
    prefix = bytes(range(8))
    enc = BlobEncryptor(KEY, nonce_prefix=prefix)
    data = plaintext(CHUNK_SIZE + 5)
    chunks = [*enc.update(data), enc.finalize()]
    header = enc.header()
    aead = AESGCM(KEY)
    for i, (chunk, final) in enumerate([(chunks[0], b"\x00"), (chunks[1], b"\x01")]):
        nonce = prefix + i.to_bytes(4, "big")
        aad = header + i.to_bytes(8, "big") + final
        assert aead.decrypt(nonce, chunk, aad) == data[i * CHUNK_SIZE : (i + 1) * CHUNK_SIZE]


def test_ciphertext_contains_no_32_byte_window_of_plaintext() -> None:
    # Low-entropy text plus random bytes: any leak of plaintext would show.
    data = (b"SEIZURE REPORT: 1200 units of falsified medicines. " * 3000)[: 2 * CHUNK_SIZE]
    data += plaintext(CHUNK_SIZE + 999)
    blob = encrypt_blob(KEY, data)
    windows = {data[i : i + 32] for i in range(len(data) - 31)}
    assert not any(blob[i : i + 32] in windows for i in range(len(blob) - 31))


def test_generate_key_is_random_and_256_bit() -> None:
    a, b = generate_key(), generate_key()
    assert len(a) == len(b) == 32 and a != b


def test_bad_keys_and_prefixes_are_rejected() -> None:
    for bad in (b"", b"x" * 16, b"x" * 33):
        with pytest.raises(ValueError):
            BlobEncryptor(bad)
        with pytest.raises(ValueError):
            BlobDecryptor(bad)
    with pytest.raises(ValueError):
        BlobEncryptor(KEY, nonce_prefix=b"short")


def test_finalized_streams_refuse_more_input() -> None:
    enc = BlobEncryptor(KEY)
    final = enc.finalize()
    with pytest.raises(ValueError):
        enc.update(b"x")
    with pytest.raises(ValueError):
        enc.finalize()
    dec = BlobDecryptor(KEY)
    dec.update(enc.header() + final)
    assert dec.finalize() == b""
    with pytest.raises(ValueError):
        dec.update(b"")
    with pytest.raises(ValueError):
        dec.finalize()


# --- tampering ---------------------------------------------------------------------


def assert_corrupted(blob: bytes, key: bytes = KEY) -> None:
    with pytest.raises(BlobCorrupted):
        decrypt_stream(key, blob)
    with pytest.raises(BlobCorrupted):
        decrypt_blob(key, blob)


def test_truncation_at_every_chunk_boundary_and_mid_chunk_fails(
    multi_chunk_blob: tuple[bytes, bytes, list[bytes]],
) -> None:
    _, header, chunks = multi_chunk_blob
    blob = header + b"".join(chunks)
    cuts = {0, 1, HEADER_SIZE - 1, HEADER_SIZE, len(blob) - 1}
    for i in range(len(chunks)):
        start = chunk_offset(i)
        cuts |= {start, start + 1, start + TAG_SIZE, start + CHUNK_SIZE // 2, start - 1}
    for cut in sorted(c for c in cuts if 0 <= c < len(blob)):
        assert_corrupted(blob[:cut])


def test_dropping_the_final_chunk_of_an_exact_multiple_fails() -> None:
    header, chunks = encrypt_stream(KEY, plaintext(2 * CHUNK_SIZE))
    assert len(chunks) == 3 and len(chunks[-1]) == TAG_SIZE
    assert_corrupted(header + b"".join(chunks[:-1]))


def test_reordering_or_duplicating_chunks_fails(
    multi_chunk_blob: tuple[bytes, bytes, list[bytes]],
) -> None:
    _, header, chunks = multi_chunk_blob
    c = chunks
    assert_corrupted(header + c[1] + c[0] + c[2] + c[3])
    assert_corrupted(header + c[0] + c[2] + c[1] + c[3])
    assert_corrupted(header + c[0] + c[0] + c[2] + c[3])
    assert_corrupted(header + c[0] + c[1] + c[2] + c[2] + c[3])
    assert_corrupted(header + c[0] + c[1] + c[3])  # a middle chunk dropped
    assert_corrupted(header + c[0] + c[1] + c[2] + c[3] + c[3])  # final chunk twice


def test_trailing_bytes_after_the_final_chunk_fail(
    multi_chunk_blob: tuple[bytes, bytes, list[bytes]],
) -> None:
    _, header, chunks = multi_chunk_blob
    blob = header + b"".join(chunks)
    for extra in (b"\x00", b"x" * TAG_SIZE, bytes(SEALED_CHUNK_SIZE)):
        assert_corrupted(blob + extra)


def test_chunks_cannot_move_between_blobs() -> None:
    data = plaintext(2 * CHUNK_SIZE + 3)
    h1, c1 = encrypt_stream(KEY, data)
    h2, c2 = encrypt_stream(KEY, data)  # same key, new random nonce prefix
    assert_corrupted(h1 + c2[0] + c1[1] + c1[2])
    assert_corrupted(h2 + b"".join(c1))


def test_every_bit_flip_of_a_small_blob_fails() -> None:
    blob = encrypt_blob(KEY, plaintext(100))
    for byte in range(len(blob)):
        for bit in range(8):
            bad = bytearray(blob)
            bad[byte] ^= 1 << bit
            with pytest.raises(BlobCorrupted):
                decrypt_blob(KEY, bytes(bad))


def test_bit_flips_across_a_multi_chunk_blob_fail(
    multi_chunk_blob: tuple[bytes, bytes, list[bytes]],
) -> None:
    _, header, chunks = multi_chunk_blob
    blob = header + b"".join(chunks)
    rng = random.Random(11)
    positions = set(range(HEADER_SIZE))  # magic, version and nonce prefix
    for i in range(len(chunks)):
        start = chunk_offset(i)
        end = min(chunk_offset(i + 1), len(blob))
        positions |= {start, start + 1, end - TAG_SIZE - 1, end - TAG_SIZE, end - 1}  # body, tag
        positions |= {rng.randrange(start, end) for _ in range(5)}
    for pos in sorted(positions):
        bad = bytearray(blob)
        bad[pos] ^= 1 << rng.randrange(8)
        assert_corrupted(bytes(bad))


def test_wrong_key_fails(multi_chunk_blob: tuple[bytes, bytes, list[bytes]]) -> None:
    _, header, chunks = multi_chunk_blob
    assert_corrupted(header + b"".join(chunks), key=generate_key())
    with pytest.raises(BlobCorrupted):
        decrypt_blob(generate_key(), encrypt_blob(KEY, b""))


def test_bad_header_is_rejected() -> None:
    blob = encrypt_blob(KEY, b"hello")
    for bad in (b"XCB" + blob[3:], blob[:3] + b"\x02" + blob[4:]):
        assert_corrupted(bad)
    with pytest.raises(BlobCorrupted):
        parse_header(blob[: HEADER_SIZE - 1])


# --- random access (HTTP Range) ------------------------------------------------------


def test_chunk_span_covers_exactly_the_requested_bytes() -> None:
    assert chunk_span(0, 0) == (0, 0)
    assert chunk_span(0, CHUNK_SIZE - 1) == (0, 0)
    assert chunk_span(CHUNK_SIZE - 1, CHUNK_SIZE) == (0, 1)
    assert chunk_span(CHUNK_SIZE, 3 * CHUNK_SIZE) == (1, 3)
    rng = random.Random(12)
    for _ in range(1000):
        start = rng.randrange(0, 10 * CHUNK_SIZE)
        end = start + rng.randrange(0, 3 * CHUNK_SIZE)
        first, last = chunk_span(start, end)
        assert first * CHUNK_SIZE <= start < (first + 1) * CHUNK_SIZE
        assert last * CHUNK_SIZE <= end < (last + 1) * CHUNK_SIZE
    for args in ((-1, 5), (5, 4)):
        with pytest.raises(ValueError):
            chunk_span(*args)


def test_ranges_decrypt_from_chunk_offsets(
    multi_chunk_blob: tuple[bytes, bytes, list[bytes]],
) -> None:
    data, header, chunks = multi_chunk_blob
    blob = header + b"".join(chunks)
    assert blob[:HEADER_SIZE] == header
    last_index = chunk_count(len(data)) - 1
    for i, chunk in enumerate(chunks):
        assert blob[chunk_offset(i) : chunk_offset(i) + len(chunk)] == chunk
    rng = random.Random(13)
    for _ in range(200):
        start = rng.randrange(0, len(data))
        end = rng.randrange(start, len(data))
        first, last = chunk_span(start, end)
        region = blob[chunk_offset(first) : min(chunk_offset(last + 1), len(blob))]
        out = bytearray()
        for i in range(first, last + 1):
            sealed = region[(i - first) * SEALED_CHUNK_SIZE : (i - first + 1) * SEALED_CHUNK_SIZE]
            out += decrypt_chunk(KEY, header, i, sealed, final=i == last_index)
        base = first * CHUNK_SIZE
        assert bytes(out[start - base : end - base + 1]) == data[start : end + 1]


def test_decrypt_chunk_rejects_wrong_index_flag_or_size(
    multi_chunk_blob: tuple[bytes, bytes, list[bytes]],
) -> None:
    _, header, chunks = multi_chunk_blob
    assert len(decrypt_chunk(KEY, header, 1, chunks[1], final=False)) == CHUNK_SIZE
    with pytest.raises(BlobCorrupted):
        decrypt_chunk(KEY, header, 2, chunks[1], final=False)
    with pytest.raises(BlobCorrupted):
        decrypt_chunk(KEY, header, 1, chunks[1], final=True)
    with pytest.raises(BlobCorrupted):
        decrypt_chunk(KEY, header, 3, chunks[3], final=False)
    with pytest.raises(BlobCorrupted):
        decrypt_chunk(KEY, header, 1, chunks[1][:-1], final=False)
    with pytest.raises(BlobCorrupted):
        decrypt_chunk(KEY, header, -1, chunks[1], final=False)
    with pytest.raises(BlobCorrupted):
        decrypt_chunk(KEY, header, 3, chunks[3][: TAG_SIZE - 1], final=True)


def test_sizes_round_trip_and_reject_impossible_blob_sizes() -> None:
    for n in [*SIZES, 5 * CHUNK_SIZE, 5 * CHUNK_SIZE + 17]:
        assert plaintext_size(ciphertext_size(n)) == n
    for bad in (0, HEADER_SIZE, HEADER_SIZE + TAG_SIZE - 1, HEADER_SIZE + SEALED_CHUNK_SIZE + 3):
        with pytest.raises(BlobCorrupted):
            plaintext_size(bad)
    with pytest.raises(ValueError):
        chunk_count(-1)
    with pytest.raises(ValueError):
        chunk_offset(-1)


# --- key wrapping --------------------------------------------------------------------


def test_wrap_unwrap_round_trip_and_rotation() -> None:
    old_master, new_master, blob_key = generate_key(), generate_key(), generate_key()
    ctx = b"blob:3f2a"
    wrapped = wrap_key(old_master, "m-2024", blob_key, ctx)
    assert len(wrapped) == WRAPPED_KEY_SIZE and wrapped[0] == 1
    assert blob_key not in wrapped
    assert wrap_key(old_master, "m-2024", blob_key, ctx) != wrapped  # random nonce
    assert unwrap_key(old_master, "m-2024", wrapped, ctx) == blob_key
    rotated = wrap_key(new_master, "m-2025", unwrap_key(old_master, "m-2024", wrapped, ctx), ctx)
    assert unwrap_key(new_master, "m-2025", rotated, ctx) == blob_key
    with pytest.raises(BlobCorrupted):
        unwrap_key(old_master, "m-2024", rotated, ctx)


def test_unwrap_fails_on_wrong_master_kid_context_or_damage() -> None:
    master, blob_key = generate_key(), generate_key()
    wrapped = wrap_key(master, "kid-a", blob_key, b"ctx")
    bad_cases: list[tuple[bytes, str, bytes, bytes]] = [
        (generate_key(), "kid-a", wrapped, b"ctx"),
        (master, "kid-b", wrapped, b"ctx"),
        (master, "kid-a", wrapped, b"ctx2"),
        (master, "kid-a", wrapped, b""),
        (master, "kid-", wrapped, b"actx"),  # kid and context cannot slide into each other
        (master, "kid-a", wrapped[:-1], b"ctx"),
        (master, "kid-a", wrapped + b"\x00", b"ctx"),
        (master, "kid-a", b"\x02" + wrapped[1:], b"ctx"),
    ]
    for pos in range(len(wrapped)):
        bad = bytearray(wrapped)
        bad[pos] ^= 0x40
        bad_cases.append((master, "kid-a", bytes(bad), b"ctx"))
    for case in bad_cases:
        with pytest.raises(BlobCorrupted):
            unwrap_key(*case)


def test_wrap_rejects_bad_key_sizes() -> None:
    with pytest.raises(ValueError):
        wrap_key(b"short", "k", generate_key(), b"")
    with pytest.raises(ValueError):
        wrap_key(generate_key(), "k", b"short", b"")
    with pytest.raises(ValueError):
        unwrap_key(b"short", "k", bytes(WRAPPED_KEY_SIZE), b"")


def test_blob_corrupted_is_a_value_error() -> None:
    assert issubclass(BlobCorrupted, ValueError)


# --- storage names -------------------------------------------------------------------


def test_storage_name_dedupes_without_revealing_content() -> None:
    name_key = generate_key()
    digest = hashlib.sha256(b"attachment").digest()
    name = storage_name(name_key, digest)
    assert len(name) == 64 and all(c in "0123456789abcdef" for c in name)
    assert storage_name(name_key, digest) == name
    assert storage_name(name_key, hashlib.sha256(b"other").digest()) != name
    assert storage_name(generate_key(), digest) != name
    assert digest.hex() not in name


def test_storage_name_rejects_bad_inputs() -> None:
    with pytest.raises(ValueError):
        storage_name(generate_key(), b"not a digest")
    with pytest.raises(ValueError):
        storage_name(b"short", hashlib.sha256(b"").digest())
