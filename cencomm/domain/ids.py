"""Typed ids for every entity, and the one way to make a new one."""

from __future__ import annotations

import uuid
from typing import NewType

UserId = NewType("UserId", uuid.UUID)
OrganizationId = NewType("OrganizationId", uuid.UUID)
SessionId = NewType("SessionId", uuid.UUID)
GroupId = NewType("GroupId", uuid.UUID)
MessageId = NewType("MessageId", uuid.UUID)
AlertId = NewType("AlertId", uuid.UUID)
JoinRequestId = NewType("JoinRequestId", uuid.UUID)


def new_id() -> uuid.UUID:
    """A random (version 4) UUID: unguessable, so ids never reveal order or count."""
    return uuid.uuid4()
