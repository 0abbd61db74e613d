"""`audit verify` spells each leaf straight from the stored columns (`AuditTreeStore.leaf_batch`,
`leaf_text`) instead of decoding every entry: the spelling must be the entry's own `leaf()`, and
a stored form it does not spell must still be judged by decoding the entry."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, text, update

from cencomm.domain.audit import AuditEntry, AuditRecord, canonical_json, leaf_text
from cencomm.domain.clock import rfc3339
from cencomm.domain.ids import GroupId, OrganizationId, UserId
from cencomm.storage.tables import AuditEntryRow, AuditSubtreeRow
from tests.test_audit_verify import Log, _failed_at, tamper
from tests.test_audit_verify import log as log  # the same fixture: a log on the test database

ODD_TEXT = 'quote " backslash \\ newline \n tab \t control \x01 é 中 \u2028 emoji 🛃'
DETAILS = {
    "z": [1, -2.5, 1e100, None, True, ODD_TEXT],
    "a": {"nested": {"b": 1, "a": [{}]}, "empty": ""},
    ODD_TEXT: 0,
}


def _entries() -> list[AuditEntry]:
    at = datetime(2026, 12, 6, 10, 31, 47, 945611, tzinfo=UTC)
    return [
        AuditEntry(0, at, "message.post", None, None, None, None, None, None, {}),
        AuditEntry(
            12345678901,
            at.replace(microsecond=0),
            ODD_TEXT,
            uuid.uuid4(),
            uuid.uuid4(),
            ODD_TEXT,
            ODD_TEXT,
            uuid.uuid4(),
            "2001:db8::1",
            DETAILS,
        ),
    ]


def test_leaf_text_is_the_entrys_leaf() -> None:
    def text_or_none(value: uuid.UUID | None) -> str | None:
        return None if value is None else str(value)

    for e in _entries():
        spelled = leaf_text(
            e.index,
            rfc3339(e.at),
            e.action,
            text_or_none(e.actor_id),
            text_or_none(e.organization_id),
            e.target_type,
            e.target_id,
            text_or_none(e.group_id),
            e.ip,
            canonical_json(e.details),
        )
        assert spelled == e.leaf()


async def test_leaves_from_the_stored_columns_are_the_entries_leaves(log: Log) -> None:
    records = [
        AuditRecord(action="test.event"),
        AuditRecord(
            action=ODD_TEXT,
            actor_id=UserId(uuid.uuid4()),
            organization_id=OrganizationId(uuid.uuid4()),
            target_type="message",
            target_id=ODD_TEXT,
            group_id=GroupId(uuid.uuid4()),
            ip="192.0.2.1",
            details=DETAILS,
        ),
    ]
    await log.db.write(lambda unit: [log.trail.append(unit, r) for r in records])
    await log.service.sign_tree_head()  # the tree over them: their level-0 subtree hashes
    leaves = await log.db.read(lambda unit: unit.audit_tree.leaf_batch(0, 10))
    entries = await log.db.read(lambda unit: unit.audit_tree.entry_batch(0, 10))
    assert len(leaves) == len(entries) == 2
    for (index, leaf, stored_hash, leaf_subtree), (entry, entry_hash) in zip(
        leaves, entries, strict=True
    ):
        assert index == entry.index
        assert leaf == entry.leaf().encode("utf-8")
        assert stored_hash == entry_hash == entry.leaf_hash() == leaf_subtree


async def test_a_stored_form_not_spelled_is_decoded_and_still_judged(log: Log) -> None:
    if not log.settings.database_url.startswith("sqlite"):
        pytest.skip("only SQLite stores ids as text that can be spelled another way")
    records = [AuditRecord(action="test.event", actor_id=UserId(uuid.uuid4())) for _ in range(8)]
    await log.db.write(lambda unit: [log.trail.append(unit, r) for r in records])
    await log.service.sign_tree_head()
    await log.reopen()
    # The same ids in capitals: the entries are unchanged, but not in the form this code writes.
    await tamper(
        log.settings.database_url,
        text('UPDATE audit_entry SET actor_id = upper(actor_id) WHERE "index" IN (2, 5)'),
    )
    leaves = await log.db.read(lambda unit: unit.audit_tree.leaf_batch(0, 10))
    entries = await log.db.read(lambda unit: unit.audit_tree.entry_batch(0, 10))
    missed = [
        index
        for (index, leaf, _, _), (entry, _) in zip(leaves, entries, strict=True)
        if leaf != entry.leaf().encode("utf-8")
    ]
    assert missed == [2, 5]
    code, _, err = await log.verify()
    assert code == 0, err
    # An altered id in capitals is still named.
    await log.reopen()
    await tamper(
        log.settings.database_url,
        text(
            "UPDATE audit_entry SET actor_id = 'ABCDEF0123456789ABCDEF0123456789' "
            'WHERE "index" = 5'
        ),
    )
    assert "altered" in _failed_at(await log.verify(), 5)


async def test_details_stored_the_older_way_still_verify(log: Log) -> None:
    """Details are stored as `canonical_json` writes them; rows from before that (written with
    `json.dumps`' spacing) are decoded and written again for their leaf, and still verify."""
    records = [AuditRecord(action="test.event", details={"b": [1, 2], "a": ODD_TEXT})] * 6
    await log.db.write(lambda unit: [log.trail.append(unit, r) for r in records])
    await log.service.sign_tree_head()
    await log.reopen()
    # The tampering engine has SQLAlchemy's default serializer: `{"b": [1, 2], "a": ...}`.
    await tamper(
        log.settings.database_url,
        update(AuditEntryRow).where(AuditEntryRow.index == 3).values(details=records[0].details),
    )
    leaves = await log.db.read(lambda unit: unit.audit_tree.leaf_batch(0, 10))
    entries = await log.db.read(lambda unit: unit.audit_tree.entry_batch(0, 10))
    assert [leaf for _, leaf, _, _ in leaves] == [e.leaf().encode("utf-8") for e, _ in entries]
    code, _, err = await log.verify()
    assert code == 0, err


@pytest.mark.parametrize(
    ("change", "index", "says"),
    [
        ("delete-leaf", 7, "the stored tree has no hash for 7..7"),
        ("alter-leaf", 9, "entry 9 was altered: it differs from the leaf in the Merkle tree"),
        ("alter-level-2", 8, "stored subtree hash of 8..11 altered"),
    ],
)
async def test_stored_subtree_hashes_are_checked(
    log: Log, change: str, index: int, says: str
) -> None:
    """The leaves' subtree hashes are read beside their entries, the others by range: both are
    still checked, and the first bad one is named."""
    await log.grow(16, 4)
    await log.reopen()
    row = AuditSubtreeRow.__table__.c
    level = 2 if change == "alter-level-2" else 0
    where = (row.start == index) & (row.level == level)
    statement = (
        delete(AuditSubtreeRow).where(where)
        if change == "delete-leaf"
        else update(AuditSubtreeRow).where(where).values(hash=b"\x01" * 32)
    )
    await tamper(log.settings.database_url, statement)
    code, _, err = await log.verify()
    assert code == 1, err
    assert f"entry {index}" in err, err
    assert says in err, err
