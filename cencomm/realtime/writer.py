"""The socket writer loop: frames in seq order per group, with no gap and no duplicate."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeAlias

from cencomm.domain.events import (
    MessageCountersignedFrame,
    MessageFrame,
    MessageHiddenFrame,
    ServerFrame,
)
from cencomm.domain.ids import GroupId
from cencomm.realtime.hub import CLOSE_NORMAL, CatchUp, SeqDecision, Subscription

SendFrame: TypeAlias = Callable[[ServerFrame], Awaitable[None]]
"""Send one frame on the socket, e.g. `lambda f: ws.send_json(f.to_json())`."""

LoadMessages: TypeAlias = Callable[[GroupId, int, int | None], Awaitable[Sequence[MessageFrame]]]
"""`load(group_id, after_seq, up_to_seq)`: message frames of the group with
`after_seq < seq <= up_to_seq` (no upper bound when None), in seq order, read from the
database with the same read policy as HTTP (an empty list when the user may no longer read
the group). It may return only the first page; the writer asks again after the last seq."""


async def run_writer(subscription: Subscription, send: SendFrame, load: LoadMessages) -> int:
    """Send everything queued for `subscription` until it closes; the only task that sends.

    * `CatchUp(group)` (queued by `follow(group, after_seq)` on resume): send every message
      after `last_seq[group]` from the database.
    * `MessageFrame`: `NEW` is sent; `DUPLICATE` and `NOT_FOLLOWED` are skipped; `GAP` reads
      the missing seqs from the database first (a lost bus notice costs only this read).
    * `MessageHiddenFrame` and `MessageCountersignedFrame` of a group no longer followed are
      skipped; other frames are sent.

    Every sent message advances `last_seq`, so live frames that were queued during a
    database read are recognised as duplicates.

    Args:
        subscription: From `Hub.subscribe`.
        send: Sends one frame; its exceptions (socket gone) propagate to the caller.
        load: Reads message frames from the database, see `LoadMessages`.

    Returns:
        The close code the socket must be closed with (4408, 4401, 1001, 1000, ...).
    """
    async for item in subscription:
        if isinstance(item, CatchUp):
            if item.group_id in subscription.groups:
                await _send_from_db(subscription, send, load, item.group_id, None)
        elif isinstance(item, MessageFrame):
            decision = subscription.check_seq(item.group_id, item.seq)
            if decision is SeqDecision.GAP:
                await _send_from_db(subscription, send, load, item.group_id, item.seq - 1)
                decision = subscription.check_seq(item.group_id, item.seq)
            # After the read, a seq still missing is one the database does not show this
            # user (or no longer has): the live frame goes out and becomes the new position.
            if decision in (SeqDecision.NEW, SeqDecision.GAP) and not subscription.closed:
                await send(item)
                subscription.advance(item.group_id, item.seq)
        elif isinstance(item, MessageHiddenFrame | MessageCountersignedFrame):
            if item.group_id in subscription.groups:
                await send(item)
        else:
            await send(item)
    code = subscription.closed_code  # the iterator ends only once closed
    return CLOSE_NORMAL if code is None else code


async def _send_from_db(
    sub: Subscription, send: SendFrame, load: LoadMessages, group_id: GroupId, up_to: int | None
) -> None:
    while not sub.closed and group_id in sub.groups:
        after = sub.last_seq.get(group_id, 0)
        if up_to is not None and after >= up_to:
            return
        frames = [f for f in await load(group_id, after, up_to) if f.seq > after]
        if not frames:
            return
        for frame in sorted(frames, key=lambda f: f.seq):
            if sub.closed or group_id not in sub.groups:
                return
            if up_to is not None and frame.seq > up_to:
                return
            await send(frame)
            sub.advance(group_id, frame.seq)
