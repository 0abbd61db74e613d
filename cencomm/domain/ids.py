"""Typed ids for every entity, and the one way to make a new one."""

from __future__ import annotations

import uuid
from typing import Final, NewType

UserId = NewType("UserId", uuid.UUID)
OrganizationId = NewType("OrganizationId", uuid.UUID)
SessionId = NewType("SessionId", uuid.UUID)
GroupId = NewType("GroupId", uuid.UUID)
MessageId = NewType("MessageId", uuid.UUID)
AlertId = NewType("AlertId", uuid.UUID)
JoinRequestId = NewType("JoinRequestId", uuid.UUID)

# The largest sequence number, audit index or tree size there can be: the database stores them as
# signed 64-bit integers, so every such number a client sends is refused beyond this.
MAX_SEQUENCE: Final = 2**63 - 1


def new_id() -> uuid.UUID:
    """A random (version 4) UUID: unguessable, so ids never reveal order or count."""
    return uuid.uuid4()
