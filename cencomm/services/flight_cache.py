"""A short-lived cache with single-flight loads, for values that invalidations must reach at once.

`FlightCache.get(key, scope, load)` answers from the cache while an entry is fresh; on a miss,
concurrent callers for the same key share one `load()` (one in-flight task per key). The rules
that keep it safe for authorisation data (sessions, post contexts):

* **Invalidation wins over loads in flight.** `forget(scope)` and `clear()` drop the entries and
  *detach* the loads in flight that they cover: a caller arriving afterwards starts a fresh load
  (it never joins a read that began before the change), and the detached load's result goes to
  the callers already waiting for it but never into the cache. So a change whose invalidation
  ran before its request answered is seen by every later request of this process.
* **Errors are shared, never cached**: every waiter of a failed load gets its exception; the next
  caller loads again. A `cacheable(value)` predicate keeps answers that mean "refuse" (no such
  session) out of the cache as well, so they are read again each time, as without a cache
  (`None` is never cached: `peek` answers it for a miss).
* **Cancellation of one waiter cancels only that waiter**: the load runs in a task of its own
  that the cache keeps until it is done; other waiters still get its result.
* **Bounded**: at most `max_entries` entries (the cache is emptied when full: entries live
  about a second anyway) and `max_flights` loads in flight (past that, callers load on their own
  without sharing, as with no cache).

`ttl_seconds <= 0` turns caching and sharing off: every `get` calls `load`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
S = TypeVar("S", bound=Hashable)
V = TypeVar("V")


class _Flight(Generic[S, V]):
    __slots__ = ("detached", "scope", "task")

    def __init__(self, scope: S, task: asyncio.Task[V]) -> None:
        self.scope = scope
        self.task = task
        self.detached = False


class FlightCache(Generic[K, S, V]):
    """See the module docstring. `scope` groups keys for `forget` (e.g. a user's sessions)."""

    def __init__(
        self,
        ttl_seconds: float,
        *,
        cacheable: Callable[[V], bool] = lambda value: value is not None,
        max_entries: int = 100_000,
        max_flights: int = 10_000,
    ) -> None:
        self._ttl = ttl_seconds
        self._cacheable = cacheable
        self._max_entries = max_entries
        self._max_flights = max_flights
        self._entries: dict[K, tuple[V, S, float]] = {}
        self._flights: dict[K, _Flight[S, V]] = {}
        # Every load's task until it is done, detached ones included (a reference is kept).
        self._tasks: set[asyncio.Task[V]] = set()
        self.loads = 0
        """How many times `load` was called (a counter for tests and benchmarks)."""

    @property
    def enabled(self) -> bool:
        return self._ttl > 0

    def peek(self, key: K) -> V | None:
        """The fresh cached value of `key`, without loading."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        value, _scope, expires = entry
        if time.monotonic() >= expires:
            del self._entries[key]
            return None
        return value

    async def get(self, key: K, scope: S, load: Callable[[], Awaitable[V]]) -> V:
        """The value of `key`: cached, or from the load in flight for it, or from a new load."""
        if self._ttl <= 0:
            self.loads += 1
            return await load()
        value = self.peek(key)
        if value is not None:
            return value
        flight = self._flights.get(key)
        if flight is None:
            if len(self._flights) >= self._max_flights:
                self.loads += 1
                return await load()  # bounded: past the limit, no sharing (nor caching)
            flight = self._start(key, scope, load)
        # shield: a cancelled waiter stops waiting; the load goes on for the others.
        return await asyncio.shield(flight.task)

    def _start(self, key: K, scope: S, load: Callable[[], Awaitable[V]]) -> _Flight[S, V]:
        self.loads += 1

        async def run() -> V:
            return await load()

        task = asyncio.get_running_loop().create_task(run())
        flight: _Flight[S, V] = _Flight(scope, task)
        self._flights[key] = flight
        self._tasks.add(task)

        def landed(done: asyncio.Task[V]) -> None:
            self._tasks.discard(done)
            if self._flights.get(key) is flight:
                del self._flights[key]
            if done.cancelled():
                return
            if done.exception() is not None:  # retrieved: shared with the waiters, not cached
                return
            value = done.result()
            if not flight.detached and self._cacheable(value):
                self._put(key, scope, value)

        task.add_done_callback(landed)
        return flight

    def _put(self, key: K, scope: S, value: V) -> None:
        if len(self._entries) >= self._max_entries:
            self._entries.clear()  # crude but bounded; entries live about a second anyway
        self._entries[key] = (value, scope, time.monotonic() + self._ttl)

    def forget_key(self, key: K) -> None:
        """Drop one key's entry and detach its load in flight."""
        self._entries.pop(key, None)
        flight = self._flights.pop(key, None)
        if flight is not None:
            flight.detached = True

    def forget(self, scope: S) -> None:
        """Drop every entry of `scope` and detach its loads in flight."""
        for key in [k for k, (_v, s, _e) in self._entries.items() if s == scope]:
            del self._entries[key]
        for key in [k for k, flight in self._flights.items() if flight.scope == scope]:
            self._flights.pop(key).detached = True

    def clear(self) -> None:
        """Drop every entry and detach every load in flight."""
        self._entries.clear()
        for flight in self._flights.values():
            flight.detached = True
        self._flights.clear()

    def __len__(self) -> int:
        return len(self._entries)
