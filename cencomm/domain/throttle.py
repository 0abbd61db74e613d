"""Login throttling: what an attempt is counted against, and when a refusal ends."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class ThrottleScope(StrEnum):
    """A budget of login attempts per window.

    An attempt without a valid device token is counted per username (`account`) and per client
    address (`address`); one with a valid device token only against that token (`device`), so
    other people's failures never lock a user out of a device they logged in from before (OWASP's
    device cookies).
    """

    ACCOUNT = "account"
    ADDRESS = "address"
    DEVICE = "device"


@dataclass(frozen=True, slots=True)
class Tally:
    """A budget right after an attempt was counted in it: the attempts within the window (this
    one included) and the oldest of them."""

    scope: ThrottleScope
    key: str
    count: int
    oldest: datetime
    # The stored attempt, so that a success can take exactly it back out.
    attempt_id: int

    def retry_after(self, window: timedelta, now: datetime) -> int:
        """Whole seconds until the oldest counted attempt leaves the window (at least 1)."""
        return max(1, math.ceil((self.oldest + window - now).total_seconds()))


@dataclass(frozen=True, slots=True)
class Attempt:
    """A login attempt counted (before its password or code was checked) in these budgets.

    A failure leaves the counts as they are; a success takes the attempt back out.
    """

    tallies: tuple[Tally, ...]
    # The hash of the valid device token presented with it, if any.
    device: bytes | None = None
