"""RFC 9162 Merkle tree: reference vectors, proof generation and verification."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from cencomm.crypto.merkle import (
    EMPTY_ROOT,
    CompletedSubtree,
    MappingSubtreeSource,
    MemorySubtreeSource,
    MerkleAccumulator,
    consistency_proof,
    consistency_proof_ranges,
    inclusion_proof,
    inclusion_proof_ranges,
    is_complete_subtree,
    leaf_hash,
    node_hash,
    proof_subtrees,
    range_hash,
    root_from_inclusion_proof,
    root_from_leaf_hashes,
    subtree_ranges,
    verify_consistency,
    verify_inclusion,
)

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent.parent / "data" / "merkle_vectors.json").read_text()
)
LEAVES = [bytes.fromhex(x) for x in VECTORS["leaves"]]
LEAF_HASHES = [leaf_hash(x) for x in LEAVES]
ROOTS = [bytes.fromhex(x) for x in VECTORS["roots"]]
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


def h(text: str) -> bytes:
    return bytes.fromhex(text)


def naive_mth(hashes: Sequence[bytes]) -> bytes:
    """RFC 9162 2.1.1 written exactly as the RFC states it (the test oracle)."""
    n = len(hashes)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashes[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return node_hash(naive_mth(hashes[:k]), naive_mth(hashes[k:]))


def random_leaves(n: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    return [leaf_hash(rng.randbytes(rng.randrange(0, 40))) for _ in range(n)]


def inclusion_shape_matches(i: int, n: int, i2: int, n2: int) -> bool:
    """Whether (i2, n2) could reuse the proof for (i, n): same proof length.

    RFC 9162 proofs do not bind the tree size on their own (a 1 -> 3 proof
    also verifies as 1 -> 4 against the same roots; the signed checkpoint binds
    the size). A proof of the wrong length, though, must always fail.
    """
    if not 0 <= i2 < n2:
        return False
    return len(inclusion_proof_ranges(i2, n2)) == len(inclusion_proof_ranges(i, n))


def consistency_shape_matches(m: int, n: int, m2: int, n2: int) -> bool:
    """Like `inclusion_shape_matches` for consistency proofs."""
    if not 0 < m2 < n2:
        return False
    return len(consistency_proof_ranges(m2, n2)) == len(consistency_proof_ranges(m, n))


class RecordingSource:
    """Wraps a source and fails the test on any non-aligned request."""

    def __init__(self, inner: MemorySubtreeSource) -> None:
        self.inner = inner
        self.calls: list[tuple[int, int]] = []

    def subtree(self, start: int, end: int) -> bytes:
        assert is_complete_subtree(start, end), (start, end)
        self.calls.append((start, end))
        return self.inner.subtree(start, end)


def flip(b: bytes, bit: int = 0) -> bytes:
    return bytes([b[0] ^ (1 << bit)]) + b[1:]


# --- hashing primitives and roots ------------------------------------------------


def test_hash_primitives_follow_rfc_9162() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()
    a, b = leaf_hash(b"a"), leaf_hash(b"b")
    assert node_hash(a, b) == hashlib.sha256(b"\x01" + a + b).digest()


def test_reference_node_hashes() -> None:
    src = MemorySubtreeSource(LEAF_HASHES)
    for level, row in enumerate(VECTORS["node_hashes"]):
        for i, expected in enumerate(row):
            start = i << level
            assert src.subtree(start, start + (1 << level)) == h(expected)


@pytest.mark.parametrize("size", range(len(ROOTS)))
def test_reference_roots(size: int) -> None:
    assert root_from_leaf_hashes(LEAF_HASHES[:size]) == ROOTS[size]
    assert range_hash(MemorySubtreeSource(LEAF_HASHES), 0, size) == ROOTS[size]
    acc = MerkleAccumulator()
    for x in LEAF_HASHES[:size]:
        acc.append(x)
    assert acc.root() == ROOTS[size]


def test_size_8_root_is_the_published_one() -> None:
    assert root_from_leaf_hashes(LEAF_HASHES).hex() == (
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    )


def test_roots_match_naive_rfc_definition() -> None:
    hashes = random_leaves(300, seed=1)
    for n in range(301):
        assert root_from_leaf_hashes(hashes[:n]) == naive_mth(hashes[:n])


# --- reference proofs --------------------------------------------------------------


@pytest.mark.parametrize(
    "vec", VECTORS["inclusion"], ids=lambda v: f"{v['index']}-{v['tree_size']}"
)
def test_reference_inclusion_proofs(vec: dict[str, Any]) -> None:
    index, size = vec["index"], vec["tree_size"]
    expected = [h(x) for x in vec["proof"]]
    assert inclusion_proof(MemorySubtreeSource(LEAF_HASHES[:size]), index, size) == expected
    assert verify_inclusion(LEAF_HASHES[index], index, size, expected, ROOTS[size])


@pytest.mark.parametrize(
    "vec", VECTORS["inclusion"], ids=lambda v: f"{v['index']}-{v['tree_size']}"
)
def test_reference_inclusion_probes_fail(vec: dict[str, Any]) -> None:
    """The corruptions transparency-dev/merkle's verifierCheck tries must all fail."""
    index, size = vec["index"], vec["tree_size"]
    proof = [h(x) for x in vec["proof"]]
    root, leaf = ROOTS[size], LEAF_HASHES[index]
    probes: list[tuple[bytes, int, int, list[bytes], bytes]] = [
        (leaf, index - 1, size, proof, root),
        (leaf, index + 1, size, proof, root),
        (leaf, index ^ 2, size, proof, root),
        (leaf, index, size * 2, proof, root),
        (leaf, index, size // 2, proof, root),
        (b"WrongLeaf", index, size, proof, root),
        (leaf, index, size, proof, EMPTY_ROOT),
        (leaf, index, size, proof, SOME_HASH),
        (leaf, index, size, [*proof, b""], root),
        (leaf, index, size, [*proof, root], root),
        (leaf, index, size, [b"", *proof], root),
        (leaf, index, size, [root, *proof], root),
    ]
    for i in range(len(proof)):
        wrong = list(proof)
        wrong[i] = flip(wrong[i], 3)
        probes.append((leaf, index, size, wrong, root))
    if proof:
        probes.append((leaf, index, size, proof[:-1], root))
    if len(proof) > 1:
        probes.append((leaf, index, size, [proof[0], SOME_HASH, *proof[1:]], root))
    for p in probes:
        assert not verify_inclusion(*p), p


@pytest.mark.parametrize("vec", VECTORS["consistency"], ids=lambda v: f"{v['first']}-{v['second']}")
def test_reference_consistency_proofs(vec: dict[str, Any]) -> None:
    first, second = vec["first"], vec["second"]
    expected = [h(x) for x in vec["proof"]]
    assert consistency_proof(MemorySubtreeSource(LEAF_HASHES[:second]), first, second) == expected
    assert verify_consistency(first, second, ROOTS[first], ROOTS[second], expected)


@pytest.mark.parametrize(
    "vec",
    [v for v in VECTORS["consistency"] if v["proof"]],
    ids=lambda v: f"{v['first']}-{v['second']}",
)
def test_reference_consistency_probes_fail(vec: dict[str, Any]) -> None:
    """The corruptions transparency-dev/merkle's verifierConsistencyCheck tries must all fail."""
    s1, s2 = vec["first"], vec["second"]
    proof = [h(x) for x in vec["proof"]]
    r1, r2 = ROOTS[s1], ROOTS[s2]
    probes: list[tuple[int, int, bytes, bytes, list[bytes]]] = [
        (s1 - 1, s2, r1, r2, proof),
        (s1 + 1, s2, r1, r2, proof),
        (s1 ^ 2, s2, r1, r2, proof),
        (s1, s2 * 2, r1, r2, proof),
        (s1, s2 // 2, r1, r2, proof),
        (s1, s2, b"WrongRoot", r2, proof),
        (s1, s2, r1, b"WrongRoot", proof),
        (s1, s2, r2, r1, proof),
        (s1, s2, r1, r2, []),
        (s1, s2, r1, r2, [*proof, b""]),
        (s1, s2, r1, r2, [*proof, r1]),
        (s1, s2, r1, r2, [*proof, r2]),
        (s1, s2, r1, r2, [b"", *proof]),
        (s1, s2, r1, r2, [r1, *proof]),
        (s1, s2, r1, r2, [r2, *proof]),
        (s1, s2, r1, r2, [proof[0], *proof]),
        (s1, s2, r1, r2, proof[:-1]),
    ]
    for i in range(len(proof)):
        wrong = list(proof)
        wrong[i] = flip(wrong[i], 4)
        probes.append((s1, s2, r1, r2, wrong))
    for p in probes:
        assert not verify_consistency(*p), p


@pytest.mark.parametrize("vec", VECTORS["consistency_edge_cases"])
def test_reference_consistency_edge_cases(vec: dict[str, Any]) -> None:
    def val(text: str) -> bytes:
        return EMPTY_ROOT if text == "empty" else text.encode()

    proof = [val(x) for x in vec["proof"]]
    got = verify_consistency(
        vec["first"], vec["second"], val(vec["first_root"]), val(vec["second_root"]), proof
    )
    # Our verifier also insists on 32-byte roots when sizes are equal, so the
    # reference's "don't care" strings only verify where no root is compared.
    if vec["valid"] and vec["first"] == vec["second"]:
        assert not got
        r = SOME_HASH
        assert verify_consistency(vec["first"], vec["second"], r, r, proof)
    else:
        assert got is vec["valid"]


@pytest.mark.parametrize(
    "vec", VECTORS["inclusion_ranges"], ids=lambda v: f"{v['index']}-{v['tree_size']}"
)
def test_reference_inclusion_proof_shapes(vec: dict[str, Any]) -> None:
    got = inclusion_proof_ranges(vec["index"], vec["tree_size"])
    assert [list(r) for r in got] == vec["ranges"]


@pytest.mark.parametrize(
    "vec", VECTORS["consistency_ranges"], ids=lambda v: f"{v['first']}-{v['second']}"
)
def test_reference_consistency_proof_shapes(vec: dict[str, Any]) -> None:
    got = consistency_proof_ranges(vec["first"], vec["second"])
    assert [list(r) for r in got] == vec["ranges"]


def test_reference_invalid_proof_requests_raise() -> None:
    src = MemorySubtreeSource(random_leaves(8, seed=2))
    for vec in VECTORS["inclusion_range_errors"]:
        with pytest.raises(ValueError):
            inclusion_proof_ranges(vec["index"], vec["tree_size"])
        with pytest.raises(ValueError):
            inclusion_proof(src, vec["index"], vec["tree_size"])
    for vec in VECTORS["consistency_range_errors"]:
        with pytest.raises(ValueError):
            consistency_proof_ranges(vec["first"], vec["second"])
    with pytest.raises(ValueError):
        inclusion_proof_ranges(-1, 4)
    with pytest.raises(ValueError):
        consistency_proof_ranges(-1, 4)


# --- randomized cross-checks -------------------------------------------------------

MAX_N = 300


@pytest.fixture(scope="module")
def big_tree() -> tuple[list[bytes], MemorySubtreeSource, list[bytes]]:
    hashes = random_leaves(MAX_N, seed=3)
    roots = [naive_mth(hashes[:n]) for n in range(MAX_N + 1)]
    return hashes, MemorySubtreeSource(hashes), roots


def test_every_inclusion_proof_verifies_and_mutations_fail(
    big_tree: tuple[list[bytes], MemorySubtreeSource, list[bytes]],
) -> None:
    hashes, src, roots = big_tree
    rec = RecordingSource(src)
    rng = random.Random(4)
    for n in range(1, MAX_N + 1):
        for i in range(n):
            proof = inclusion_proof(rec, i, n)
            assert verify_inclusion(hashes[i], i, n, proof, roots[n]), (i, n)
            assert root_from_inclusion_proof(hashes[i], i, n, proof) == roots[n]
            # Mutations are sampled: checking all ~45k proofs is already exhaustive for validity.
            if rng.random() < 0.1:
                for i2, n2 in [(i + 1, n), (i - 1, n), (i, n + 1), (i, n - 1), (i, 2 * n)]:
                    if not inclusion_shape_matches(i, n, i2, n2):
                        assert not verify_inclusion(hashes[i], i2, n2, proof, roots[n])
                assert not verify_inclusion(hashes[i], i, n, [*proof, hashes[0]], roots[n])
                assert not verify_inclusion(flip(hashes[i]), i, n, proof, roots[n])
                if proof:
                    k = rng.randrange(len(proof))
                    bad = list(proof)
                    bad[k] = flip(bad[k], rng.randrange(8))
                    assert not verify_inclusion(hashes[i], i, n, bad, roots[n])
                    assert not verify_inclusion(hashes[i], i, n, proof[:-1], roots[n])
    assert rec.calls  # and every call was aligned (RecordingSource asserts it)


def test_every_consistency_proof_verifies_and_mutations_fail(
    big_tree: tuple[list[bytes], MemorySubtreeSource, list[bytes]],
) -> None:
    hashes, src, roots = big_tree
    rec = RecordingSource(src)
    rng = random.Random(5)
    pairs = [(m, n) for n in range(1, 101) for m in range(0, n + 1)]
    pairs += [
        (rng.randrange(0, n + 1), n) for n in (rng.randrange(1, MAX_N + 1) for _ in range(3000))
    ]
    for m, n in pairs:
        proof = consistency_proof(rec, m, n)
        assert verify_consistency(m, n, roots[m], roots[n], proof), (m, n)
        if 0 < m < n:
            assert proof
            assert not verify_consistency(m, n, roots[m], roots[n], proof[:-1])
            assert not verify_consistency(m, n, roots[m], roots[n], [*proof, hashes[0]])
            assert not verify_consistency(m, n, roots[m], flip(roots[n]), proof)
            assert not verify_consistency(m, n, flip(roots[m]), roots[n], proof)
            for m2, n2 in [(m + 1, n), (m - 1, n), (m, n + 1), (m, n - 1), (m, 2 * n)]:
                if not consistency_shape_matches(m, n, m2, n2):
                    assert not verify_consistency(m2, n2, roots[m], roots[n], proof)
            k = rng.randrange(len(proof))
            bad = list(proof)
            bad[k] = flip(bad[k], rng.randrange(8))
            assert not verify_consistency(m, n, roots[m], roots[n], bad)
        else:
            assert proof == []


def test_range_hash_equals_mth_of_any_slice(
    big_tree: tuple[list[bytes], MemorySubtreeSource, list[bytes]],
) -> None:
    hashes, src, _ = big_tree
    rng = random.Random(6)
    for _ in range(2000):
        a = rng.randrange(0, MAX_N + 1)
        b = rng.randrange(a, MAX_N + 1)
        rec = RecordingSource(src)
        assert range_hash(rec, a, b) == naive_mth(hashes[a:b])
        assert rec.calls == subtree_ranges(a, b)


def test_range_hash_uses_logarithmic_subtrees_for_tree_prefixes() -> None:
    for n in range(1, 1025):
        parts = subtree_ranges(0, n)
        assert len(parts) == n.bit_count()
        assert all(is_complete_subtree(s, e) for s, e in parts)
        assert parts[0][0] == 0 and parts[-1][1] == n
    assert subtree_ranges(5, 5) == []
    with pytest.raises(ValueError):
        subtree_ranges(3, 2)
    with pytest.raises(ValueError):
        range_hash(MemorySubtreeSource([]), -1, 0)
    assert range_hash(MemorySubtreeSource([]), 0, 0) == EMPTY_ROOT


def test_mapping_source_serves_prefetched_proofs() -> None:
    hashes = random_leaves(77, seed=7)
    mem = MemorySubtreeSource(hashes)
    root = root_from_leaf_hashes(hashes)
    ranges = inclusion_proof_ranges(40, 77)
    need = proof_subtrees(ranges)
    assert len(need) == len(set(need))
    source = MappingSubtreeSource({r: mem.subtree(*r) for r in need})
    proof = inclusion_proof(source, 40, 77)
    assert verify_inclusion(hashes[40], 40, 77, proof, root)
    need = proof_subtrees([*consistency_proof_ranges(23, 77), (0, 77), (0, 23)])
    source = MappingSubtreeSource({r: mem.subtree(*r) for r in need})
    proof = consistency_proof(source, 23, 77)
    assert range_hash(source, 0, 77) == root
    assert verify_consistency(23, 77, range_hash(source, 0, 23), root, proof)
    with pytest.raises(KeyError):
        MappingSubtreeSource({}).subtree(0, 1)


def test_memory_source_rejects_unaligned_or_out_of_range_requests() -> None:
    src = MemorySubtreeSource(random_leaves(6, seed=8))
    for start, end in [(0, 3), (1, 3), (2, 6), (4, 8), (6, 7), (3, 3), (-1, 0)]:
        with pytest.raises(ValueError):
            src.subtree(start, end)
    assert len(src) == 6


# --- verifier edge cases -------------------------------------------------------------


def test_proofs_bind_tree_size_only_through_the_signed_root() -> None:
    """Documents an RFC 9162 property the audit service must account for.

    The 1 -> 3 proof [h1, h2] also verifies as 1 -> 4 with the same two roots,
    and the inclusion proof of leaf 1 in size 3 as one in size 4: verifiers
    must take tree_size from the signed checkpoint, never from the request.
    """
    src = MemorySubtreeSource(LEAF_HASHES)
    proof = consistency_proof(src, 1, 3)
    assert verify_consistency(1, 3, ROOTS[1], ROOTS[3], proof)
    assert verify_consistency(1, 4, ROOTS[1], ROOTS[3], proof)
    path = inclusion_proof(src, 1, 3)
    assert verify_inclusion(LEAF_HASHES[1], 1, 4, path, ROOTS[3])


def test_verify_inclusion_never_raises_on_garbage() -> None:
    leaf = leaf_hash(b"data")
    assert verify_inclusion(leaf, 0, 1, [], leaf)
    assert not verify_inclusion(leaf, 0, 1, [], b"")
    assert not verify_inclusion(b"", 0, 1, [], leaf)
    assert not verify_inclusion(b"", 0, 1, [], b"")
    for index, size in [(0, 0), (1, 0), (1, 1), (2, 1), (-1, 1), (0, -1)]:
        assert not verify_inclusion(SOME_HASH, index, size, [], SOME_HASH)
        assert not verify_inclusion(SOME_HASH, index, size, [], EMPTY_ROOT)
        assert not verify_inclusion(EMPTY_ROOT, index, size, [], EMPTY_ROOT)
    assert not verify_inclusion(leaf, 0, 1, [leaf], leaf)
    assert not verify_inclusion(leaf, 0, 2, [b"short"], leaf)
    assert not verify_inclusion(leaf, 0, 2, ["not bytes"], leaf)  # type: ignore[list-item]  # garbage on purpose
    assert not verify_inclusion(leaf, True, 2, [leaf], leaf)
    assert root_from_inclusion_proof(leaf, 3, 2, []) is None


def test_verify_consistency_never_raises_on_garbage() -> None:
    a, b = ROOTS[3], ROOTS[7]
    proof = consistency_proof(MemorySubtreeSource(LEAF_HASHES), 3, 7)
    assert verify_consistency(3, 7, a, b, proof)
    assert not verify_consistency(7, 3, b, a, proof)
    assert not verify_consistency(-1, 7, a, b, proof)
    assert not verify_consistency(3, 7, a, b, [*proof[:-1], b"x"])
    assert not verify_consistency(3, 7, a, b, [*proof, "x"])  # type: ignore[list-item]  # garbage on purpose
    assert not verify_consistency(3, 7, b"", b, proof)
    assert not verify_consistency(3, 7, a, b"", proof)
    assert not verify_consistency(3, 3, a, a, proof)
    assert verify_consistency(3, 3, a, a, [])
    assert not verify_consistency(3, 3, a, b, [])
    assert verify_consistency(0, 7, EMPTY_ROOT, b, [])
    assert not verify_consistency(0, 7, EMPTY_ROOT, b, proof)


# --- accumulator ---------------------------------------------------------------------


def test_accumulator_roots_match_at_every_size() -> None:
    hashes = random_leaves(MAX_N, seed=9)
    acc = MerkleAccumulator()
    assert acc.root() == EMPTY_ROOT
    for n, x in enumerate(hashes, start=1):
        acc.append(x)
        assert acc.size == n
        assert acc.root() == root_from_leaf_hashes(hashes[:n]) == naive_mth(hashes[:n])
        assert len(acc.right_edge) == n.bit_count()


def test_accumulator_reports_every_complete_subtree_exactly_once() -> None:
    hashes = random_leaves(MAX_N, seed=10)
    mem = MemorySubtreeSource(hashes)
    acc = MerkleAccumulator()
    stored: dict[tuple[int, int], bytes] = {}
    for i, x in enumerate(hashes):
        done = acc.append(x)
        assert done[0] == CompletedSubtree(i, 0, x)
        assert [d.level for d in done] == list(range(len(done)))
        assert all(d.end == i + 1 for d in done)
        for d in done:
            assert (d.start, d.end) not in stored
            assert d.hash == mem.subtree(d.start, d.end)
            stored[(d.start, d.end)] = d.hash
    # Everything the log needs for proofs at any size is now persisted.
    source = MappingSubtreeSource(stored)
    for n in range(1, MAX_N + 1, 7):
        for i in range(0, n, 5):
            proof = inclusion_proof(source, i, n)
            assert verify_inclusion(hashes[i], i, n, proof, range_hash(source, 0, n))


def test_accumulator_resumes_from_persisted_edge() -> None:
    hashes = random_leaves(100, seed=11)
    acc = MerkleAccumulator()
    for x in hashes[:57]:
        acc.append(x)
    resumed = MerkleAccumulator(acc.size, acc.right_edge)
    for x in hashes[57:]:
        acc.append(x)
        resumed.append(x)
        assert resumed.root() == acc.root()
    assert resumed.root() == root_from_leaf_hashes(hashes)


def test_accumulator_rejects_bad_state() -> None:
    with pytest.raises(ValueError):
        MerkleAccumulator(3, [SOME_HASH])
    with pytest.raises(ValueError):
        MerkleAccumulator(1, [b"short"])
    with pytest.raises(ValueError):
        MerkleAccumulator(-1, [])
    with pytest.raises(ValueError):
        MerkleAccumulator().append(b"not a hash")
