"""The audit Merkle tree: extend it from new entries, sign tree heads, serve entries and proofs."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from functools import partial

from cencomm.crypto.merkle import (
    MappingSubtreeSource,
    MerkleAccumulator,
    consistency_proof_ranges,
    inclusion_proof_ranges,
    proof_subtrees,
    range_hash,
)
from cencomm.domain.audit import AuditEntry, AuditFilter
from cencomm.domain.audit_tree import (
    MAX_HEAD_LAG_SECONDS,
    TreeHead,
    checkpoint_body,
    whole_seconds,
)
from cencomm.domain.clock import Clock
from cencomm.domain.errors import FieldError, Invalid, NotFound, Unavailable
from cencomm.domain.policy import Action, authorize
from cencomm.domain.users import Principal
from cencomm.services.audit import AuditTrail
from cencomm.services.background import Every, Job
from cencomm.storage.audit_tree import AuditTreeStore
from cencomm.storage.checkpoints import CheckpointFile
from cencomm.storage.db import Database
from cencomm.storage.keyring import ServerSigningKey
from cencomm.storage.unit import Unit

logger = logging.getLogger(__name__)

# Entries hashed into the tree per round (read, hash, store), so a backlog is stored in steps.
EXTEND_CHUNK = 10_000


class AuditLogDamaged(Unavailable):
    """The stored log contradicts itself: the tree is not extended and nothing is signed."""

    slug = "audit-log-damaged"


@dataclass(frozen=True, slots=True)
class InclusionProof:
    leaf_hash: bytes
    audit_path: list[bytes]


def _level(start: int, end: int) -> int:
    return (end - start).bit_length() - 1


class AuditLogService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        trail: AuditTrail,
        signing_key: ServerSigningKey,
        origin: str,
        checkpoints: CheckpointFile | None = None,
    ) -> None:
        """Args:
        checkpoints: the data directory's checkpoint file, where every head this process
            signs or finds newest is recorded outside the database (None: nowhere, in tests).
        """
        self._db = db
        self._clock = clock
        self._trail = trail
        self._key = signing_key
        self._origin = origin
        self._checkpoints = checkpoints
        self._recorded = -1  # the largest tree size this process recorded in the file

    # -- growing the tree ------------------------------------------------------------------

    async def extend_tree(self) -> int:
        """Hash every committed entry not yet in the stored tree into it; returns the new size.

        Raises:
            AuditLogDamaged: an entry is missing or its stored leaf hash does not match it.
        """
        size, _ = await self._grow(sign=False)
        return size

    async def sign_tree_head(self) -> TreeHead | None:
        """Extend the tree, then sign a head for its size if it grew since the last head.

        Safe with several processes on one database: the tree lock makes storing an extension
        and signing one critical section, and a size is signed at most once (it is the primary
        key).

        Returns:
            The new head, or None when there was nothing new to sign.

        Raises:
            AuditLogDamaged: the log contradicts itself; nothing is signed.
        """

        def look(unit: Unit) -> tuple[TreeHead | None, int]:
            return unit.audit_tree.latest_head(), unit.audit.count()

        latest, pending = await self._db.read(look)
        if latest is not None and latest.tree_size >= pending:
            # The common idle case, no write lock taken; the newest head may be another
            # process's, or older than this process: record it here too.
            await self._record(latest)
            return None
        _, head = await self._grow(sign=True)
        if head is not None:
            await self._record(head)  # committed: the file never names a head the log lacks
        return head

    async def _grow(self, *, sign: bool) -> tuple[int, TreeHead | None]:
        """Extend the stored tree to every committed entry, a chunk at a time; with `sign`, sign
        a head once it has caught up. Returns the tree's size and the new head (if any).

        The costly part runs outside the write lock (on SQLite the one writer thread, which the
        message writer needs): each chunk's entries are read in a read unit and hashed in a
        worker thread; then a short write unit takes the tree lock and stores the subtrees and
        the new state, provided the stored state is still the one the chunk was hashed onto
        (another process or round may have extended it meanwhile: then the chunk is read
        again from the new state, so nothing is skipped and nothing is stored twice).
        """
        while True:
            size, edge, rows = await self._db.read(_next_chunk)
            acc, subtrees = await asyncio.to_thread(_hash_chunk, size, edge, rows)
            more = len(rows) == EXTEND_CHUNK
            # Only a chunk that reached the end of the log as it was read is signed over.
            sign_now = sign and not more

            stored, head = await self._db.write(
                partial(self._store, size=size, acc=acc, subtrees=subtrees, sign=sign_now)
            )
            if stored and not more:
                return acc.size, head

    def _store(
        self,
        unit: Unit,
        *,
        size: int,
        acc: MerkleAccumulator,
        subtrees: list[tuple[int, int, bytes]],
        sign: bool,
    ) -> tuple[bool, TreeHead | None]:
        """Store a chunk hashed onto the tree of `size` entries (and sign, with `sign`); False
        when the tree was extended underneath, so the chunk must be read again."""
        tree = unit.audit_tree
        tree.lock()
        if tree.load_state()[0] != size:
            return False, None
        if acc.size != size:
            tree.insert_subtrees(subtrees)
            tree.save_state(acc.size, acc.right_edge)
        return True, (self._sign(tree, acc) if sign else None)

    async def _record(self, head: TreeHead) -> None:
        """Append a head newer than any this process recorded to the checkpoint file.

        A failure is logged, never raised: the head is safe in the database, and the next
        head recorded covers this one (it is consistent with it).
        """
        if self._checkpoints is None or head.tree_size <= self._recorded:
            return
        self._recorded = head.tree_size  # before the write: two rounds never both append it
        try:
            await asyncio.to_thread(self._checkpoints.append, head)
        except OSError as exc:
            self._recorded = -1
            logger.error(
                "audit tree head %d not recorded in %s: %s",
                head.tree_size,
                self._checkpoints.path,
                exc,
            )

    def _sign(self, store: AuditTreeStore, acc: MerkleAccumulator) -> TreeHead | None:
        latest = store.latest_head()
        if latest is not None and latest.tree_size >= acc.size:
            return None
        timestamp = whole_seconds(self._clock.now())
        if latest is not None and timestamp < latest.timestamp:
            timestamp = latest.timestamp  # heads never go back in time, even if the clock does
        root = acc.root()
        checkpoint = checkpoint_body(self._origin, acc.size, root, int(timestamp.timestamp()))
        head = TreeHead(
            tree_size=acc.size,
            root_hash=root,
            timestamp=timestamp,
            checkpoint=checkpoint,
            kid=self._key.kid,
            signature=self._key.private_key.sign(checkpoint.encode("utf-8")),
        )
        store.insert_head(head)
        return head

    def job(self) -> Job:
        """Tree-head signing: a new head at most a second or 1,000 entries after an entry."""
        wake = Every(MAX_HEAD_LAG_SECONDS, self._trail.signal.subscribe())
        return Job("audit-tree-heads", wake, self._sign_round)

    async def _sign_round(self) -> None:
        try:
            head = await self.sign_tree_head()
        except AuditLogDamaged as exc:
            logger.error("audit tree head not signed: %s", exc.detail)
            return
        if head is not None:
            logger.debug("signed audit tree head %d", head.tree_size)

    # -- reading -----------------------------------------------------------------------------

    async def list_entries(
        self, principal: Principal, where: AuditFilter, after: int | None, limit: int
    ) -> list[AuditEntry]:
        authorize(principal, Action.AUDIT_QUERY)
        return await self._db.read(lambda unit: unit.audit.list_entries(where, after, limit))

    async def get_entry(self, principal: Principal, index: int) -> AuditEntry:
        authorize(principal, Action.AUDIT_QUERY)
        entry = await self._db.read(lambda unit: unit.audit.find(index))
        if entry is None:
            raise NotFound(f"no audit entry {index}")
        return entry

    async def latest_tree_head(self, principal: Principal) -> TreeHead:
        """The newest signed head; the first one is signed on demand."""
        authorize(principal, Action.AUDIT_PROOFS)
        head = await self._db.read(_latest_head)
        if head is None:
            await self.sign_tree_head()
            head = await self._db.read(_latest_head)
        if head is None:  # pragma: no cover - sign_tree_head always leaves a head behind
            raise AuditLogDamaged("no tree head could be signed")
        return head

    async def list_tree_heads(
        self, principal: Principal, after: int | None, limit: int
    ) -> list[TreeHead]:
        authorize(principal, Action.AUDIT_PROOFS)
        return await self._db.read(lambda unit: unit.audit_tree.list_heads(after, limit))

    def audit_key(self, principal: Principal) -> ServerSigningKey:
        authorize(principal, Action.AUDIT_PROOFS)
        return self._key

    async def inclusion_proof(
        self, principal: Principal, index: int, tree_size: int
    ) -> InclusionProof:
        """The audit path of entry `index` in the signed tree of `tree_size` entries.

        Raises:
            NotFound: no tree head was signed for `tree_size`.
            Invalid: `index` is not below `tree_size`.
        """
        authorize(principal, Action.AUDIT_PROOFS)

        def work(unit: Unit) -> tuple[list[tuple[int, int]], MappingSubtreeSource]:
            store = unit.audit_tree
            _signed_size(store, tree_size, "tree_size")
            if not 0 <= index < tree_size:
                raise Invalid(
                    f"entry {index} is not in the tree of size {tree_size}",
                    slug="index-out-of-range",
                    errors=(FieldError("query.index", f"must be below tree_size {tree_size}"),),
                )
            ranges = inclusion_proof_ranges(index, tree_size)
            return ranges, _fetch(store, [*ranges, (index, index + 1)])

        ranges, source = await self._db.read(work)
        return InclusionProof(
            leaf_hash=source.subtree(index, index + 1),
            audit_path=[range_hash(source, s, e) for s, e in ranges],
        )

    async def consistency_proof(self, principal: Principal, first: int, second: int) -> list[bytes]:
        """Proof that the signed tree of `second` entries extends the one of `first`.

        Raises:
            NotFound: either size has no signed tree head.
            Invalid: first > second.
        """
        authorize(principal, Action.AUDIT_PROOFS)
        return await self.system_consistency_proof(first, second)

    async def system_consistency_proof(self, first: int, second: int) -> list[bytes]:
        """`consistency_proof` for the server itself (the witness collector): no caller.

        Raises:
            NotFound: either size has no signed tree head.
            Invalid: first > second.
        """

        def work(unit: Unit) -> tuple[list[tuple[int, int]], MappingSubtreeSource]:
            store = unit.audit_tree
            _signed_size(store, first, "first")
            _signed_size(store, second, "second")
            if first > second:
                raise Invalid(
                    "first must not be larger than second",
                    slug="validation-failed",
                    errors=(FieldError("query.first", "larger than second"),),
                )
            ranges = consistency_proof_ranges(first, second)
            return ranges, _fetch(store, ranges)

        ranges, source = await self._db.read(work)
        return [range_hash(source, s, e) for s, e in ranges]


def _next_chunk(unit: Unit) -> tuple[int, tuple[bytes, ...], list[tuple[AuditEntry, bytes]]]:
    """The stored tree's state and the entries after it (at most `EXTEND_CHUNK`)."""
    size, edge = unit.audit_tree.load_state()
    return size, edge, unit.audit_tree.entry_batch(size, EXTEND_CHUNK)


def _hash_chunk(
    size: int, edge: tuple[bytes, ...], rows: list[tuple[AuditEntry, bytes]]
) -> tuple[MerkleAccumulator, list[tuple[int, int, bytes]]]:
    """The tree grown by `rows` from (size, edge), and the (start, level, hash) of every subtree
    completed on the way. CPU only: run it off the event loop and outside any transaction.

    Raises:
        AuditLogDamaged: an entry is missing or does not match its stored leaf hash.
    """
    acc = MerkleAccumulator(size, edge)
    done: list[tuple[int, int, bytes]] = []
    for entry, stored_hash in rows:
        if entry.index != acc.size:
            raise AuditLogDamaged(f"audit entry {acc.size} is missing")
        # Recompute rather than trust the column: a tampered row is never signed over.
        if entry.leaf_hash() != stored_hash:
            raise AuditLogDamaged(f"audit entry {entry.index} does not match its leaf hash")
        done.extend((s.start, s.level, s.hash) for s in acc.append(stored_hash))
    return acc, done


def _latest_head(unit: Unit) -> TreeHead | None:
    return unit.audit_tree.latest_head()


def _signed_size(store: AuditTreeStore, tree_size: int, name: str) -> None:
    if tree_size < 0 or store.find_head(tree_size) is None:
        raise NotFound(
            f"no tree head was signed for {name}={tree_size}; see /audit/tree-heads",
            slug="unknown-tree-head",
        )


def _fetch(store: AuditTreeStore, ranges: list[tuple[int, int]]) -> MappingSubtreeSource:
    """Prefetch the stored subtree hashes that hashing `ranges` needs, in one or two queries."""
    needed = proof_subtrees(ranges)
    found = store.subtrees([(s, _level(s, e)) for s, e in needed])
    hashes: dict[tuple[int, int], bytes] = {}
    for start, end in needed:
        digest = found.get((start, _level(start, end)))
        if digest is None:
            raise AuditLogDamaged(f"the stored subtree of entries {start}..{end - 1} is missing")
        hashes[(start, end)] = digest
    return MappingSubtreeSource(hashes)
