"""FlightCache: single-flight loads that invalidations reach, errors shared but not cached,
cancellation of one waiter only. Loads are gated by events, so the interleavings are exact."""

from __future__ import annotations

import asyncio

import pytest

from cencomm.services.flight_cache import FlightCache


class Gate:
    """A load that waits until released, and counts how often it ran."""

    def __init__(self, value: str | None = "v") -> None:
        self.value = value
        self.started = 0
        self.release = asyncio.Event()
        self.error: Exception | None = None

    async def __call__(self) -> str | None:
        self.started += 1
        await self.release.wait()
        if self.error is not None:
            raise self.error
        return self.value


async def _settle() -> None:
    """Let every ready task run until nothing is left to do (no timing involved)."""
    for _ in range(10):
        await asyncio.sleep(0)


async def test_concurrent_misses_share_one_load_and_the_result_is_cached() -> None:
    cache: FlightCache[str, str, str | None] = FlightCache(60)
    gate = Gate()
    waiters = [asyncio.create_task(cache.get("k", "u", gate)) for _ in range(20)]
    await _settle()
    gate.release.set()
    assert await asyncio.gather(*waiters) == ["v"] * 20
    assert gate.started == 1 and cache.loads == 1
    assert await cache.get("k", "u", Gate("other")) == "v"  # cached: no second load
    assert cache.loads == 1


async def test_an_error_reaches_every_waiter_and_is_not_cached() -> None:
    cache: FlightCache[str, str, str | None] = FlightCache(60)
    gate = Gate()
    gate.error = LookupError("database down")
    waiters = [asyncio.create_task(cache.get("k", "u", gate)) for _ in range(5)]
    await _settle()
    gate.release.set()
    results = await asyncio.gather(*waiters, return_exceptions=True)
    assert all(isinstance(r, LookupError) for r in results)
    assert gate.started == 1
    assert await cache.get("k", "u", _value("fresh")) == "fresh"  # loaded again
    assert cache.loads == 2


async def test_cancelling_one_waiter_leaves_the_load_to_the_others() -> None:
    cache: FlightCache[str, str, str | None] = FlightCache(60)
    gate = Gate()
    first = asyncio.create_task(cache.get("k", "u", gate))
    second = asyncio.create_task(cache.get("k", "u", gate))
    await _settle()
    first.cancel()
    await _settle()
    gate.release.set()
    assert await second == "v"
    assert first.cancelled()
    assert cache.peek("k") == "v"


async def test_the_load_finishes_and_fills_the_cache_when_every_waiter_is_cancelled() -> None:
    cache: FlightCache[str, str, str | None] = FlightCache(60)
    gate = Gate()
    only = asyncio.create_task(cache.get("k", "u", gate))
    await _settle()
    only.cancel()
    await _settle()
    gate.release.set()
    await _settle()
    assert cache.peek("k") == "v"


@pytest.mark.parametrize("how", ["forget", "forget_key", "clear"])
async def test_an_invalidation_detaches_the_load_in_flight(how: str) -> None:
    """A read that began before a change never fills the cache, and no caller arriving after
    the change joins it."""
    cache: FlightCache[str, str, str | None] = FlightCache(60)
    stale = Gate("stale")
    before = asyncio.create_task(cache.get("k", "u", stale))
    await _settle()
    {"forget": lambda: cache.forget("u"), "forget_key": lambda: cache.forget_key("k")}.get(
        how, cache.clear
    )()
    fresh = Gate("fresh")
    after = asyncio.create_task(cache.get("k", "u", fresh))
    await _settle()
    assert fresh.started == 1  # a load of its own, not the stale one
    stale.release.set()
    assert await before == "stale"  # its own caller still gets its answer
    await _settle()
    assert cache.peek("k") is None  # but it never reached the cache
    fresh.release.set()
    assert await after == "fresh"
    assert cache.peek("k") == "fresh"


async def test_forgetting_a_scope_keeps_other_scopes() -> None:
    cache: FlightCache[str, str, str | None] = FlightCache(60)
    assert await cache.get("a", "u1", _value("a")) == "a"
    assert await cache.get("b", "u2", _value("b")) == "b"
    cache.forget("u1")
    assert cache.peek("a") is None
    assert cache.peek("b") == "b"


async def test_refusals_are_not_cached() -> None:
    cache: FlightCache[str, str, str | None] = FlightCache(60)
    assert await cache.get("k", "u", _value(None)) is None
    assert await cache.get("k", "u", _value(None)) is None
    assert cache.loads == 2
    only_long: FlightCache[str, str, str | None] = FlightCache(
        60, cacheable=lambda v: v is not None and len(v) > 3
    )
    assert await only_long.get("k", "u", _value("no")) == "no"
    assert only_long.peek("k") is None


async def test_zero_ttl_loads_every_time_without_sharing() -> None:
    cache: FlightCache[str, str, str | None] = FlightCache(0)
    gate = Gate()
    waiters = [asyncio.create_task(cache.get("k", "u", gate)) for _ in range(3)]
    await _settle()
    assert gate.started == 3
    gate.release.set()
    assert await asyncio.gather(*waiters) == ["v"] * 3
    assert cache.peek("k") is None


async def test_loads_in_flight_are_bounded() -> None:
    cache: FlightCache[str, str, str | None] = FlightCache(60, max_flights=2)
    gate = Gate()
    waiters = [asyncio.create_task(cache.get(f"k{i}", "u", gate)) for i in range(4)]
    waiters.append(asyncio.create_task(cache.get("k3", "u", gate)))
    await _settle()
    # Two shared flights; past the bound each caller loads on its own, without sharing.
    assert gate.started == 5
    gate.release.set()
    await asyncio.gather(*waiters)
    assert cache.peek("k0") == "v" and cache.peek("k3") is None


async def test_entries_are_bounded() -> None:
    cache: FlightCache[str, str, str | None] = FlightCache(60, max_entries=3)
    for i in range(7):
        await cache.get(f"k{i}", "u", _value(str(i)))
    assert len(cache) <= 3


def _value(value: str | None) -> Gate:
    gate = Gate(value)
    gate.release.set()
    return gate
