"""What a careful rogue administrator does to the audit log: cut its tail, leaving it consistent."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncConnection

from cencomm.storage.tables import (
    AuditEntryRow,
    AuditSequence,
    AuditSubtreeRow,
    AuditTreeHeadRow,
    AuditTreeStateRow,
)


def cut_tail(keep: int, heads_up_to: int) -> Callable[[AsyncConnection], Awaitable[None]]:
    """For `tests.test_audit_verify.tamper`: delete the entries from `keep` on and the tree heads
    over more than `heads_up_to` entries, drop the stored tree (the server rebuilds it from what
    is left) and wind the sequence back, so nothing in the database is inconsistent."""

    async def cut(conn: AsyncConnection) -> None:
        await conn.execute(delete(AuditEntryRow).where(AuditEntryRow.index >= keep))
        await conn.execute(delete(AuditTreeHeadRow).where(AuditTreeHeadRow.tree_size > heads_up_to))
        await conn.execute(delete(AuditSubtreeRow))
        await conn.execute(delete(AuditTreeStateRow))
        await conn.execute(update(AuditSequence).values(next_index=keep))

    return cut
