"""Login: identical answers for unknown users and wrong passwords, throttling, TOTP, refresh."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from cencomm.app import create_app
from cencomm.crypto import totp
from cencomm.domain.users import Role
from cencomm.settings import Settings
from tests.clock import FakeClock
from tests.factories import PASSWORD, Member, login, make_member, make_user
from tests.problems import assert_problem

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(settings: Settings, clock: FakeClock) -> web.Application:
    return create_app(settings, clock=clock)


def _comparable(body: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in body.items() if k not in {"request_id"}}


async def test_unknown_user_and_wrong_password_answer_identically(
    client: TestClient[Any, Any],
) -> None:
    user = await make_user(client)
    unknown = await client.post(LOGIN, json={"username": "nobody-here", "password": "x" * 12})
    wrong = await client.post(LOGIN, json={"username": user.username, "password": "y" * 12})
    a = await assert_problem(unknown, 401, "invalid-credentials")
    b = await assert_problem(wrong, 401, "invalid-credentials")
    assert _comparable(a) == _comparable(b)
    assert unknown.headers.get("Content-Length") == wrong.headers.get("Content-Length")


async def test_username_is_case_insensitive(client: TestClient[Any, Any]) -> None:
    user = await make_user(client)
    tokens = await login(client, user.username.upper())
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 300


async def test_disabled_user_cannot_log_in(client: TestClient[Any, Any]) -> None:
    user = await make_user(client)
    admin = await make_member(client, Role.ADMIN)
    await client.patch(f"/api/v1/users/{user.id}", json={"disabled": True}, headers=admin.auth)
    resp = await client.post(LOGIN, json={"username": user.username, "password": PASSWORD})
    await assert_problem(resp, 401, "invalid-credentials")


@pytest.mark.parametrize(
    "body",
    [
        {"username": "u" * 300, "password": PASSWORD},
        {"username": "someone", "password": "p" * 2000},
        {"username": "someone", "password": PASSWORD, "otp": "1" * 40},
        {"username": 42, "password": PASSWORD},
        {"username": "someone", "password": ["list"]},
        {"username": "someone"},
        {"username": "someone", "password": PASSWORD, "admin": True},
    ],
)
async def test_malformed_login_bodies_are_422(
    client: TestClient[Any, Any], body: dict[str, object]
) -> None:
    await assert_problem(await client.post(LOGIN, json=body), 422, "validation-failed")


async def test_ten_failures_lock_the_account_even_for_the_right_password(
    client: TestClient[Any, Any],
    clock: FakeClock,
    settings: Settings,
    aiohttp_client: AiohttpClient,
) -> None:
    user = await make_user(client)
    for _ in range(10):
        resp = await client.post(LOGIN, json={"username": user.username, "password": "w" * 12})
        await assert_problem(resp, 401, "invalid-credentials")
    resp = await client.post(LOGIN, json={"username": user.username, "password": PASSWORD})
    await assert_problem(resp, 429, "rate-limited")
    retry_after = int(resp.headers["Retry-After"])
    assert 0 < retry_after <= 900

    # The counters live in the database: a restarted server still refuses.
    restarted = await aiohttp_client(create_app(settings, clock=clock))
    resp = await restarted.post(LOGIN, json={"username": user.username, "password": PASSWORD})
    await assert_problem(resp, 429, "rate-limited")

    clock.advance(15 * 60 + 1)
    assert (await login(client, user.username))["access_token"]


async def test_per_address_budget(
    settings: Settings, clock: FakeClock, aiohttp_client: AiohttpClient
) -> None:
    tight = replace(settings, auth=replace(settings.auth, max_failures_per_address=3))
    client = await aiohttp_client(create_app(tight, clock=clock))
    user = await make_user(client)
    for i in range(3):
        resp = await client.post(LOGIN, json={"username": f"guess{i}", "password": "w" * 12})
        await assert_problem(resp, 401)
    resp = await client.post(LOGIN, json={"username": user.username, "password": PASSWORD})
    await assert_problem(resp, 429, "rate-limited")
    assert int(resp.headers["Retry-After"]) > 0


async def _enrol(client: TestClient[Any, Any], member: Member, clock: FakeClock) -> str:
    resp = await client.post("/api/v1/auth/otp/setup", headers=member.auth)
    assert resp.status == 200
    body = await resp.json()
    assert body["otpauth_uri"].startswith("otpauth://totp/")
    secret: str = body["secret"]
    bad = await client.post("/api/v1/auth/otp/enable", json={"otp": "000000"}, headers=member.auth)
    if totp.code_at(secret, clock.now().timestamp()) != "000000":
        await assert_problem(bad, 422, "invalid-otp")
    code = totp.code_at(secret, clock.now().timestamp())
    resp = await client.post("/api/v1/auth/otp/enable", json={"otp": code}, headers=member.auth)
    assert resp.status == 204
    return secret


async def test_totp_enrolment_then_login_needs_a_fresh_code(
    client: TestClient[Any, Any], clock: FakeClock
) -> None:
    member = await make_member(client)
    secret = await _enrol(client, member, clock)
    me = await (await client.get("/api/v1/me", headers=member.auth)).json()
    assert me["mfa_enabled"] is True

    username = member.user.username
    resp = await client.post(LOGIN, json={"username": username, "password": PASSWORD})
    await assert_problem(resp, 401, "mfa-required")
    # The code that enabled MFA is spent.
    used = totp.code_at(secret, clock.now().timestamp())
    resp = await client.post(LOGIN, json={"username": username, "password": PASSWORD, "otp": used})
    await assert_problem(resp, 401, "invalid-otp")

    clock.advance(30)
    code = totp.code_at(secret, clock.now().timestamp())
    assert (await login(client, username, otp=code))["access_token"]
    # Replaying the same code within its window fails.
    resp = await client.post(LOGIN, json={"username": username, "password": PASSWORD, "otp": code})
    await assert_problem(resp, 401, "invalid-otp")
    wrong = "123456" if code != "123456" else "654321"
    clock.advance(30)
    resp = await client.post(LOGIN, json={"username": username, "password": PASSWORD, "otp": wrong})
    await assert_problem(resp, 401, "invalid-otp")


async def test_otp_setup_twice_after_enabling_is_a_conflict(
    client: TestClient[Any, Any], clock: FakeClock
) -> None:
    member = await make_member(client)
    await _enrol(client, member, clock)
    resp = await client.post("/api/v1/auth/otp/setup", headers=member.auth)
    await assert_problem(resp, 409, "mfa-already-enabled")


async def test_enable_before_setup_is_a_conflict(client: TestClient[Any, Any]) -> None:
    member = await make_member(client)
    resp = await client.post("/api/v1/auth/otp/enable", json={"otp": "123456"}, headers=member.auth)
    await assert_problem(resp, 409, "mfa-not-set-up")


async def test_mandatory_mfa_role_may_only_enrol(
    settings: Settings, clock: FakeClock, aiohttp_client: AiohttpClient
) -> None:
    strict = replace(settings, auth=replace(settings.auth, mfa_required_roles=("admin",)))
    client = await aiohttp_client(create_app(strict, clock=clock))
    admin = await make_member(client, Role.ADMIN)
    resp = await client.get("/api/v1/organizations", headers=admin.auth)
    await assert_problem(resp, 403, "mfa-enrolment-required")
    me = await (await client.get("/api/v1/me", headers=admin.auth)).json()
    assert me["mfa_enrolment_required"] is True
    await _enrol(client, admin, clock)
    resp = await client.get("/api/v1/organizations", headers=admin.auth)
    assert resp.status == 200


async def test_refresh_rotates_and_reuse_revokes_the_session(client: TestClient[Any, Any]) -> None:
    member = await make_member(client)
    resp = await client.post(REFRESH, json={"refresh_token": member.refresh_token})
    assert resp.status == 200
    second = await resp.json()
    assert second["refresh_token"] != member.refresh_token
    me = await client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {second['access_token']}"}
    )
    assert me.status == 200

    # The first refresh token again: theft assumed, the whole session ends.
    resp = await client.post(REFRESH, json={"refresh_token": member.refresh_token})
    await assert_problem(resp, 401, "invalid-refresh-token")
    me = await client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {second['access_token']}"}
    )
    await assert_problem(me, 401)
    resp = await client.post(REFRESH, json={"refresh_token": second["refresh_token"]})
    await assert_problem(resp, 401, "invalid-refresh-token")


async def test_refresh_after_logout_fails(client: TestClient[Any, Any]) -> None:
    member = await make_member(client)
    assert (await client.post("/api/v1/auth/logout", headers=member.auth)).status == 204
    resp = await client.post(REFRESH, json={"refresh_token": member.refresh_token})
    await assert_problem(resp, 401, "invalid-refresh-token")


@pytest.mark.parametrize("token", ["", "x" * 300, "not-a-token"])
async def test_bad_refresh_tokens(client: TestClient[Any, Any], token: str) -> None:
    resp = await client.post(REFRESH, json={"refresh_token": token})
    assert resp.status in (401, 422)
    await assert_problem(resp, resp.status)


async def test_hundred_parallel_refreshes_exactly_one_succeeds(
    client: TestClient[Any, Any],
) -> None:
    member = await make_member(client)
    responses = await asyncio.gather(
        *(client.post(REFRESH, json={"refresh_token": member.refresh_token}) for _ in range(100))
    )
    statuses = sorted(r.status for r in responses)
    assert statuses.count(200) == 1
    assert statuses.count(401) == 99
