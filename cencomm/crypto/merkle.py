"""RFC 9162 Merkle tree hashing: roots, inclusion and consistency proofs, verifiers."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 || data): the hash of one log entry (RFC 9162 section 2.1.1)."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right): the hash of an interior node."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than `n` (`n` >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def is_complete_subtree(start: int, end: int) -> bool:
    """True if [start, end) is an aligned complete subtree (a leaf included).

    That is: end - start is a power of two and start is a multiple of it.
    """
    size = end - start
    return start >= 0 and size > 0 and size & (size - 1) == 0 and start % size == 0


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) over already hashed leaves (RFC 9162 section 2.1.1); EMPTY_ROOT if empty."""
    if not hashes:
        return EMPTY_ROOT
    acc = MerkleAccumulator()
    for h in hashes:
        acc.append(h)
    return acc.root()


class SubtreeSource(Protocol):
    """Where proofs get their hashes from: an in-memory list, a cache, a database.

    `subtree(start, end)` is only ever asked for an aligned complete subtree
    (see `is_complete_subtree`), so an implementation only has to store those:
    the leaf hashes plus the interior nodes `MerkleAccumulator` reports.
    """

    def subtree(self, start: int, end: int) -> bytes:
        """The hash of leaves [start, end), an aligned complete subtree."""
        ...


def subtree_ranges(start: int, end: int) -> list[tuple[int, int]]:
    """The aligned complete subtrees `range_hash(source, start, end)` asks for, in order.

    When `start` is a multiple of the smallest power of two >= end - start
    (always true for [0, n) and for every range a proof uses) this is the
    O(log n) binary decomposition of the range. Lets a caller batch-fetch the
    hashes (for instance in one async query) and then use `MappingSubtreeSource`.

    Raises:
        ValueError: negative start or end < start.
    """
    if start < 0 or end < start:
        raise ValueError(f"invalid leaf range [{start}, {end})")
    out: list[tuple[int, int]] = []
    _collect_subtrees(start, end, out)
    return out


def _collect_subtrees(start: int, end: int, out: list[tuple[int, int]]) -> None:
    if start == end:
        return
    if is_complete_subtree(start, end):
        out.append((start, end))
        return
    k = _split(end - start)
    _collect_subtrees(start, start + k, out)
    _collect_subtrees(start + k, end, out)


def range_hash(source: SubtreeSource, start: int, end: int) -> bytes:
    """MTH(D[start:end]): the Merkle tree hash of leaves [start, end) as their own tree.

    Follows the RFC 9162 split (largest power of two smaller than the size) and
    only calls `source.subtree` for aligned complete subtrees, the same ones
    `subtree_ranges(start, end)` lists. An empty range gives EMPTY_ROOT.

    Raises:
        ValueError: negative start or end < start.
    """
    if start < 0 or end < start:
        raise ValueError(f"invalid leaf range [{start}, {end})")
    if start == end:
        return EMPTY_ROOT
    return _range_hash(source, start, end)


def _range_hash(source: SubtreeSource, start: int, end: int) -> bytes:
    if is_complete_subtree(start, end):
        return source.subtree(start, end)
    k = _split(end - start)
    return node_hash(_range_hash(source, start, start + k), _range_hash(source, start + k, end))


def inclusion_proof_ranges(index: int, tree_size: int) -> list[tuple[int, int]]:
    """Leaf ranges whose hashes form PATH(index, D[tree_size]), leaf side first.

    Raises:
        ValueError: unless 0 <= index < tree_size.
    """
    if not 0 <= index < tree_size:
        raise ValueError(f"leaf index {index} is not in a tree of size {tree_size}")
    out: list[tuple[int, int]] = []
    start, end = 0, tree_size
    # RFC 9162 2.1.3.1 builds PATH root first and appends on the way back up;
    # walking down and reversing gives the same order without recursion.
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            out.append((start + k, end))
            end = start + k
        else:
            out.append((start, start + k))
            start += k
    out.reverse()
    return out


def consistency_proof_ranges(first: int, second: int) -> list[tuple[int, int]]:
    """Leaf ranges whose hashes form PROOF(first, D[second]) (RFC 9162 2.1.4.1).

    The proof is empty when first == 0 or first == second.

    Raises:
        ValueError: unless 0 <= first <= second.
    """
    if not 0 <= first <= second:
        raise ValueError(f"no consistency proof from size {first} to size {second}")
    out: list[tuple[int, int]] = []
    if first in (0, second):
        return out
    # SUBPROOF(m, D[start:end], b), unrolled: each step appends one sibling
    # range; the RFC appends them on the way back up, hence the reverse.
    start, end, whole_first_tree = 0, second, True
    while True:
        n = end - start
        m = first - start
        if m == n:
            if not whole_first_tree:
                out.append((start, end))
            break
        k = _split(n)
        if m <= k:
            out.append((start + k, end))
            end = start + k
        else:
            out.append((start, start + k))
            start += k
            whole_first_tree = False
    out.reverse()
    return out


def inclusion_proof(source: SubtreeSource, index: int, tree_size: int) -> list[bytes]:
    """The audit path for leaf `index` in the tree of size `tree_size` (RFC 9162 2.1.3.1).

    Raises:
        ValueError: unless 0 <= index < tree_size.
    """
    return [range_hash(source, s, e) for s, e in inclusion_proof_ranges(index, tree_size)]


def consistency_proof(source: SubtreeSource, first: int, second: int) -> list[bytes]:
    """The consistency proof from tree size `first` to `second` (RFC 9162 2.1.4.1).

    Raises:
        ValueError: unless 0 <= first <= second.
    """
    return [range_hash(source, s, e) for s, e in consistency_proof_ranges(first, second)]


def proof_subtrees(ranges: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Every distinct aligned subtree needed to hash `ranges`, in first-use order."""
    seen: dict[tuple[int, int], None] = {}
    for start, end in ranges:
        for sub in subtree_ranges(start, end):
            seen.setdefault(sub, None)
    return list(seen)


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_SIZE


def _is_size(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def root_from_inclusion_proof(
    leaf: bytes, index: int, tree_size: int, proof: Sequence[bytes]
) -> bytes | None:
    """The root an inclusion proof implies (RFC 9162 2.1.3.2), or None if it is malformed."""
    if not (_is_hash(leaf) and _is_size(index) and _is_size(tree_size)) or index >= tree_size:
        return None
    fn, sn, r = index, tree_size - 1, leaf
    for p in proof:
        if sn == 0 or not _is_hash(p):
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def verify_inclusion(
    leaf: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """True iff `proof` shows leaf hash `leaf` at `index` in the tree of `tree_size` with `root`.

    Never raises: bad sizes, index >= tree_size, wrong hash lengths or a proof
    of the wrong length all give False.
    """
    got = root_from_inclusion_proof(leaf, index, tree_size, proof)
    return got is not None and _is_hash(root) and hmac.compare_digest(got, root)


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """True iff `proof` shows the tree (`second`, `second_root`) extends (`first`, `first_root`).

    RFC 9162 2.1.4.2. first == second needs an empty proof and equal roots;
    first == 0 needs an empty proof (an empty tree is a prefix of every tree).
    Never raises: anything malformed gives False.
    """
    if not (_is_size(first) and _is_size(second)) or first > second:
        return False
    if not all(_is_hash(p) for p in proof):
        return False
    if first == second:
        return (
            not proof
            and _is_hash(first_root)
            and _is_hash(second_root)
            and hmac.compare_digest(first_root, second_root)
        )
    if first == 0:
        return not proof
    if not proof or not (_is_hash(first_root) and _is_hash(second_root)):
        return False
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and hmac.compare_digest(fr, first_root) and hmac.compare_digest(sr, second_root)


@dataclass(frozen=True, slots=True)
class CompletedSubtree:
    """An aligned complete subtree: leaves [start, start + 2**level) hash to `hash`."""

    start: int
    level: int
    hash: bytes

    @property
    def end(self) -> int:
        return self.start + (1 << self.level)


class MerkleAccumulator:
    """Append-only compact range over leaves [0, size): O(log n) state, root at any size.

    The state is the right edge: one complete subtree hash per set bit of
    `size`, largest (leftmost) first. `append` reports every complete subtree
    it finishes so a caller can persist them and serve proofs through a
    `SubtreeSource` without rehashing the log.
    """

    def __init__(self, size: int = 0, right_edge: Sequence[bytes] = ()) -> None:
        """Start empty, or resume from a persisted (`size`, `right_edge`).

        Raises:
            ValueError: the edge does not have one 32-byte hash per set bit of size.
        """
        if not _is_size(size) or len(right_edge) != size.bit_count():
            raise ValueError("right edge must hold one hash per set bit of size")
        if not all(_is_hash(h) for h in right_edge):
            raise ValueError("right edge hashes must be 32 bytes")
        self._size = size
        self._edge = list(right_edge)

    @property
    def size(self) -> int:
        return self._size

    @property
    def right_edge(self) -> tuple[bytes, ...]:
        """The complete subtree hashes of the right edge, largest first (persist with size)."""
        return tuple(self._edge)

    def append(self, leaf: bytes) -> list[CompletedSubtree]:
        """Add leaf hash `leaf` at index `size`; return the subtrees it completes.

        The first item is the leaf itself (level 0), then each merged parent,
        smallest to largest.

        Raises:
            ValueError: `leaf` is not a 32-byte hash.
        """
        if not _is_hash(leaf):
            raise ValueError("leaf hash must be 32 bytes")
        start, level, h = self._size, 0, leaf
        done = [CompletedSubtree(start, level, h)]
        # Each trailing one bit of the old size is a complete subtree of equal
        # height immediately to the left: merge with it.
        n = self._size
        while n & 1:
            h = node_hash(self._edge.pop(), h)
            start -= 1 << level
            level += 1
            done.append(CompletedSubtree(start, level, h))
            n >>= 1
        self._edge.append(h)
        self._size += 1
        return done

    def root(self) -> bytes:
        """MTH of leaves [0, size); EMPTY_ROOT when empty."""
        if not self._edge:
            return EMPTY_ROOT
        r = self._edge[-1]
        for h in reversed(self._edge[:-1]):
            r = node_hash(h, r)
        return r


class MemorySubtreeSource:
    """A `SubtreeSource` over leaf hashes held in memory, with every level precomputed."""

    def __init__(self, leaf_hashes: Sequence[bytes]) -> None:
        levels: list[list[bytes]] = [list(leaf_hashes)]
        while len(levels[-1]) > 1:
            below = levels[-1]
            levels.append([node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)])
        self._levels = levels

    def __len__(self) -> int:
        return len(self._levels[0])

    def subtree(self, start: int, end: int) -> bytes:
        """The hash of an aligned complete subtree within the stored leaves.

        Raises:
            ValueError: the range is not aligned and complete, or runs past the leaves.
        """
        if not is_complete_subtree(start, end) or end > len(self):
            raise ValueError(f"[{start}, {end}) is not a stored complete subtree")
        level = (end - start).bit_length() - 1
        return self._levels[level][start >> level]


class MappingSubtreeSource:
    """A `SubtreeSource` over prefetched hashes keyed by (start, end).

    Typical use with an async store: `need = proof_subtrees(ranges)`, fetch
    those rows, then `inclusion_proof(MappingSubtreeSource(rows), i, n)`.
    """

    def __init__(self, hashes: Mapping[tuple[int, int], bytes]) -> None:
        self._hashes = hashes

    def subtree(self, start: int, end: int) -> bytes:
        """Raises: KeyError if (start, end) was not prefetched."""
        try:
            return self._hashes[(start, end)]
        except KeyError:
            raise KeyError(f"subtree [{start}, {end}) was not provided") from None
