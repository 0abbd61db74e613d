"""Device tokens (OWASP device cookies): a known device is not refused for others' failures.

Each successful login issues a device token bound to the user (a login response field and an
HttpOnly cookie). A later login of that user that presents it is throttled only by the failures
made with that token itself, not by the per-address or per-username budgets others used up.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import aiohttp
import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient

from cencomm.app import create_app
from cencomm.domain.users import Role
from cencomm.settings import Settings
from tests.clock import FakeClock
from tests.factories import PASSWORD, make_user
from tests.problems import assert_problem

LOGIN = "/api/v1/auth/login"
COOKIE = "cencomm_device"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(settings: Settings, clock: FakeClock) -> web.Application:
    return create_app(settings, clock=clock)


async def _login(
    client: TestClient[Any, Any],
    username: str,
    password: str = PASSWORD,
    *,
    session: aiohttp.ClientSession | None = None,
    **extra: Any,
) -> ClientResponse:
    """One login; without `session`, from a client that keeps no cookies."""
    body = {"username": username, "password": password, **extra}
    if session is not None:
        resp = await session.post(client.make_url(LOGIN), json=body)
        await resp.read()
        return resp
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as anonymous:
        resp = await anonymous.post(client.make_url(LOGIN), json=body)
        await resp.read()
        return resp


async def _device_token(client: TestClient[Any, Any], username: str, **extra: Any) -> str:
    resp = await _login(client, username, **extra)
    assert resp.status == 200, await resp.text()
    token = (await resp.json())["device_token"]
    assert isinstance(token, str) and len(token) >= 43
    return token


async def _fail(client: TestClient[Any, Any], username: str, times: int, **extra: Any) -> None:
    for _ in range(times):
        resp = await _login(client, username, "wrong password", **extra)
        await assert_problem(resp, 401, "invalid-credentials")


async def test_login_issues_a_device_token_and_an_httponly_strict_cookie(
    client: TestClient[Any, Any], settings: Settings
) -> None:
    user = await make_user(client)
    resp = await _login(client, user.username)
    assert resp.status == 200
    token = (await resp.json())["device_token"]
    cookie = resp.cookies[COOKIE]
    assert cookie.value == token
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Strict"
    assert cookie["path"] == LOGIN
    assert int(cookie["max-age"]) == settings.auth.device_token_ttl
    assert not cookie["secure"]  # plain HTTP here; `auth.device_cookie_secure` behind TLS
    # Refreshing is not logging in: no new device token.
    refresh = (await resp.json())["refresh_token"]
    resp = await client.post("/api/v1/auth/refresh", json={"refresh_token": refresh})
    assert resp.status == 200
    assert "device_token" not in await resp.json()
    assert COOKIE not in resp.cookies


async def test_the_cookie_is_secure_when_configured(
    settings: Settings, clock: FakeClock, aiohttp_client: Any
) -> None:
    behind_tls = replace(settings, auth=replace(settings.auth, device_cookie_secure=True))
    client = await aiohttp_client(create_app(behind_tls, clock=clock))
    user = await make_user(client)
    resp = await _login(client, user.username)
    assert resp.cookies[COOKIE]["secure"] is True


async def test_a_known_device_is_not_refused_for_failures_from_its_address(
    client: TestClient[Any, Any], settings: Settings
) -> None:
    admin = await make_user(client, Role.ADMIN)
    token = await _device_token(client, admin.username)
    # An API fuzzer on the same address (one NAT) uses up the address budget.
    for i in range(settings.auth.max_failures_per_address):
        resp = await _login(client, f"fuzz{i:03d}", "wrong password")
        await assert_problem(resp, 401, "invalid-credentials")

    await assert_problem(await _login(client, admin.username), 429, "rate-limited")
    resp = await _login(client, admin.username, device_token=token)
    assert resp.status == 200, await resp.text()
    # Attempts without a device token stay throttled as before.
    await assert_problem(await _login(client, "fuzz-after", "wrong password"), 429, "rate-limited")


async def test_a_known_device_is_not_refused_for_others_failures_on_its_username(
    client: TestClient[Any, Any], settings: Settings
) -> None:
    admin = await make_user(client, Role.ADMIN)
    token = await _device_token(client, admin.username)
    await _fail(client, admin.username, settings.auth.max_failures_per_account)

    await assert_problem(await _login(client, admin.username), 429, "rate-limited")
    resp = await _login(client, admin.username, device_token=token)
    assert resp.status == 200, await resp.text()


async def test_the_browser_cookie_works_like_the_field(
    client: TestClient[Any, Any], settings: Settings
) -> None:
    admin = await make_user(client, Role.ADMIN)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
        first = await _login(client, admin.username, session=browser)
        assert first.status == 200
        await _fail(client, admin.username, settings.auth.max_failures_per_account)
        await assert_problem(await _login(client, admin.username), 429, "rate-limited")
        resp = await _login(client, admin.username, session=browser)
        assert resp.status == 200, await resp.text()
        # Each login rotates the token: the cookie now holds the new one.
        assert (
            browser.cookie_jar.filter_cookies(client.make_url(LOGIN))[COOKIE].value
            == (await resp.json())["device_token"]
        )


async def test_another_users_device_token_does_not_help(
    client: TestClient[Any, Any], settings: Settings
) -> None:
    alice = await make_user(client)
    bob = await make_user(client)
    bobs = await _device_token(client, bob.username)
    await _fail(client, alice.username, settings.auth.max_failures_per_account)
    resp = await _login(client, alice.username, device_token=bobs)
    await assert_problem(resp, 429, "rate-limited")


async def test_a_device_token_is_locked_by_its_own_failures(
    client: TestClient[Any, Any], settings: Settings
) -> None:
    user = await make_user(client)
    stolen = await _device_token(client, user.username)
    laptop = await _device_token(client, user.username)
    await _fail(client, user.username, settings.auth.max_failures_per_device, device_token=stolen)

    resp = await _login(client, user.username, device_token=stolen)
    await assert_problem(resp, 429, "rate-limited")
    assert int(resp.headers["Retry-After"]) > 0
    # Only that token is locked: the user's other device, and the untrusted path, still work.
    assert (await _login(client, user.username, device_token=laptop)).status == 200
    assert (await _login(client, user.username)).status == 200


async def test_a_used_device_token_is_replaced_by_the_new_one(
    client: TestClient[Any, Any], settings: Settings
) -> None:
    user = await make_user(client)
    old = await _device_token(client, user.username)
    new = await _device_token(client, user.username, device_token=old)
    assert new != old
    await _fail(client, user.username, settings.auth.max_failures_per_account)
    await assert_problem(await _login(client, user.username, device_token=old), 429, "rate-limited")
    assert (await _login(client, user.username, device_token=new)).status == 200


async def test_an_expired_device_token_does_not_help(
    client: TestClient[Any, Any], settings: Settings, clock: FakeClock
) -> None:
    user = await make_user(client)
    token = await _device_token(client, user.username)
    clock.advance(settings.auth.device_token_ttl + 1)
    await _fail(client, user.username, settings.auth.max_failures_per_account)
    resp = await _login(client, user.username, device_token=token)
    await assert_problem(resp, 429, "rate-limited")


@pytest.mark.parametrize("token", ["", "x" * 200, 42])
async def test_a_malformed_device_token_field_is_422(
    client: TestClient[Any, Any], token: object
) -> None:
    resp = await _login(client, "someone", device_token=token)
    await assert_problem(resp, 422, "validation-failed")
