"""`cencomm audit verify`: recompute the whole audit log offline and name the first bad entry.

One streaming pass in index order, in one read snapshot: every leaf is recomputed from its row,
the numbering must be dense from 0, every stored subtree hash is recomputed, the root at every
signed tree head must match and its signature verify with a server audit key, consecutive heads
must be provably consistent, and the tree state must match. Memory stays O(log n) apart from a
batch of rows.

A log that is consistent in itself may still have lost its newest entries together with the tree
heads over them (or have been restored from an older copy): then a head recorded in the checkpoint
file outside the database (storage/checkpoints.py) is larger than the log, or has another root.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import itertools
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from cencomm.crypto.merkle import (
    EMPTY_ROOT,
    MappingSubtreeSource,
    MerkleAccumulator,
    consistency_proof_ranges,
    leaf_hash,
    proof_subtrees,
    range_hash,
    verify_consistency,
)
from cencomm.domain.audit_tree import TreeHead
from cencomm.storage.audit_tree import AuditTreeStore
from cencomm.storage.checkpoints import CheckpointFile, RecordedLine
from cencomm.storage.db import Database
from cencomm.storage.unit import Unit
from cencomm.verification.errors import TreeHeadError
from cencomm.verification.tree_heads import check_head_signature, tree_head_from_json

# A power of two, so every batch starts on a subtree boundary of this size.
BATCH = 1 << 13
HEAD_BATCH = 1000


class LogProblem(Exception):
    """The first thing found wrong; the message starts with `entry N` when an entry is to blame."""

    def __init__(self, message: str, index: int | None = None) -> None:
        super().__init__(message)
        self.index = index


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """What a pass found.

    Attributes:
        recorded_heads: lines of the checkpoint file that matched the log (duplicates count).
        unreadable_lines: lines of the checkpoint file that are not tree heads (torn writes).
    """

    entries: int
    tree_heads: int
    root_hash: bytes
    problem: str | None = None
    first_bad_index: int | None = None
    recorded_heads: int = 0
    unreadable_lines: int = 0

    @property
    def ok(self) -> bool:
        return self.problem is None


def _check_signed(
    head: TreeHead, keys: Mapping[str, Ed25519PublicKey], name: str | None = None
) -> None:
    """`check_head_signature`, failing the pass with a `LogProblem`."""
    try:
        check_head_signature(head, keys, name)
    except TreeHeadError as exc:
        raise LogProblem(str(exc)) from None


def load_tree_head(text: str) -> TreeHead:
    try:
        return tree_head_from_json(json.loads(text))
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg})") from None


def _recorded_head(recorded: RecordedLine) -> TreeHead | None:
    """The tree head of a checkpoint-file line; None for a line that is not one (torn write)."""
    try:
        return tree_head_from_json(recorded.document)
    except ValueError:
        return None


def _heads(store: AuditTreeStore) -> Iterator[TreeHead]:
    after: int | None = None
    while True:
        page = store.list_heads(after, HEAD_BATCH)
        yield from page
        if len(page) < HEAD_BATCH:
            return
        after = page[-1].tree_size


class _Walk:
    """The state of one verification pass."""

    def __init__(
        self, store: AuditTreeStore, keys: Mapping[str, Ed25519PublicKey], since: TreeHead | None
    ) -> None:
        self.store = store
        self.keys = keys
        self.since = since
        self.acc = MerkleAccumulator()
        self.heads_checked = 0
        self.recorded_heads = 0
        self.unreadable_lines = 0
        self.last_head: TreeHead | None = None
        self.state_size = 0
        self.state_edge: tuple[bytes, ...] = ()
        # Stored subtrees fetched in an earlier batch that complete in a later one.
        self.carry: dict[tuple[int, int], bytes] = {}

    def run(self) -> None:
        self.state_size, self.state_edge = self.store.load_state()
        heads = _heads(self.store)
        next_head = next(heads, None)
        next_head = self._at_size(next_head, heads)
        while True:
            start = self.acc.size
            rows = self.store.leaf_batch(start, BATCH)
            # Level 0 (the leaves) comes with each entry's row.
            stored = self.store.subtrees_starting_in(start, start + BATCH, min_level=1)
            for row_index, leaf, stored_hash, leaf_subtree in rows:
                index = self.acc.size
                if row_index != index:
                    raise LogProblem(f"entry {index} is missing", index)
                if leaf is None or not hmac.compare_digest(leaf_hash(leaf), stored_hash):
                    self._check_decoded(index, stored_hash)
                completed = self.acc.append(stored_hash)
                if index < self.state_size:
                    self._check_leaf_subtree(index, stored_hash, leaf_subtree)
                    for sub in completed[1:]:
                        if sub.end <= self.state_size:
                            self._check_subtree(sub.start, sub.level, sub.hash, stored)
                next_head = self._at_size(next_head, heads)
            self.carry.update(stored)
            if len(rows) < BATCH:
                break
        n = self.acc.size
        if next_head is not None:
            raise LogProblem(
                f"entry {n} is missing: tree head {next_head.tree_size} was signed over it", n
            )
        if self.state_size > n:
            raise LogProblem(f"entry {n} is missing: the stored tree covers {self.state_size}", n)
        if self.since is not None and self.since.tree_size > n:
            raise LogProblem(
                f"entry {n} is missing: the saved tree head covers {self.since.tree_size} entries",
                n,
            )

    def _check_decoded(self, index: int, stored_hash: bytes) -> None:
        """The leaf spelled from the raw columns did not match: decode the entry as every
        reader does and decide on its own `leaf_hash()`."""
        decoded = self.store.entry_batch(index, 1)
        if not decoded or not hmac.compare_digest(decoded[0][0].leaf_hash(), stored_hash):
            raise LogProblem(f"entry {index} was altered: it does not match its hash", index)

    def _check_leaf_subtree(self, index: int, digest: bytes, found: bytes | None) -> None:
        """`_check_subtree` at level 0, with the hash read beside the entry."""
        if found is None:
            raise LogProblem(
                f"entry {index}: the stored tree has no hash for {index}..{index}", index
            )
        if not hmac.compare_digest(found, digest):
            raise LogProblem(
                f"entry {index} was altered: it differs from the leaf in the Merkle tree", index
            )

    def _check_subtree(
        self, start: int, level: int, digest: bytes, stored: dict[tuple[int, int], bytes]
    ) -> None:
        key = (start, level)
        found = stored.pop(key, None)
        if found is None:
            found = self.carry.pop(key, None)
        end = start + (1 << level) - 1
        if found is None:
            raise LogProblem(
                f"entry {start}: the stored tree has no hash for {start}..{end}", start
            )
        if not hmac.compare_digest(found, digest):
            if level == 0:
                raise LogProblem(
                    f"entry {start} was altered: it differs from the leaf in the Merkle tree", start
                )
            raise LogProblem(f"entry {start}: stored subtree hash of {start}..{end} altered", start)

    def _at_size(self, head: TreeHead | None, heads: Iterator[TreeHead]) -> TreeHead | None:
        """Check everything anchored at the current size; return the next head still ahead."""
        size = self.acc.size
        root: bytes | None = None
        if size == self.state_size and tuple(self.acc.right_edge) != self.state_edge:
            raise LogProblem(f"entry {size}: the stored tree state does not match the log", size)
        while head is not None and head.tree_size <= size:
            if head.tree_size < size:  # pragma: no cover - heads come in ascending size
                raise LogProblem(f"tree head {head.tree_size} is out of order")
            _check_signed(head, self.keys)
            root = root or self.acc.root()
            if not hmac.compare_digest(root, head.root_hash):
                good = self.last_head.tree_size if self.last_head else 0
                raise LogProblem(
                    f"entry {good} or a later one before {size} was rewritten: the log does not "
                    f"match tree head {size}",
                    good,
                )
            self._check_consistency(head)
            self.last_head = head
            self.heads_checked += 1
            head = next(heads, None)
        if self.since is not None and self.since.tree_size == size:
            root = root or self.acc.root()
            if not hmac.compare_digest(root, self.since.root_hash):
                good = self.last_head.tree_size if self.last_head else 0
                good = min(good, size)
                raise LogProblem(
                    f"entry {good} or a later one before {size} was rewritten: the log does not "
                    f"match the saved tree head",
                    good,
                )
        return head

    def check_recorded(self, file: CheckpointFile, limit: int) -> None:
        """Every tree head recorded in the first `limit` bytes of the checkpoint file must be
        one the log still has: signed by an audit key, over no more entries than the log holds,
        with the root the log has at that size. Run after `run`, which verified every stored
        tree head and subtree hash, so those stand for the log here.

        The file is read here, inside the read unit, a batch of lines at a time: the heads it
        names are compared with the snapshot the pass verified, and memory stays bounded."""
        with contextlib.closing(file.read(limit)) as lines:
            self._check_lines(file, lines)

    def _check_lines(self, file: CheckpointFile, lines: Iterator[RecordedLine]) -> None:
        while batch := list(itertools.islice(lines, HEAD_BATCH)):
            heads = [(r.line, _recorded_head(r)) for r in batch]
            sizes = sorted({head.tree_size for _, head in heads if head is not None})
            stored = self.store.find_heads(sizes)
            for line, head in heads:
                if head is None:
                    self.unreadable_lines += 1
                    continue
                size, n = head.tree_size, self.acc.size
                name = f"tree head {size} recorded in {file.path} (line {line})"
                _check_signed(head, self.keys, name)
                if size > n:
                    raise LogProblem(
                        f"entry {n} is missing: {name} covers {size} entries, the log has {n}", n
                    )
                known = stored.get(size)
                root = known.root_hash if known is not None else self._root_at(size, name)
                if not hmac.compare_digest(root, head.root_hash):
                    raise LogProblem(
                        f"{name} does not match the log: entries before {size} were rewritten, "
                        f"removed or inserted since (or the log was restored from an older copy)"
                    )
                self.recorded_heads += 1

    def _root_at(self, size: int, name: str) -> bytes:
        """The log's root at `size`, from the stored subtree hashes (verified by `run`)."""
        if size == 0:
            return EMPTY_ROOT
        if size > self.state_size:
            raise LogProblem(f"{name}: the stored tree covers only {self.state_size} entries")
        needed = proof_subtrees([(0, size)])
        found = self.store.subtrees([(s, (e - s).bit_length() - 1) for s, e in needed])
        hashes = {(s, e): found.get((s, (e - s).bit_length() - 1), EMPTY_ROOT) for s, e in needed}
        return range_hash(MappingSubtreeSource(hashes), 0, size)

    def _check_consistency(self, head: TreeHead) -> None:
        previous = self.last_head
        if previous is None or previous.tree_size == 0:
            return
        ranges = consistency_proof_ranges(previous.tree_size, head.tree_size)
        needed = proof_subtrees(ranges)
        found = self.store.subtrees([(s, (e - s).bit_length() - 1) for s, e in needed])
        hashes = {(s, e): found.get((s, (e - s).bit_length() - 1), EMPTY_ROOT) for s, e in needed}
        proof = [range_hash(MappingSubtreeSource(hashes), s, e) for s, e in ranges]
        if not verify_consistency(
            previous.tree_size, head.tree_size, previous.root_hash, head.root_hash, proof
        ):
            raise LogProblem(
                f"tree head {head.tree_size} is not consistent with tree head {previous.tree_size}"
            )


async def verify_log(
    db: Database,
    keys: Mapping[str, Ed25519PublicKey],
    since: TreeHead | None = None,
    checkpoints: CheckpointFile | None = None,
) -> VerifyResult:
    """Check the whole audit log in one read snapshot; see the module docstring.

    Args:
        keys: every audit public key by kid (old ones included).
        since: a tree head saved earlier elsewhere: the log must still have its root at its size.
        checkpoints: the data directory's checkpoint file: the log must still match every tree
            head recorded there.
    """
    # Measured before the snapshot: every head within it was committed before it was recorded,
    # so the snapshot holds it; heads a live server records meanwhile are left for next time.
    limit = await asyncio.to_thread(checkpoints.size) if checkpoints is not None else 0

    def work(unit: Unit) -> VerifyResult:
        store = unit.audit_tree
        if db.dialect == "postgresql":
            # One snapshot for the whole pass, so a live server appending meanwhile is harmless.
            store.repeatable_read()
        walk = _Walk(store, keys, since)
        try:
            if since is not None:
                _check_signed(since, keys)
            walk.run()
            if checkpoints is not None:
                walk.check_recorded(checkpoints, limit)
        except LogProblem as problem:
            return VerifyResult(
                walk.acc.size,
                walk.heads_checked,
                walk.acc.root(),
                str(problem),
                problem.index,
                walk.recorded_heads,
                walk.unreadable_lines,
            )
        return VerifyResult(
            walk.acc.size,
            walk.heads_checked,
            walk.acc.root(),
            recorded_heads=walk.recorded_heads,
            unreadable_lines=walk.unreadable_lines,
        )

    return await db.read(work)
