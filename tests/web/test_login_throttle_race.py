"""Parallel logins get no more tries than serial ones: each attempt is counted before it is checked.

Every test fires a burst of concurrent logins on real sockets. A response of 401 or 200 means the
server checked the password (or code); 429 means it refused without checking. Within a burst at
most the limit of failures is checked, and once the limit is reached the right password is
refused too.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import replace
from typing import Any

import aiohttp
import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient

from cencomm.app import create_app
from cencomm.crypto import totp
from cencomm.settings import Settings
from tests.clock import FakeClock
from tests.factories import PASSWORD, make_member, make_user
from tests.problems import assert_problem

LOGIN = "/api/v1/auth/login"
BURST = 40


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(settings: Settings, clock: FakeClock) -> web.Application:
    return create_app(settings, clock=clock)


async def _burst(
    client: TestClient[Any, Any], bodies: list[dict[str, Any]]
) -> list[ClientResponse]:
    return list(await asyncio.gather(*(_post(client, body) for body in bodies)))


async def _post(client: TestClient[Any, Any], body: dict[str, Any]) -> ClientResponse:
    # No cookie jar: these are attempts without a device token (none from an earlier login).
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
        resp = await session.post(client.make_url(LOGIN), json=body)
        await resp.read()
        return resp


def _tally(responses: list[ClientResponse]) -> Counter[int]:
    return Counter(r.status for r in responses)


def _check_burst(responses: list[ClientResponse], limit: int) -> Counter[int]:
    """At most `limit` failures were checked and every other attempt was refused. The right
    password (in the middle) was either refused or checked and let in; a success is taken back
    out of the count, which may let one more attempt in, exactly as it would serially."""
    tally = _tally(responses)
    assert set(tally) <= {200, 401, 429}, tally
    assert tally[200] <= 1, tally
    assert limit - tally[200] <= tally[401] <= limit, tally
    assert tally[429] == len(responses) - tally[401] - tally[200], tally
    assert responses[BURST // 2].status in (200, 429)
    return tally


async def _use_up(client: TestClient[Any, Any], body: dict[str, Any], left: int, slug: str) -> None:
    """Fail the `left` times still allowed (none, unless a success in the burst was taken back
    out before all of the burst was counted)."""
    for _ in range(left):
        await assert_problem(await _post(client, body), 401, slug)


async def test_parallel_wrong_passwords_are_checked_at_most_the_account_limit(
    client: TestClient[Any, Any], settings: Settings
) -> None:
    limit = settings.auth.max_failures_per_account
    user = await make_user(client)
    wrong = [
        {"username": user.username, "password": f"wrong password {i:04d}"} for i in range(BURST)
    ]
    right = {"username": user.username, "password": PASSWORD}
    # The right password in the middle of the burst.
    responses = await _burst(client, [*wrong[: BURST // 2], right, *wrong[BURST // 2 :]])
    tally = _check_burst(responses, limit)
    for resp in responses:
        if resp.status == 429:
            await assert_problem(resp, 429, "rate-limited")
            assert int(resp.headers["Retry-After"]) > 0
    await _use_up(client, wrong[0], limit - tally[401], "invalid-credentials")

    # The limit is reached: the right password is refused now, alone or in a burst.
    again = await _burst(client, [right] * 5)
    assert _tally(again) == Counter({429: 5})


async def test_parallel_guesses_from_one_address_are_checked_at_most_the_address_limit(
    settings: Settings, clock: FakeClock, aiohttp_client: Any
) -> None:
    limit = 5
    tight = replace(settings, auth=replace(settings.auth, max_failures_per_address=limit))
    client: TestClient[Any, Any] = await aiohttp_client(create_app(tight, clock=clock))
    user = await make_user(client)
    guesses = [{"username": f"guess{i:03d}", "password": "wrong password"} for i in range(BURST)]
    right = {"username": user.username, "password": PASSWORD}
    responses = await _burst(client, [*guesses[: BURST // 2], right, *guesses[BURST // 2 :]])
    tally = _check_burst(responses, limit)
    await _use_up(client, guesses[0], limit - tally[401], "invalid-credentials")
    resp = await _post(client, right)
    await assert_problem(resp, 429, "rate-limited")


async def _enrol(client: TestClient[Any, Any], clock: FakeClock) -> tuple[str, str]:
    member = await make_member(client)
    resp = await client.post("/api/v1/auth/otp/setup", headers=member.auth)
    secret = (await resp.json())["secret"]
    code = totp.code_at(secret, clock.now().timestamp())
    resp = await client.post("/api/v1/auth/otp/enable", json={"otp": code}, headers=member.auth)
    assert resp.status == 204
    clock.advance(30)  # the enrolment code is spent; the next step's code is fresh
    return member.user.username, secret


async def test_parallel_totp_guesses_are_checked_at_most_the_account_limit(
    client: TestClient[Any, Any], settings: Settings, clock: FakeClock
) -> None:
    limit = settings.auth.max_failures_per_account
    username, secret = await _enrol(client, clock)
    code = totp.code_at(secret, clock.now().timestamp())
    wrong_codes = [f"{n:06d}" for n in range(BURST + 1) if f"{n:06d}" != code][:BURST]
    guesses = [{"username": username, "password": PASSWORD, "otp": c} for c in wrong_codes]
    right = {"username": username, "password": PASSWORD, "otp": code}
    responses = await _burst(client, [*guesses[: BURST // 2], right, *guesses[BURST // 2 :]])
    tally = _check_burst(responses, limit)
    for resp in responses:
        if resp.status == 401:
            await assert_problem(resp, 401, "invalid-otp")
    await _use_up(client, guesses[0], limit - tally[401], "invalid-otp")

    clock.advance(30)
    fresh = totp.code_at(secret, clock.now().timestamp())
    resp = await _post(client, {"username": username, "password": PASSWORD, "otp": fresh})
    await assert_problem(resp, 429, "rate-limited")


async def test_successful_logins_do_not_use_up_the_budget(client: TestClient[Any, Any]) -> None:
    user = await make_user(client)
    right = {"username": user.username, "password": PASSWORD}
    for _ in range(3):
        assert _tally(await _burst(client, [right] * 5)) == Counter({200: 5})
    wrong = {"username": user.username, "password": "wrong password"}
    for _ in range(9):
        await assert_problem(await _post(client, wrong), 401, "invalid-credentials")
    resp = await _post(client, right)
    assert resp.status == 200


async def test_the_window_slides_over_the_last_failures(
    client: TestClient[Any, Any], clock: FakeClock, settings: Settings
) -> None:
    window = settings.auth.failure_window
    user = await make_user(client)
    wrong = {"username": user.username, "password": "wrong password"}
    await assert_problem(await _post(client, wrong), 401, "invalid-credentials")
    clock.advance(window - 60)
    for _ in range(settings.auth.max_failures_per_account - 1):
        await assert_problem(await _post(client, wrong), 401, "invalid-credentials")
    resp = await _post(client, wrong)
    await assert_problem(resp, 429, "rate-limited")
    assert int(resp.headers["Retry-After"]) == 60  # when the first failure leaves the window

    clock.advance(120)  # the first failure has left the window; the other nine have not
    await assert_problem(await _post(client, wrong), 401, "invalid-credentials")
    await assert_problem(await _post(client, wrong), 429, "rate-limited")
