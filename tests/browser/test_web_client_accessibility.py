"""Accessibility of the web client's main screens, checked by axe-core in Chromium at desktop
(1280x800) and phone (390x844) size: no serious or critical violation; the page never scrolls
sideways on a phone; the keyboard reaches the skip link first, then the navigation, with a
visible focus outline."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page

from cencomm.domain.users import Role
from tests.browser.accessibility import axe_violations, describe
from tests.browser.webclient import DESKTOP, PHONE, RecordedPage, chromium, open_client, sign_in
from tests.factories import Member, add_member, make_group, make_member, post_message, seizure_body
from tests.web.live_helpers import send_alert


async def _operation(client: TestClient[Any, Any]) -> tuple[Member, dict[str, Any], str]:
    """An officer in an active group holding a text, a reply, a notice and a seizure report,
    and an alert to the group; the officer, the group and the alert's id."""
    mod = await make_member(client, Role.MODERATOR, with_key=True)
    group = await make_group(client, mod, code="STOP-2020")
    officer = await make_member(client, Role.OFFICER)
    await add_member(client, mod, group, officer)
    first = await post_message(
        client, mod, group, body={"text": "Masks seized at CDG, declared as textiles"}
    )
    await post_message(
        client, mod, group, body={"text": "Same shipper seen in Lyon"}, reply_to=first["id"]
    )
    await post_message(
        client,
        mod,
        group,
        "notice",
        hc="TLP:GREEN",
        body={"title": "New modus operandi", "text": "Medicines split across postal parcels"},
    )
    await post_message(client, mod, group, "seizure", hc="TLP:RED", body=seizure_body())
    alert = await send_alert(client, mod, {"groups": [group["id"]]}, priority="flash")
    return officer, group, alert["id"]


async def _no_sideways_scroll(page: Page) -> int:
    width: int = await page.evaluate("() => document.documentElement.scrollWidth")
    return width


async def _screen(recorded: RecordedPage, route: str) -> None:
    """Open a route and wait until its screen heading shows and the page settles."""
    page = recorded.page
    await page.goto(f"{recorded.origin}/#{route}")
    await page.locator("main#main h1").first.wait_for()
    await page.wait_for_load_state("networkidle")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_the_main_screens_have_no_serious_accessibility_violation(
    client: TestClient[Any, Any], viewport: dict[str, int]
) -> None:
    officer, group, alert_id = await _operation(client)
    found: dict[str, list[dict[str, Any]]] = {}
    widths: dict[str, int] = {}

    async def check(name: str) -> None:
        found[name] = await axe_violations(page)
        widths[name] = await _no_sideways_scroll(page)

    async with chromium() as browser:
        recorded = await open_client(browser, client, viewport=viewport)
        page = recorded.page
        await page.get_by_label("Username").wait_for()
        await check("sign-in")
        await sign_in(recorded, officer)
        await page.locator(".group-card").first.wait_for()
        await check("groups")
        # Every navigation link is on screen, none pushed out of reach sideways.
        links = page.get_by_role("navigation").get_by_role("link")
        assert await links.count() >= 4
        for link in await links.all():
            box = await link.bounding_box()
            assert box is not None and box["x"] >= 0, await link.inner_text()
            assert box["x"] + box["width"] <= viewport["width"], await link.inner_text()

        await _screen(recorded, f"/groups/{group['id']}")
        timeline = page.locator("li.message")
        await page.locator("li.message", has_text="New modus operandi").wait_for()
        await page.locator('li.message[data-typ="seizure"]').wait_for()
        await page.locator(".message [data-verified]").first.wait_for()
        assert await timeline.count() >= 4
        await check("timeline")
        await (
            page.locator("li.message", has_text="Masks seized at CDG")
            .get_by_role("button", name="Reply")
            .first.click()
        )
        await page.get_by_role("combobox", name=re.compile("^Type")).select_option("notice")
        await check("composer-notice")
        # Sent empty: every field error shown at once (checked in the page, nothing is sent).
        await page.get_by_role("button", name="Sign and send").click()
        await page.locator(".field-error").first.wait_for()
        await check("composer-errors")
        await page.get_by_role("combobox", name=re.compile("^Type")).select_option("seizure")
        await page.locator(".seizure-form").wait_for()
        await check("composer-seizure")

        await _screen(recorded, "/devices")
        await check("devices")
        start = page.get_by_role("button", name="Set up two-factor authentication")
        await start.click()  # opens the enrolment panel, whose own button asks for the key
        await (
            page.get_by_role("region", name="Two-factor authentication")
            .get_by_role("button", name="Set up two-factor authentication")
            .click()
        )
        await page.get_by_role(
            "img", name="QR code of your two-factor authentication key"
        ).wait_for()
        await check("devices-mfa-setup")

        for name, route in [
            ("alerts", "/alerts"),
            ("alert", f"/alerts/{alert_id}"),
            ("search", "/search?q=masks"),
            ("correlations", f"/groups/{group['id']}/correlations"),
            ("watches", "/watches"),
            ("share-requests", "/share-requests"),
        ]:
            await _screen(recorded, route)
            await check(name)
        recorded.assert_clean()

    report = "\n".join(f"{name}:\n{describe(v)}" for name, v in found.items() if v)
    assert not report, report
    too_wide = {name: width for name, width in widths.items() if width > viewport["width"]}
    assert too_wide == {}, too_wide


async def test_the_keyboard_reaches_the_skip_link_then_the_navigation_with_visible_focus(
    client: TestClient[Any, Any],
) -> None:
    officer, group, _ = await _operation(client)
    async with chromium() as browser:
        recorded = await open_client(browser, client)
        page = recorded.page
        await sign_in(recorded, officer)
        # A fresh load of a screen (the session resumes from this tab's storage).
        await page.reload()
        await page.get_by_role("heading", name="Your groups").wait_for()

        focused = """() => {
            const el = document.activeElement;
            const style = getComputedStyle(el);
            return {
                tag: el.tagName, cls: el.className, text: el.textContent.trim(),
                href: el.getAttribute("href"), inNav: Boolean(el.closest("nav")),
                outline: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth),
                visible: el.matches(":focus-visible"),
            };
        }"""
        await page.keyboard.press("Tab")
        skip = await page.evaluate(focused)
        assert skip["cls"] == "skip" and skip["text"] == "Skip to content", skip
        assert skip["visible"] and skip["outline"] != "none" and skip["outlineWidth"] >= 2, skip
        box = await page.locator("a.skip").bounding_box()
        assert box is not None and box["y"] >= 0, box  # shown on screen once focused

        # Then the banner's links and buttons, then the navigation, every stop with an outline.
        seen = []
        for _ in range(8):
            await page.keyboard.press("Tab")
            here = await page.evaluate(focused)
            assert here["visible"] and here["outline"] != "none" and here["outlineWidth"] >= 2, here
            seen.append(here)
            if here["inNav"]:
                break
        assert seen[-1]["inNav"] and seen[-1]["href"] == "#/groups", seen

        # The skip link moves focus to the main content.
        for _ in range(len(seen)):
            await page.keyboard.press("Shift+Tab")
        assert (await page.evaluate(focused))["cls"] == "skip"
        await page.keyboard.press("Enter")
        assert await page.evaluate("() => document.activeElement.id") == "main"
        await page.keyboard.press("Tab")
        inside = await page.evaluate("() => Boolean(document.activeElement.closest('main#main'))")
        assert inside

        # Following a link by keyboard moves focus to the new screen's heading.
        await page.get_by_role("navigation").get_by_role("link", name="Devices").focus()
        await page.keyboard.press("Enter")
        await page.get_by_role("heading", name="Devices and signing keys").wait_for()
        heading = await page.evaluate(focused)
        assert heading["tag"] == "H1" and "Devices" in heading["text"], heading
        await page.goto(f"{recorded.origin}/#/groups/{group['id']}")
        title = page.get_by_role("heading", name=group["code"])
        await title.wait_for()
        assert await title.evaluate("(el) => el === document.activeElement")
        recorded.assert_clean()


async def test_the_page_policy_blocks_inline_scripts_and_axe_runs_without_weakening_it(
    client: TestClient[Any, Any],
) -> None:
    async with chromium() as browser:
        recorded = await open_client(browser, client)
        page = recorded.page
        await page.get_by_label("Username").wait_for()
        # What a test must not do: an inline <script> is refused by the page's CSP...
        with pytest.raises(PlaywrightError, match="Content Security Policy"):
            await page.add_script_tag(content="window.injected = true;")
        assert await page.evaluate("() => window.injected") is None
        assert any("Content Security Policy" in p for p in recorded.problems)
        recorded.problems.clear()
        # ... while axe, evaluated through DevTools, runs in the page as it is.
        assert await axe_violations(page) == []
        assert await page.evaluate("() => typeof axe.run") == "function"
        recorded.assert_clean()
