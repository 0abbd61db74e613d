"""Search in the web client: words and filters kept in the URL, results from every readable group
newest first with their group, sender, organisation, TLP and a verified badge, paging by "more
results", and every field error of a refused search."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from playwright.async_api import expect

from cencomm.domain.users import Role
from tests.browser.accessibility import serious_violations
from tests.browser.webclient import (
    DESKTOP,
    PHONE,
    chromium,
    group_with_officer,
    new_page,
    open_client,
    origin_of,
    sign_in,
)
from tests.browser.webclient import TIMEOUT_MS as WAIT_MS
from tests.factories import add_member, make_group, make_member, post_message, seizure_body


async def test_search_across_groups_with_filters_paging_and_field_errors(
    client: TestClient[Any, Any],
) -> None:
    mod = await make_member(client, Role.MODERATOR, with_key=True)
    first = await make_group(client, mod, code="OP-NORTH")
    second = await make_group(client, mod, code="OP-SOUTH")
    hidden_from_officer = await make_group(client, mod, code="OP-ELSEWHERE")
    officer = await make_member(client, Role.OFFICER)
    for group in (first, second):
        await add_member(client, mod, group, officer)
    for n in range(1, 28):
        await post_message(client, mod, first, body={"text": f"Pallets of masks, lot {n}"})
    await post_message(client, mod, second, body={"text": "Pallets of gloves at the port"})
    await post_message(client, mod, second, "seizure", body=seizure_body())
    await post_message(client, mod, hidden_from_officer, body={"text": "Pallets never shown"})

    async with chromium() as browser:
        context = await browser.new_context(viewport=DESKTOP)  # type: ignore[arg-type]
        # The refused search at the end is logged by Chromium as a failed resource: expected.
        recorded = await new_page(context, origin_of(client), allow=("status of 422",))
        page = recorded.page
        await page.goto(str(client.make_url("/")))
        await sign_in(recorded, officer)
        await page.get_by_role("link", name="Search").click()
        await page.get_by_role("heading", name="Search messages").wait_for()
        await page.get_by_label("Words").fill("pallets")
        await page.get_by_role("button", name="Search", exact=True).click()

        results = page.locator("ol.results > li.message")
        await page.locator(".search-count", has_text="The newest 25 messages").wait_for()
        assert await results.count() == 25
        newest = results.first
        assert "Pallets of gloves" in await newest.inner_text()
        assert await newest.locator(".group-code").inner_text() == "OP-SOUTH"
        assert await newest.locator(".sender").inner_text() == mod.user.display_name
        assert await newest.locator(".organization").inner_text() == mod.organization.name
        assert "TLP:AMBER" in await newest.locator(".tlp").inner_text()
        await newest.locator('[data-verified="true"]').wait_for()
        assert await serious_violations(page) == []
        link = newest.get_by_role("link", name="Open in OP-SOUTH")
        assert await link.get_attribute("href") == f"#/groups/{second['id']}?seq=1"

        # More results: the rest, oldest last, with no repeat; the other group never appears.
        await page.get_by_role("button", name="More results").click()
        await page.locator(".search-count", has_text="28 messages found").wait_for()
        texts = await results.locator(".text").all_inner_texts()
        assert texts[-1] == "Pallets of masks, lot 1" and len(set(texts)) == 28
        assert "Pallets never shown" not in await page.content()
        assert await page.get_by_role("button", name="More results").count() == 0

        # Filters go into the URL and survive a reload.
        await page.get_by_label("Group").select_option(first["id"])
        await page.get_by_label("Words").fill("lot 7")
        await page.get_by_role("button", name="Search", exact=True).click()
        await page.locator(".search-count", has_text="1 message found").wait_for()
        assert "q=lot+7" in page.url and f"group_id={first['id']}" in page.url
        await page.reload()
        await page.locator(".search-count", has_text="1 message found").wait_for()
        assert await page.get_by_label("Words").input_value() == "lot 7"
        assert await results.locator(".text").all_inner_texts() == ["Pallets of masks, lot 7"]

        # A result's link opens its group at that message; going back shows the search again.
        await results.get_by_role("link", name="Open in OP-NORTH").click()
        target = page.locator('li.message[aria-current="true"]')
        await expect(target).to_contain_text("Pallets of masks, lot 7", timeout=WAIT_MS)
        assert await target.get_attribute("data-seq") == "7"
        await expect(target).to_be_in_viewport(timeout=WAIT_MS)
        await page.go_back()
        await page.locator(".search-count", has_text="1 message found").wait_for()

        # A seizure report by category and the sender's country.
        await page.get_by_role("link", name="Start a new search").click()
        await expect(page.locator(".search-count")).to_have_count(0, timeout=WAIT_MS)
        await expect(page.get_by_label("Words")).to_have_value("", timeout=WAIT_MS)
        await page.get_by_label("Words").fill("textiles")
        await page.get_by_label("Type").select_option("seizure")
        await page.get_by_label("Seizure category").select_option("masks")
        await page.get_by_label("Country of the sender (ISO code)").fill("fr")
        await page.get_by_role("button", name="Search", exact=True).click()
        await page.locator(".search-count", has_text="1 message found").wait_for()
        assert await results.get_attribute("data-typ") == "seizure"

        # A refused search lists every field error at once.
        await page.get_by_label("Words").fill("")
        await page.get_by_label("Country of the sender (ISO code)").fill("XX")
        await page.get_by_role("button", name="Search", exact=True).click()
        problem = page.locator(".problem")
        await problem.wait_for()
        fields = await problem.locator("li[data-field]").evaluate_all(
            "items => items.map(i => i.dataset.field)"
        )
        assert set(fields) == {"query.q", "query.country"}
        assert await results.count() == 0
        recorded.assert_clean()


async def test_a_link_to_an_old_message_loads_the_history_up_to_it(
    client: TestClient[Any, Any],
) -> None:
    mod, group, officer = await group_with_officer(client)
    for n in range(1, 71):
        await post_message(client, mod, group, body={"text": f"Report number {n}"})
    async with chromium() as browser:
        recorded = await open_client(browser, client)
        page = recorded.page
        await sign_in(recorded, officer)
        # Older than the newest page of 50: the timeline loads back to it and shows it.
        await page.goto(f"{recorded.origin}/#/groups/{group['id']}?seq=3")
        target = page.locator('li.message[aria-current="true"]')
        await expect(target).to_contain_text("Report number 3", timeout=WAIT_MS)
        await expect(target).to_be_in_viewport(timeout=WAIT_MS)
        await expect(page.locator("li.message")).to_have_count(70, timeout=WAIT_MS)
        recorded.assert_clean()


async def test_the_search_screen_fits_a_phone(client: TestClient[Any, Any]) -> None:
    mod, group, officer = await group_with_officer(client)
    await post_message(client, mod, group, "seizure", body=seizure_body())
    async with chromium() as browser:
        recorded = await open_client(browser, client, viewport=PHONE)
        page = recorded.page
        await sign_in(recorded, officer)
        # The notice of sign-in shows this device's fingerprint, one long word: it must wrap.
        await page.locator(".notice").wait_for()
        await page.goto(f"{recorded.origin}/#/search?q=textiles&category=masks")
        await page.locator(".search-count", has_text="1 message found").wait_for()
        await page.locator('[data-verified="true"]').wait_for()
        assert await page.get_by_label("Seizure category").input_value() == "masks"
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"]
        assert await serious_violations(page) == []
        recorded.assert_clean()
