"""Login throttling and device tokens: count each attempt before its check, trust known devices.

Every login attempt is recorded first, in a transaction of its own that commits before argon2 or
TOTP runs, and refused from the count of the budget's attempts within the sliding window that
this transaction sees: parallel attempts take turns on the budget's row, so they get no more
tries than serial ones. An attempt that then succeeds is taken back out; a failure stays counted
until it is older than the window.

Device tokens follow OWASP's "device cookies": each successful login issues a random 256-bit
token bound to the user (stored only as its SHA-256, with an expiry) that replaces the one it
presented. An attempt that presents a valid token of that user is counted only against the token
itself, so failures made by others (per username or per address) never refuse it, and a token
that collects failures of its own is locked like an account.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from cencomm.domain.errors import RateLimited
from cencomm.domain.ids import UserId
from cencomm.domain.throttle import Attempt, Tally, ThrottleScope
from cencomm.settings import AuthSettings
from cencomm.storage.db import Database
from cencomm.storage.unit import Unit

# Longer strings are no token of ours: not even looked up.
MAX_DEVICE_TOKEN_CHARS = 128
# Device tokens kept per user (the newest): logins that never present theirs cannot pile up rows.
MAX_DEVICE_TOKENS_PER_USER = 32


def hash_device_token(token: str) -> bytes:
    # 256 random bits need no slow hash (as for refresh tokens).
    return hashlib.sha256(token.encode("ascii", "replace")).digest()


def new_device_token() -> tuple[str, bytes]:
    """A fresh token for the client, and the hash the server keeps."""
    token = secrets.token_urlsafe(32)
    return token, hash_device_token(token)


class LoginThrottle:
    def __init__(self, db: Database, settings: AuthSettings) -> None:
        self._db = db
        self._settings = settings
        self._window = timedelta(seconds=settings.failure_window)
        self._device_ttl = timedelta(seconds=settings.device_token_ttl)

    async def admit(
        self, username: str, ip: str, device_token: str | None, now: datetime
    ) -> Attempt:
        """Count this attempt (committed before anything is checked) and decide on it.

        Args:
            username: the normalised username tried (known or not: the same work).
            ip: the client address.
            device_token: the device token presented, if any.

        Raises:
            RateLimited: a budget the attempt counts against is used up; the attempt is not
                counted then, and `retry_after` says when the budget's window passes.
        """
        device = await self._recognise(device_token, username, now)
        if device is not None:
            budgets = [(ThrottleScope.DEVICE, device.hex(), self._settings.max_failures_per_device)]
        else:
            budgets = [
                (ThrottleScope.ACCOUNT, username, self._settings.max_failures_per_account),
                (ThrottleScope.ADDRESS, ip, self._settings.max_failures_per_address),
            ]

        def count(unit: Unit) -> list[tuple[Tally, int]]:
            store = unit.login_throttle
            # Budgets are always counted in this order (account before address), so two
            # attempts never wait on each other's rows crosswise.
            tallies = [
                (store.count_attempt(scope, key, now, self._window), limit)
                for scope, key, limit in budgets
            ]
            over = [tally for tally, limit in tallies if tally.count > limit]
            if over:
                # Raising rolls the transaction back: a refused attempt counts nowhere.
                raise RateLimited(
                    "too many failed logins; try again later",
                    retry_after=max(t.retry_after(self._window, now) for t in over),
                )
            return tallies

        tallies = await self._db.write(count)
        return Attempt(tuple(tally for tally, _ in tallies), device)

    async def _recognise(self, token: str | None, username: str, now: datetime) -> bytes | None:
        """The token's hash if it is a valid device token of `username`; else None (untrusted:
        an unknown, expired or someone else's token is simply not a known device)."""
        if not token or len(token) > MAX_DEVICE_TOKEN_CHARS:
            return None
        token_hash = hash_device_token(token)
        valid = await self._db.read(
            lambda unit: unit.device_tokens.is_valid_for(token_hash, username, now)
        )
        return token_hash if valid else None

    def succeeded(self, unit: Unit, attempt: Attempt, user_id: UserId, now: datetime) -> str:
        """In the login's transaction: uncount the attempt and issue the next device token
        (replacing the one presented). Returns the token for the client."""
        self.take_back(unit, attempt)
        token, token_hash = new_device_token()
        unit.device_tokens.replace(
            user_id,
            token_hash,
            now=now,
            expires_at=now + self._device_ttl,
            previous=attempt.device,
            keep=MAX_DEVICE_TOKENS_PER_USER,
        )
        return token

    def take_back(self, unit: Unit, attempt: Attempt) -> None:
        """Uncount an attempt whose password was right (in the caller's transaction)."""
        for tally in attempt.tallies:
            unit.login_throttle.take_back(tally)

    def forget_passed(self, unit: Unit, now: datetime) -> None:
        """Drop budgets whose window has passed (they no longer refuse anything)."""
        unit.login_throttle.forget_before(now - self._window)
