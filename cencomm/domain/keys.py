"""Users' message-signing keys as the rest of the system sees them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cencomm.domain.ids import UserId

MAX_LABEL = 100  # a signing key's label, in characters


@dataclass(frozen=True, slots=True)
class SigningKey:
    kid: str
    user_id: UserId
    public_key: bytes
    label: str | None
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None
