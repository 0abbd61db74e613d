"""A short-lived cache of what posting reads (`PostContext`), so a post does not read it each time.

A post needs the group's row, the caller's effective role in it, the signing key of the header's
`kid` (with its revoked state) and the caller's organisation. The cache keeps that, per (group,
user, organisation, kid), for `auth.post_context_cache_seconds` (default 1 s; 0 turns it off).
Concurrent posts that miss share one read (`FlightCache`).

In this process every change takes effect at once: the stores that write what the context holds
(a group's row or lifecycle, a membership or its role, an organisation's membership, a signing
key registered or revoked, a user's row) mark the transaction, and `Database.changes` calls
`changed` after the commit, before the writing request answers; the whole cache is emptied and
reads in flight are detached (they never fill it, and no later post joins them). Such changes
are rare, so emptying everything is cheaper than being clever, and no key dimension can be
missed. (`cencomm` commands run in a process of their own with no bus: what they change reaches
running servers when the entries expire, as for sessions.)

Other processes learn of it from the bus (`PostingChanged`, published after the change; and
`MembershipChanged`, `SessionRevoked`, `RoleChanged`) or, at the latest, when their entry
expires (`auth.post_context_cache_seconds`, the same bound as the session cache's: a notice may
be lost). A closed group is refused everywhere at once whatever the cache says: the message
writer checks the group's status when it stores a post. Only complete contexts (the group
exists, the key is known) are cached: a post refused for those reasons reads again, as without
a cache.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from cencomm.domain.events import MembershipChanged, PostingChanged, RoleChanged, SessionRevoked
from cencomm.services.events import Event, Publisher
from cencomm.services.flight_cache import FlightCache
from cencomm.storage.changes import Changed
from cencomm.storage.messages import PostContext

MAX_ENTRIES = 100_000

ContextKey = tuple[uuid.UUID, uuid.UUID, uuid.UUID, str]


def _complete(context: PostContext) -> bool:
    return context.group is not None and context.key is not None


class PostContextCache:
    def __init__(self, ttl_seconds: float, publisher: Publisher | None = None) -> None:
        # Tells other processes (the bus) about changes made here; None: a single process.
        self._publisher = publisher
        self._cache: FlightCache[ContextKey, uuid.UUID, PostContext] = FlightCache(
            ttl_seconds, cacheable=_complete, max_entries=MAX_ENTRIES
        )

    @property
    def reads(self) -> int:
        """Post-context reads this cache let through to the database (tests, benchmarks)."""
        return self._cache.loads

    async def get(
        self,
        group_id: uuid.UUID,
        user_id: uuid.UUID,
        organization_id: uuid.UUID,
        kid: str,
        read: Callable[[], Awaitable[PostContext]],
    ) -> PostContext:
        """The context: cached, or read once for all concurrent posts with the same key."""
        return await self._cache.get((group_id, user_id, organization_id, kid), user_id, read)

    def changed(self, what: frozenset[Changed]) -> None:
        """`Database.changes` listener: a write in this process changed what posts read. The
        cache is emptied at once, then `PostingChanged` tells the other processes."""
        if Changed.POSTING in what:
            self._cache.clear()
            if self._publisher is not None:
                self._publisher.publish(PostingChanged())

    def publish(self, event: Event) -> None:
        """Listener on the bus: another process changed what posts read, a membership, ended a
        session or changed a role (this process's own changes were seen by `changed`)."""
        if isinstance(event, PostingChanged | MembershipChanged | SessionRevoked | RoleChanged):
            self._cache.clear()
