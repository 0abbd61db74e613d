"""Access/refresh token pairs as the client holds, refreshes and saves them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cencomm.client.errors import TransportError

# Refresh this long before the access token expires (at most a quarter of its lifetime).
REFRESH_MARGIN = 30.0


@dataclass(frozen=True, slots=True)
class TokenSet:
    """An access/refresh token pair; the tokens never appear in `repr` or logs.

    Attributes:
        access_token: the bearer token for API calls.
        refresh_token: swapped once for a new pair.
        issued_at: when the pair was received, Unix seconds (client clock).
        expires_in: the access token's lifetime in seconds, as the server said.
    """

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    issued_at: float
    expires_in: int

    @property
    def expires_at(self) -> float:
        return self.issued_at + self.expires_in

    def refresh_due(self, now: float, margin: float = REFRESH_MARGIN) -> bool:
        """True once the access token is within `margin` (≤ a quarter lifetime) of expiry."""
        return now >= self.expires_at - min(margin, self.expires_in / 4)

    def to_dict(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "issued_at": self.issued_at,
            "expires_in": self.expires_in,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TokenSet:
        """Read what `to_dict` wrote.

        Raises:
            ValueError: a member is missing or of the wrong type.
        """
        try:
            return cls(
                access_token=str(data["access_token"]),
                refresh_token=str(data["refresh_token"]),
                issued_at=float(data["issued_at"]),
                expires_in=int(data["expires_in"]),
            )
        except (KeyError, TypeError, ValueError):
            raise ValueError("not a saved token set") from None

    @classmethod
    def from_response(cls, body: Any, now: float) -> TokenSet:
        if not isinstance(body, Mapping):
            raise TransportError("the server's token answer is not a JSON object")
        try:
            return cls(
                access_token=str(body["access_token"]),
                refresh_token=str(body["refresh_token"]),
                issued_at=now,
                expires_in=int(body["expires_in"]),
            )
        except (KeyError, TypeError, ValueError):
            raise TransportError("the server's token answer lacks a member") from None
