"""A short-lived cache of live sessions, so each request does not re-read its session row.

Revocation and role changes still take effect at once in this process: every revocation
publishes `SessionRevoked`, every role change `RoleChanged`, and the cache, subscribed to the same
events, drops that user's entries before the request answers. Other processes learn it from the
bus or, at the latest, when their entry expires (`auth.session_cache_seconds`, default 1 s; 0
turns the cache off).
"""

from __future__ import annotations

import time
import uuid

from cencomm.crypto.tokens import AccessClaims
from cencomm.domain.events import RoleChanged, SessionRevoked
from cencomm.services.events import Event
from cencomm.storage.sessions import LiveSession

MAX_ENTRIES = 100_000


class SessionCache:
    def __init__(self, ttl_seconds: float) -> None:
        self._ttl = ttl_seconds
        self._entries: dict[uuid.UUID, tuple[LiveSession, float]] = {}

    def get(self, session_id: uuid.UUID) -> LiveSession | None:
        entry = self._entries.get(session_id)
        if entry is None:
            return None
        live, expires = entry
        if time.monotonic() >= expires:
            del self._entries[session_id]
            return None
        return live

    def put(self, live: LiveSession) -> None:
        if self._ttl <= 0:
            return
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()  # crude but bounded; entries live a second anyway
        self._entries[live.session_id] = (live, time.monotonic() + self._ttl)

    def forget_user(self, user_id: uuid.UUID) -> None:
        """Drop a user's sessions after a change to what their principal carries (role, MFA)."""
        for session_id in [
            sid for sid, (live, _) in self._entries.items() if live.user_id == user_id
        ]:
            del self._entries[session_id]

    def publish(self, event: Event) -> None:
        """Listener on the service events: drop every session of a user whose session ended or
        whose role changed."""
        if isinstance(event, SessionRevoked):
            for session_id in event.session_ids:
                self._entries.pop(session_id, None)
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
