"""Small builders shared by the realtime tests."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable
from typing import TypeVar

from cencomm.domain.events import MessageFrame
from cencomm.domain.ids import GroupId, OrganizationId, SessionId, UserId

T = TypeVar("T")
WAIT = 5.0  # generous upper bound for any single wait; tests never rely on timing


def user() -> UserId:
    return UserId(uuid.uuid4())


def session() -> SessionId:
    return SessionId(uuid.uuid4())


def org() -> OrganizationId:
    return OrganizationId(uuid.uuid4())


def group() -> GroupId:
    return GroupId(uuid.uuid4())


def message(group_id: GroupId, seq: int) -> MessageFrame:
    return MessageFrame(group_id, seq, {"seq": seq, "body": f"message {seq}"})


async def within(awaitable: Awaitable[T], seconds: float = WAIT) -> T:
    """Await with a timeout, so a broken test fails instead of hanging."""
    async with asyncio.timeout(seconds):
        return await awaitable
