"""A short-lived cache of live sessions, so each request does not re-read its session row.

Revocation and role changes still take effect at once in this process: every revocation
publishes `SessionRevoked`, every role change `RoleChanged`, and the cache, subscribed to the same
events, drops that user's entries before the request answers. Other processes learn it from the
bus or, at the latest, when their entry expires (`auth.session_cache_seconds`, default 1 s; 0
turns the cache off).

Concurrent requests of a session that is not cached share one database read (single-flight,
`FlightCache`). A read that was in flight when the user's sessions were dropped never fills the
cache, and no request arriving after the drop joins it: it reads again.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from cencomm.crypto.tokens import AccessClaims
from cencomm.domain.events import RoleChanged, SessionRevoked
from cencomm.services.events import Event
from cencomm.services.flight_cache import FlightCache
from cencomm.storage.sessions import LiveSession

MAX_ENTRIES = 100_000


class SessionCache:
    def __init__(self, ttl_seconds: float) -> None:
        # Keyed by session id, scoped by the user the token names (what revocations drop).
        self._cache: FlightCache[uuid.UUID, uuid.UUID, LiveSession | None] = FlightCache(
            ttl_seconds, max_entries=MAX_ENTRIES
        )

    @property
    def reads(self) -> int:
        """Session reads this cache let through to the database (for tests and benchmarks)."""
        return self._cache.loads

    def get(self, session_id: uuid.UUID) -> LiveSession | None:
        """The cached live session, if fresh (no read)."""
        return self._cache.peek(session_id)

    async def load(
        self,
        session_id: uuid.UUID,
        user_id: uuid.UUID,
        read: Callable[[], Awaitable[LiveSession | None]],
    ) -> LiveSession | None:
        """The live session: cached, or read once for all concurrent callers (`read` answers
        None for a session that ended; that answer is not cached). `user_id` is the user the
        access token names: `forget_user(user_id)` detaches the read."""
        return await self._cache.get(session_id, user_id, read)

    def forget_user(self, user_id: uuid.UUID) -> None:
        """Drop a user's sessions after a change to what their principal carries (role, MFA)."""
        self._cache.forget(user_id)

    def publish(self, event: Event) -> None:
        """Listener on the service events: drop every session of a user whose session ended or
        whose role changed."""
        if isinstance(event, SessionRevoked):
            for session_id in event.session_ids:
                self._cache.forget_key(session_id)
            self.forget_user(event.user_id)
        elif isinstance(event, RoleChanged):
            self.forget_user(event.user_id)


class VerifiedTokens:
    """Access tokens whose signature and claims already verified, until they expire.

    The same token string verifies the same way until `exp`, so checking its Ed25519 signature
    again on every request is wasted work. Sessions are still checked (SessionCache).
    """

    def __init__(self, max_entries: int = 20_000) -> None:
        self._max = max_entries
        self._claims: dict[str, AccessClaims] = {}

    def get(self, token: str, now: float) -> AccessClaims | None:
        claims = self._claims.get(token)
        if claims is not None and not claims.issued_at <= now < claims.expires_at:
            del self._claims[token]
            return None
        return claims

    def put(self, token: str, claims: AccessClaims) -> None:
        if len(self._claims) >= self._max:
            self._claims.clear()
        self._claims[token] = claims
