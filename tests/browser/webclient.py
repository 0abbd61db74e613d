"""Driving the web client in Debian's Chromium: one browser per test, pages that record every
console problem and every request, and sign-in as a test member.

Every page checks, when the test ends, that nothing was logged as an error or warning and that no
request left the server's origin (`assert_clean`).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from aiohttp.test_utils import TestClient
from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page, async_playwright

from cencomm.crypto.totp import code_at
from cencomm.domain.users import Role
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.factories import Member, add_member, make_group, make_member

TIMEOUT_MS = 20_000
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@dataclass
class RecordedPage:
    page: Page
    origin: str
    problems: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert self.problems == [], self.problems
        foreign = [url for url in self.requests if not _same_origin(url, self.origin)]
        assert foreign == [], foreign


def _same_origin(url: str, origin: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("blob", "data"):
        return url.startswith(f"blob:{origin}/") or parts.scheme == "data"
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    return f"{scheme}://{parts.netloc}" == origin


def origin_of(client: TestClient[Any, Any]) -> str:
    return "{0.scheme}://{0.netloc}".format(urlsplit(str(client.make_url("/"))))


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            await browser.close()


async def new_page(
    context: BrowserContext, origin: str, *, allow: tuple[str, ...] = ()
) -> RecordedPage:
    """A page in `context` that records console errors and warnings (except messages containing
    one of `allow`, e.g. a resource the test expects to fail) and every request."""
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    recorded = RecordedPage(page, origin)

    def on_console(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning") and not any(a in message.text for a in allow):
            recorded.problems.append(f"console {message.type}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: recorded.problems.append(f"page error: {error}"))
    page.on("request", lambda request: recorded.requests.append(request.url))
    page.on("websocket", lambda socket: recorded.requests.append(socket.url))
    return recorded


async def open_client(
    browser: Browser, client: TestClient[Any, Any], *, viewport: dict[str, int] = DESKTOP
) -> RecordedPage:
    context = await browser.new_context(viewport=viewport)  # type: ignore[arg-type]
    recorded = await new_page(context, origin_of(client))
    await recorded.page.goto(str(client.make_url("/")))
    return recorded


async def sign_in(recorded: RecordedPage, member: Member, *, otp_secret: str | None = None) -> None:
    """Sign in through the form; with `otp_secret`, answer the code prompt. Waits until the
    device key is ready and the groups screen shows."""
    page = recorded.page
    await page.get_by_label("Username").fill(member.user.username)
    await page.get_by_label("Password").fill(member.password)
    await page.get_by_role("button", name="Sign in").click()
    if otp_secret is not None:
        code = page.get_by_label("Six-digit code from your authenticator app")
        await code.fill(code_at(otp_secret, time.time()))
        await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("heading", name="Your groups").wait_for()


async def device_kid(recorded: RecordedPage) -> str:
    """The kid of this browser's device key, as the devices screen shows it."""
    page = recorded.page
    await page.goto(recorded.origin + "/#/devices")
    fingerprint = page.locator("p code.fingerprint")
    await fingerprint.wait_for()
    kid = await fingerprint.get_attribute("data-kid")
    assert kid
    return kid


async def group_with_officer(
    client: TestClient[Any, Any],
) -> tuple[Member, dict[str, Any], Member]:
    """The usual cast: a moderator with a signing key, their active group, and an officer in it."""
    mod = await make_member(client, Role.MODERATOR, with_key=True)
    group = await make_group(client, mod)
    officer = await make_member(client, Role.OFFICER)
    await add_member(client, mod, group, officer)
    return mod, group, officer
