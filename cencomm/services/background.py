"""Background rounds that finish their database work even when their task is cancelled.

Shutdown cancels background tasks. A cancellation landing in the middle of a database call
leaves the driver's connection mid-transaction (an idle-in-transaction PostgreSQL session that
blocks others, or an aiosqlite thread that later reports into a closed event loop). Wrapping each
round in `finish_before_cancel` moves the cancellation to the end of the round.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

# A round still running after this long at shutdown is abandoned (and cancelled).
ROUND_GRACE_SECONDS = 10.0


async def finish_before_cancel(round_: Coroutine[Any, Any, T]) -> T:
    """Await `round_`; if we are cancelled meanwhile, let it finish first, then re-raise."""
    # Named after the task it serves, so that logs and tools attribute the round to its job.
    current = asyncio.current_task()
    name = f"{current.get_name()}-round" if current is not None else "background-round"
    task = asyncio.get_running_loop().create_task(round_, name=name)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        done, _ = await asyncio.wait({task}, timeout=ROUND_GRACE_SECONDS)
        if not done:
            task.cancel()
        raise
