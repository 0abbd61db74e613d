"""A verified post on its way into the database, and what the database already holds of one.

The group-commit writer (`services/message_writer.py`) passes these to storage; storage alone
turns them into table rows. A post's seq and time are only known when its batch commits.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime

from cencomm.domain.analytics import SeizureRows
from cencomm.domain.ids import GroupId, MessageId, OrganizationId, UserId


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A fully verified post: every column of the message but its seq and time."""

    id: MessageId
    group_id: GroupId
    sender_id: UserId
    sender_organization_id: OrganizationId
    kid: str
    cid: str
    typ: str
    hc: str
    jws: str
    reply_to: uuid.UUID | None
    # The words the search index holds (None: nothing to index).
    search_text: str | None
    # The analytic rows of a seizure report (their seq and time are set on commit).
    seizure: SeizureRows | None = None
    # Attachments the payload names (already checked to be the group's): linked on insert.
    attachment_ids: tuple[uuid.UUID, ...] = ()

    @property
    def jws_sha256(self) -> bytes:
        """What a repeat of (sender, cid) is compared by."""
        return hashlib.sha256(self.jws.encode("ascii")).digest()


@dataclass(frozen=True, slots=True)
class SequencedMessage:
    """A new message with the seq its batch reserved for it."""

    message: NewMessage
    seq: int


@dataclass(frozen=True, slots=True)
class ExistingPost:
    """A message already stored under a (sender, cid): what an idempotent repeat returns."""

    id: MessageId
    seq: int
    created_at: datetime
    jws_sha256: bytes
