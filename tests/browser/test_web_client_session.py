"""The web client's session in Chromium: TOTP enrolment and sign-in with a code, this device's key
made and registered (and others revoked), a session ended by an administrator sending the page
back to sign-in, and the live timeline resuming with no gap and no repeat after the server
restarts."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient
from playwright.async_api import Browser, Page, expect
from pytest_aiohttp import AiohttpClient

from cencomm.app import create_app
from cencomm.client import CencommClient
from cencomm.client.keystore import LocalKey
from cencomm.crypto.totp import STEP_SECONDS, code_at
from cencomm.domain.users import Role
from cencomm.settings import Settings
from tests.browser.accessibility import serious_violations
from tests.browser.webclient import (
    DESKTOP,
    RecordedPage,
    chromium,
    device_kid,
    new_page,
    open_client,
    origin_of,
    sign_in,
)
from tests.conftest import with_settings
from tests.factories import PASSWORD, make_member, register_key
from tests.processes import Api, cluster_env, free_port, run_cencomm, serve, stop

# Chromium logs every 4xx answer as a failed resource. Where the contract answers 401 (a password
# without its code: `mfa-required`; the refresh of an ended session), that line is expected.
EXPECTED_401 = ("status of 401",)
# Waits on conditions, never sleeps: a loaded machine only makes them longer.
WAIT_MS = 30_000
# After a restart the page retries with backoff (at most 15 s apart), and a server process takes a
# few seconds to start.
RECONNECT_MS = 60_000


async def _open(browser: Browser, origin: str, *, allow: tuple[str, ...] = ()) -> RecordedPage:
    context = await browser.new_context(viewport=DESKTOP)  # type: ignore[arg-type]
    recorded = await new_page(context, origin, allow=allow)
    await recorded.page.goto(origin + "/")
    return recorded


async def _fill_sign_in(page: Page, username: str, password: str = PASSWORD) -> None:
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()


async def _user_keys(client: TestClient[Any, Any], auth: dict[str, str], user_id: str) -> Any:
    resp = await client.get(f"/api/v1/users/{user_id}/keys", headers=auth)
    assert resp.status == 200
    return (await resp.json())["keys"]


async def test_mfa_enrolment_then_sign_in_with_a_totp_code(
    settings: Settings, aiohttp_client: AiohttpClient
) -> None:
    strict = with_settings(settings, auth=replace(settings.auth, mfa_required_roles=("analyst",)))
    client = await aiohttp_client(create_app(strict))
    analyst = await make_member(client, Role.ANALYST)
    async with chromium() as browser:
        recorded = await _open(browser, origin_of(client), allow=EXPECTED_401)
        page = recorded.page
        await _fill_sign_in(page, analyst.user.username)
        # The role requires MFA: the page offers only enrolment, with the QR code and the key.
        await page.get_by_role("heading", name="Two-factor authentication").wait_for()
        await page.get_by_role("button", name="Set up two-factor authentication").click()
        qr = page.get_by_role("img", name="QR code of your two-factor authentication key")
        await qr.wait_for()
        assert await qr.evaluate("svg => svg.tagName") == "svg"
        assert await qr.locator("rect").count() > 100
        secret = (await page.get_by_test_id("otp-secret").inner_text()).strip()
        assert await serious_violations(page) == []
        enrolled_at = time.time()
        await page.get_by_label("Six-digit code from your authenticator app").fill(
            code_at(secret, enrolled_at)
        )
        await page.get_by_role("button", name="Confirm and turn on").click()
        await page.get_by_role("heading", name="Your groups").wait_for()

        await page.get_by_role("banner").get_by_role("button", name="Sign out").click()
        await page.get_by_text("You are signed out.").wait_for()
        await _fill_sign_in(page, analyst.user.username)
        code = page.get_by_label("Six-digit code from your authenticator app")
        await expect(code).to_be_focused(timeout=WAIT_MS)
        # The enrolment code is spent: the next step's code (within the allowed drift).
        await code.fill(code_at(secret, max(time.time(), enrolled_at + STEP_SECONDS)))
        await page.get_by_role("button", name="Sign in").click()
        await page.get_by_role("heading", name="Your groups").wait_for()
        recorded.assert_clean()


async def test_device_keys_made_registered_revoked_and_one_per_browser(
    client: TestClient[Any, Any],
) -> None:
    officer = await make_member(client, Role.OFFICER)
    async with chromium() as browser:
        first = await open_client(browser, client)
        await sign_in(first, officer)
        kid = await device_kid(first)
        [registered] = await _user_keys(client, officer.auth, officer.id)
        assert registered["kid"] == kid and registered["revoked_at"] is None
        page = first.page
        this_row = page.locator(f'tr[data-kid="{kid}"]')
        await expect(this_row).to_contain_text("this device", timeout=WAIT_MS)
        assert await serious_violations(page) == []

        # A key registered elsewhere (a lost laptop) shows in the list and is revoked from here.
        lost = await register_key(client, officer)
        await page.reload()
        row = page.locator(f'tr[data-kid="{lost}"]')
        await row.get_by_role("button", name="Revoke").click()
        await row.get_by_role("button", name="Yes, revoke this key").click()
        await expect(row).to_contain_text("Revoked", timeout=WAIT_MS)
        await expect(this_row).to_contain_text("Active", timeout=WAIT_MS)
        keys = {k["kid"]: k for k in await _user_keys(client, officer.auth, officer.id)}
        assert keys[lost]["revoked_at"] is not None and keys[kid]["revoked_at"] is None

        # Another browser profile is another device: it makes and registers its own key.
        second = await open_client(browser, client)
        await sign_in(second, officer)
        other = await device_kid(second)
        assert other != kid
        keys = {k["kid"]: k for k in await _user_keys(client, officer.auth, officer.id)}
        assert set(keys) == {kid, lost, other} and keys[other]["revoked_at"] is None
        first.assert_clean()
        second.assert_clean()


async def test_a_disabled_user_is_sent_back_to_sign_in_with_the_reason(
    client: TestClient[Any, Any],
) -> None:
    admin = await make_member(client, Role.ADMIN)
    officer = await make_member(client, Role.OFFICER)
    async with chromium() as browser:
        recorded = await _open(browser, origin_of(client), allow=EXPECTED_401)
        page = recorded.page
        await sign_in(recorded, officer)
        await page.locator('.banner [data-live="online"]').wait_for()
        resp = await client.patch(
            f"/api/v1/users/{officer.id}", json={"disabled": True}, headers=admin.auth
        )
        assert resp.status == 200, await resp.text()
        ended = page.locator('[data-slug="session-ended"]')
        await expect(ended).to_contain_text("Your session has ended", timeout=WAIT_MS)
        assert await serious_violations(page) == []
        await page.get_by_role("heading", name="Sign in to cencomm").wait_for()
        await expect(page.get_by_label("Username")).to_be_visible(timeout=WAIT_MS)
        await expect(page.locator(".banner")).to_have_count(0, timeout=WAIT_MS)
        recorded.assert_clean()


async def test_the_timeline_resumes_after_the_server_restarts(
    tmp_path: Path, database_url: str
) -> None:
    env = cluster_env(tmp_path, database_url, "", CENCOMM_ADMIN_PASSWORD=PASSWORD)
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    server = await serve(env, port)
    try:
        code, _, err = await run_cencomm(env, "create-admin", "--username", "admin")
        assert code == 0, err
        async with aiohttp.ClientSession() as http:
            api = Api(http, port)
            login = await api.call("POST", "/auth/login", username="admin", password=PASSWORD)
            admin = login["access_token"]
            org = await api.call(
                "POST", "/organizations", admin, name="Douane", kind="administration",
                country="FR", region="EUROPE",
            )  # fmt: skip
            users = {}
            for name in ("reader", "poster"):
                users[name] = await api.call(
                    "POST", "/users", admin, username=name, display_name=name.title(),
                    organization_id=org["id"], role="officer", password=PASSWORD,
                )  # fmt: skip
            group = await api.call("POST", "/groups", admin, code="OP-RESUME", name="Resume")
            await api.call("PATCH", f"/groups/{group['id']}", admin, status="active")
            for user in users.values():
                await api.call(
                    "POST", f"/groups/{group['id']}/members", admin, user_id=user["id"],
                    role="member",
                )  # fmt: skip
        key = LocalKey.generate()
        async with CencommClient(origin, key=key) as poster:
            await poster.login("poster", PASSWORD)
            await poster.register_key("test")
            await poster.post_text(group["id"], "Before the restart")

        async with chromium() as browser:
            # While the server is down or the browser offline, Chromium logs each failed
            # reconnection attempt.
            failed = ("ERR_CONNECTION_REFUSED", "ERR_INTERNET_DISCONNECTED")
            recorded = await _open(browser, origin, allow=failed)
            page = recorded.page
            await _fill_sign_in(page, "reader")
            await page.get_by_role("heading", name="Your groups").wait_for()
            await page.goto(f"{origin}/#/groups/{group['id']}")
            messages = page.locator("li.message")
            await expect(messages).to_have_count(1, timeout=WAIT_MS)
            await page.locator('.banner [data-live="online"]').wait_for()

            assert await stop(server) == 0
            banner = page.locator('.offline-banner[data-live="offline"]')
            await banner.wait_for()
            # The browser stays offline until both posts are in, so they can only reach the page
            # by its `resume` when it reconnects (at once, on the browser's `online` event).
            await page.context.set_offline(True)
            server = await serve(env, port)
            async with CencommClient(origin, key=key) as poster:
                await poster.login("poster", PASSWORD)
                await poster.post_text(group["id"], "First after the restart")
                await poster.post_text(group["id"], "Second after the restart")
            assert await messages.count() == 1
            await page.context.set_offline(False)

            await expect(messages).to_have_count(3, timeout=RECONNECT_MS)
            await expect(banner).to_have_count(0, timeout=WAIT_MS)
            await page.locator('.banner [data-live="online"]').wait_for()
            seqs = await messages.evaluate_all("items => items.map(i => i.dataset.seq)")
            assert seqs == ["1", "2", "3"]
            assert await messages.locator(".text").all_inner_texts() == [
                "Before the restart",
                "First after the restart",
                "Second after the restart",
            ]
            await messages.locator('[data-verified="true"]').nth(2).wait_for()
            recorded.assert_clean()
    finally:
        await stop(server)
