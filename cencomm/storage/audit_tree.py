"""AuditTreeStore: stored subtree hashes, the tree state, signed tree heads, forwarding cursors.

Everything here is inserted once and never updated, except the single tree-state row and the
forwarding cursors, which only move forward.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    String,
    Text,
    and_,
    bindparam,
    cast,
    func,
    insert,
    select,
    type_coerce,
    update,
)
from sqlalchemy.orm import Session

from cencomm.domain.audit import AuditEntry, canonical_json, leaf_text
from cencomm.domain.audit_tree import TreeHead
from cencomm.domain.clock import rfc3339
from cencomm.storage.audit import to_entry
from cencomm.storage.tables import (
    AuditEntryRow,
    AuditForwardCursorRow,
    AuditSubtreeRow,
    AuditTreeHeadRow,
    AuditTreeStateRow,
    core_table,
)

STATE_ROW_ID = 1
HASH_SIZE = 32
# pg_advisory_xact_lock keys: one per job, the same in every cencomm process on one database.
TREE_LOCK_KEY = 0x63656E61756474  # "cenaudt"
FORWARD_LOCK_KEY = 0x63656E61756466  # "cenaudf"
# The entry columns raw (no type decoding: dates, ids and details as the driver gives them).
_entry = core_table(AuditEntryRow).c
_subtree = core_table(AuditSubtreeRow).c
_LEAF_ROWS = (
    select(
        _entry.index,
        type_coerce(_entry.at, String),
        _entry.action,
        type_coerce(_entry.actor_id, String),
        type_coerce(_entry.organization_id, String),
        _entry.target_type,
        _entry.target_id,
        type_coerce(_entry.group_id, String),
        _entry.ip,
        cast(_entry.details, Text),
        _entry.leaf_hash,
        _subtree.hash,
    )
    .select_from(
        core_table(AuditEntryRow).outerjoin(
            core_table(AuditSubtreeRow),
            and_(_subtree.start == _entry.index, _subtree.level == 0),
        )
    )
    .where(_entry.index >= bindparam("start"))
    .order_by(_entry.index)
    .limit(bindparam("limit"))
)


def _leaf_bytes(row: Sequence[Any]) -> bytes | None:
    """An entry's leaf from its raw columns; None where one is not in a form spelled here."""
    _, at, action, actor, org, target_type, target_id, group, ip, details, _, _ = row
    try:
        return leaf_text(
            row[0],
            _raw_time(at),
            action,
            _raw_uuid(actor),
            _raw_uuid(org),
            target_type,
            target_id,
            _raw_uuid(group),
            ip,
            _raw_details(details),
        ).encode("utf-8")
    except (TypeError, ValueError):
        return None


def _raw_time(value: object) -> str:
    """`rfc3339` of a stored time: SQLite keeps `YYYY-MM-DD HH:MM:SS.ffffff` (UTC, as
    `UtcDateTime` writes it); PostgreSQL's driver gives a datetime."""
    if isinstance(value, str):
        if len(value) != 26 or value[10] != " ":
            raise ValueError("not a stored time")
        return f"{value[:10]}T{value[11:]}Z"
    if isinstance(value, datetime) and value.tzinfo is not None:
        return rfc3339(value)
    raise ValueError("not a stored time")


def _raw_uuid(value: object) -> str | None:
    """`str(uuid)` of a stored id: 32 hex digits on SQLite, the driver's UUID on PostgreSQL."""
    if value is None:
        return None
    if isinstance(value, str):
        if len(value) != 32:
            raise ValueError("not a stored id")
        return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
    return str(uuid.UUID(str(value)))


def _raw_details(value: object) -> str:
    """The details as `canonical_json` writes them, from the stored JSON text.

    Stored since the engines' `json_serializer` is `canonical_json`, the text already is that
    and is used as it is. Older rows were written by `json.dumps`' defaults (`": "` after every
    key) and are decoded and written again; a text without that spacing that is not canonical
    after all (written by other hands) only fails to match its leaf hash and is then decoded."""
    if not isinstance(value, str):
        raise TypeError("details are not text")
    if '": ' not in value:
        return value
    details = json.loads(value)
    if not isinstance(details, dict):
        raise ValueError("details are not an object")
    return canonical_json(details)


_SUBTREES_IN = select(_subtree.start, _subtree.level, _subtree.hash).where(
    _subtree.start >= bindparam("start"),
    _subtree.start < bindparam("end"),
    _subtree.level >= bindparam("min_level"),
)
_SUBTREES = select(AuditSubtreeRow.start, AuditSubtreeRow.level, AuditSubtreeRow.hash).where(
    AuditSubtreeRow.start.in_(bindparam("starts", expanding=True)),
    AuditSubtreeRow.level.in_(bindparam("levels", expanding=True)),
)


def to_head(row: AuditTreeHeadRow) -> TreeHead:
    return TreeHead(
        tree_size=row.tree_size,
        root_hash=row.root_hash,
        timestamp=row.timestamp,
        checkpoint=row.checkpoint,
        kid=row.kid,
        signature=row.signature,
    )


class AuditTreeStore:
    def __init__(self, session: Session) -> None:
        self._session = session

    def lock(self, key: int = TREE_LOCK_KEY) -> None:
        """Serialise a job across processes until the transaction ends.

        SQLite needs nothing more: writers already hold its single write lock (BEGIN IMMEDIATE).
        On PostgreSQL an advisory lock works even before the state row exists.
        """
        if self._session.get_bind().dialect.name == "postgresql":
            self._session.execute(select(func.pg_advisory_xact_lock(key)))

    def repeatable_read(self) -> None:
        """Read one snapshot for the rest of the transaction (PostgreSQL): call it first, before
        any statement, because the isolation level is chosen when the connection is taken."""
        self._session.connection(execution_options={"isolation_level": "REPEATABLE READ"})

    def load_state(self) -> tuple[int, tuple[bytes, ...]]:
        """(size, right edge) of the stored tree; (0, ()) before the first extension."""
        row = self._session.get(AuditTreeStateRow, STATE_ROW_ID)
        if row is None:
            return 0, ()
        edge = row.right_edge
        return row.size, tuple(edge[i : i + HASH_SIZE] for i in range(0, len(edge), HASH_SIZE))

    def save_state(self, size: int, right_edge: Sequence[bytes]) -> None:
        edge = b"".join(right_edge)
        row = self._session.get(AuditTreeStateRow, STATE_ROW_ID)
        if row is None:
            self._session.add(AuditTreeStateRow(id=STATE_ROW_ID, size=size, right_edge=edge))
        else:
            row.size = size
            row.right_edge = edge
        self._session.flush()

    def entries_from(self, start: int, limit: int) -> list[tuple[AuditEntry, bytes]]:
        """Entries from index `start` on, in index order, with their stored leaf hashes."""
        rows = (
            self._session.scalars(
                select(AuditEntryRow)
                .where(AuditEntryRow.index >= start)
                .order_by(AuditEntryRow.index)
                .limit(limit)
            )
        ).all()
        return [(to_entry(row), row.leaf_hash) for row in rows]

    def entry_batch(self, start: int, limit: int) -> list[tuple[AuditEntry, bytes]]:
        """Like `entries_from` but through Core, not ORM objects: for streaming the whole log."""
        t = AuditEntryRow.__table__.c
        rows = self._session.execute(
            select(
                t.index,
                t.at,
                t.action,
                t.actor_id,
                t.organization_id,
                t.target_type,
                t.target_id,
                t.group_id,
                t.ip,
                t.details,
                t.leaf_hash,
            )
            .where(t.index >= start)
            .order_by(t.index)
            .limit(limit)
        )
        return [
            (AuditEntry(i, at, action, actor, org, ttype, tid, group, ip, details), leaf)
            for i, at, action, actor, org, ttype, tid, group, ip, details, leaf in rows
        ]

    def leaf_batch(
        self, start: int, limit: int
    ) -> list[tuple[int, bytes | None, bytes, bytes | None]]:
        """(index, leaf bytes, stored leaf hash, the stored level-0 subtree hash of that index or
        None) for up to `limit` entries from `start`, in index order: for streaming the whole
        log (the level-0 subtree comes with its entry by primary key, so the caller need not
        fetch and look up a second row per entry). The leaf bytes are spelled straight from the
        stored columns (`leaf_text`), skipping the column types' decoding and the entry object;
        they are None where a column is not in the form this code stores (then decode that
        entry with `entry_batch`, as every other reader does).

        Sound for checking leaf hashes: whenever these bytes are the leaf an entry was hashed
        with, decoding the row gives that same leaf (every string part is escaped, so no column
        can reach into the next); so bytes that hash to the stored leaf hash show the entry
        intact, and any other bytes are only a reason to decode it.
        """
        connection = self._session.connection()
        rows = connection.execute(_LEAF_ROWS, {"start": start, "limit": limit}).all()
        return [(row[0], _leaf_bytes(row), row[10], row[11]) for row in rows]

    def insert_subtrees(self, subtrees: Iterable[tuple[int, int, bytes]]) -> None:
        """Insert (start, level, hash) rows in one executemany."""
        values = [{"start": s, "level": lv, "hash": h} for s, lv, h in subtrees]
        if values:
            self._session.execute(insert(AuditSubtreeRow), values)

    def subtrees(self, wanted: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """Stored hashes for (start, level) pairs; absent pairs are left out.

        Each chunk selects `start IN (...) AND level IN (...)`, the cross product, which both
        databases answer from the (start, level) primary key; it is narrowed to the asked pairs
        here. A row-value `(start, level) IN (...)` made SQLite scan every stored subtree.
        """
        found: dict[tuple[int, int], bytes] = {}
        # Bounded IN lists: a proof needs O(log^2 n) subtrees at most.
        for i in range(0, len(wanted), 200):
            chunk = set(wanted[i : i + 200])
            rows = self._session.execute(
                _SUBTREES,
                {
                    "starts": sorted({start for start, _ in chunk}),
                    "levels": sorted({level for _, level in chunk}),
                },
            )
            for start, level, digest in rows:
                if (start, level) in chunk:
                    found[(start, level)] = digest
        return found

    def subtrees_starting_in(
        self, start: int, end: int, min_level: int = 0
    ) -> dict[tuple[int, int], bytes]:
        """Every stored subtree of at least `min_level` whose first leaf is in [start, end): one
        primary-key range scan."""
        params = {"start": start, "end": end, "min_level": min_level}
        rows = self._session.connection().execute(_SUBTREES_IN, params)
        return {(s, lv): h for s, lv, h in rows.all()}

    # -- tree heads ----------------------------------------------------------------------------

    def insert_head(self, head: TreeHead) -> None:
        self._session.add(
            AuditTreeHeadRow(
                tree_size=head.tree_size,
                root_hash=head.root_hash,
                timestamp=head.timestamp,
                checkpoint=head.checkpoint,
                kid=head.kid,
                signature=head.signature,
            )
        )
        self._session.flush()

    def latest_head(self) -> TreeHead | None:
        row = self._session.scalar(
            select(AuditTreeHeadRow).order_by(AuditTreeHeadRow.tree_size.desc()).limit(1)
        )
        return None if row is None else to_head(row)

    def find_head(self, tree_size: int) -> TreeHead | None:
        row = self._session.get(AuditTreeHeadRow, tree_size)
        return None if row is None else to_head(row)

    def find_heads(self, tree_sizes: Sequence[int]) -> dict[int, TreeHead]:
        """The stored heads of these sizes, by size; sizes without one are left out."""
        found: dict[int, TreeHead] = {}
        for i in range(0, len(tree_sizes), 500):
            rows = self._session.scalars(
                select(AuditTreeHeadRow).where(
                    AuditTreeHeadRow.tree_size.in_(tree_sizes[i : i + 500])
                )
            )
            found.update((row.tree_size, to_head(row)) for row in rows)
        return found

    def list_heads(self, after: int | None, limit: int) -> list[TreeHead]:
        """Tree heads in ascending size, those larger than `after` (all when None)."""
        query = select(AuditTreeHeadRow).order_by(AuditTreeHeadRow.tree_size).limit(limit)
        if after is not None:
            query = query.where(AuditTreeHeadRow.tree_size > after)
        return [to_head(row) for row in (self._session.scalars(query)).all()]

    # -- forwarding ----------------------------------------------------------------------------

    def forward_position(self, target: str) -> int:
        """The next entry index to forward to `target` (0 for a new target)."""
        position = self._session.scalar(
            select(AuditForwardCursorRow.next_index).where(AuditForwardCursorRow.target == target)
        )
        return 0 if position is None else int(position)

    def set_forward_position(self, target: str, next_index: int) -> None:
        result = self._session.execute(
            update(AuditForwardCursorRow)
            .where(AuditForwardCursorRow.target == target)
            .values(next_index=next_index)
        )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            self._session.add(AuditForwardCursorRow(target=target, next_index=next_index))
            self._session.flush()
