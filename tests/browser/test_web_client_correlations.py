"""Correlations, share requests and watch lists in Chromium (issue 20), one browser, two people.

An officer of operation A reads its correlations (two reports from France and Germany sharing a
consignee and a container), opens "Related reports" under a report (the other report; and, for a
container also reported in operation B, which the officer cannot read, only the line saying so) and
asks B's moderators to share with a reason. B's group moderator, waiting on the share requests
screen, sees the request arrive live with the identifier and who asks, and approves; the officer's
own list turns to approved live and shows B's report under the request. Last, the officer watches a
container prefix: a report posted through the API that matches raises the live notice, the match
shows under the watch, and the watch is removed. Every screen passes axe (no serious or critical
violation)."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from playwright.async_api import Page, expect

from cencomm.domain.users import Role
from tests.browser.accessibility import serious_violations
from tests.browser.webclient import DESKTOP, PHONE, RecordedPage, chromium, open_client, sign_in
from tests.factories import (
    Member,
    add_member,
    make_group,
    make_member,
    make_organization,
    post_message,
    seizure_body,
)

SHARED_CONTAINER = "CSQU3054383"  # in both reports of A
ELSEWHERE_CONTAINER = "MSKU1234565"  # in A's first report and in B's report
WATCHED_CONTAINER = "MAEU5550007"  # only in the report posted once the watch is set
REASON = "Same consignee as our case 2020/114 in Le Havre"


def _report(country: str, containers: list[str], consignee: str) -> dict[str, Any]:
    return seizure_body(
        country,
        location="Port",
        transport_mode="sea",
        conveyance={"mode": "vessel", "vessel_name": "Ever Given"},
        containers=containers,
        parties=[{"role": "consignee", "name": consignee, "country": "DE"}],
    )


async def _officer(client: TestClient[Any, Any], country: str) -> Member:
    organization = await make_organization(client, country=country)
    return await make_member(client, Role.OFFICER, organization=organization, with_key=True)


async def _accessible(page: Page) -> None:
    assert await serious_violations(page) == []


async def _screen(recorded: RecordedPage, route: str, heading: str) -> Page:
    page = recorded.page
    await page.goto(f"{recorded.origin}/#{route}")
    await page.get_by_role("heading", name=heading, exact=True).wait_for()
    return page


async def test_correlations_related_reports_share_requests_and_watches(
    client: TestClient[Any, Any],
) -> None:
    staff = await make_member(client, Role.MODERATOR)
    officer_fr = await _officer(client, "FR")
    officer_de = await _officer(client, "DE")
    officer_nl = await _officer(client, "NL")
    moderator_b = await make_member(client, Role.OFFICER)
    group_a = await make_group(client, staff, code="STOP-A")
    group_b = await make_group(client, staff, code="PANGEA-B")
    for member in (officer_fr, officer_de):
        await add_member(client, staff, group_a, member)
    await add_member(client, staff, group_b, officer_nl)
    await add_member(client, staff, group_b, moderator_b, role="moderator")
    first = await post_message(
        client,
        officer_fr,
        group_a,
        "seizure",
        body=_report("FR", [SHARED_CONTAINER, ELSEWHERE_CONTAINER], "Müller Pharma GmbH"),
    )
    second = await post_message(
        client,
        officer_de,
        group_a,
        "seizure",
        body=_report("DE", [SHARED_CONTAINER], "MULLER PHARMA LTD"),
    )
    elsewhere = await post_message(
        client,
        officer_nl,
        group_b,
        "seizure",
        body=_report("NL", [ELSEWHERE_CONTAINER], "Other BV"),
    )

    async with chromium() as browser:
        # B's moderator waits on the share requests screen: nothing to decide yet.
        deciding = await open_client(browser, client)
        await sign_in(deciding, moderator_b)
        their = await _screen(deciding, "/share-requests", "Share requests")
        await their.get_by_text("No request has been sent to your groups.").wait_for()

        officer = await open_client(browser, client)
        await sign_in(officer, officer_fr)

        # (1) The operation's correlations: the container and the consignee, in both countries.
        page = await _screen(
            officer, f"/groups/{group_a['id']}/correlations", "Correlations STOP-A"
        )
        table = page.locator("table.correlations-table")
        await table.wait_for()
        rows = table.locator("tbody tr")
        await expect(rows).to_have_count(2)
        container = table.locator(f'tr[data-kind="container"][data-value="{SHARED_CONTAINER}"]')
        party = table.locator('tr[data-kind="party"][data-value="muller pharma"]')
        for row in (container, party):
            cells = await row.locator("td").all_inner_texts()
            assert cells[0] == "2" and cells[1] == "Germany, France", cells
        assert SHARED_CONTAINER in await container.locator("th").inner_text()
        assert await page.locator(f'tr[data-value="{ELSEWHERE_CONTAINER}"]').count() == 0
        await _accessible(page)
        # On a phone the page does not scroll sideways.
        await page.set_viewport_size({"width": PHONE["width"], "height": PHONE["height"]})
        assert await page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
        await page.set_viewport_size({"width": DESKTOP["width"], "height": DESKTOP["height"]})

        # (2) Under the French report: the German one, and the container seen elsewhere.
        await page.get_by_role("link", name="Back to the timeline").click()
        await page.get_by_role("heading", name=group_a["name"]).wait_for()
        report = page.locator(f'li.message[data-id="{first["id"]}"]')
        await report.locator('[data-verified="true"]').wait_for()
        panel = report.locator(f'.related[data-related="{first["id"]}"]')
        await panel.get_by_role("button", name="Related reports").click()
        linked = panel.locator(f'li[data-message="{second["id"]}"]')
        await linked.wait_for()
        text = await linked.inner_text()
        assert "Report 2 in STOP-A" in text and "Germany" in text, text
        shared = await linked.locator(".shared .identifier").evaluate_all(
            "els => els.map(e => `${e.dataset.kind}:${e.dataset.value}`)"
        )
        assert sorted(shared) == [f"container:{SHARED_CONTAINER}", "party:muller pharma"]
        line = panel.locator('[data-elsewhere="true"]')
        await line.wait_for()
        assert await line.locator(".identifier").evaluate_all(
            "els => els.map(e => e.dataset.value)"
        ) == [ELSEWHERE_CONTAINER]
        assert "PANGEA-B" not in await panel.inner_text()
        await _accessible(page)
        # The German report links back, and nothing of it is elsewhere.
        other = page.locator(f'.related[data-related="{second["id"]}"]')
        await other.get_by_role("button", name="Related reports").click()
        await other.locator(f'li[data-message="{first["id"]}"]').wait_for()
        assert await other.locator('[data-elsewhere="true"]').count() == 0

        await line.get_by_role("button", name="Ask to share").click()
        send = line.get_by_role("button", name="Send the request")
        await expect(send).to_be_disabled()  # a reason first
        await line.get_by_label("Why you need it").fill(REASON)
        await _accessible(page)
        await send.click()
        await line.locator('[data-share-sent="true"]').wait_for()
        resp = await client.get("/api/v1/share-requests", headers=officer_fr.auth)
        [asked] = (await resp.json())["share_requests"]
        assert asked["message_id"] == first["id"] and asked["reason"] == REASON
        assert asked["identifier"]["value"] == ELSEWHERE_CONTAINER and asked["status"] == "pending"

        # The officer's own request, waiting; no group of theirs to decide for.
        page = await _screen(officer, "/share-requests", "Share requests")
        mine = page.locator(f'li.request[data-request="{asked["id"]}"]')
        await expect(mine).to_have_attribute("data-status", "pending")
        assert await page.locator(".share-queue").count() == 0
        await _accessible(page)

        # (3) The request reaches B's moderator live, with the identifier, the reason and who
        # asks; they approve.
        item = their.locator(
            f'.share-queue[data-group="{group_b["id"]}"] li.request[data-request="{asked["id"]}"]'
        )
        await item.wait_for()
        await expect(their.get_by_text("No request has been sent to your groups.")).to_have_count(0)
        words = await item.inner_text()
        assert ELSEWHERE_CONTAINER in words and REASON in words and "Test officer" in words
        assert officer_fr.organization.name in words
        await _accessible(their)
        await item.get_by_role("button", name="Share", exact=True).click()
        await item.get_by_role("group").get_by_role("button", name="Share", exact=True).click()
        await expect(item).to_have_attribute("data-status", "approved")
        # The consenting moderator reads the requester's report.
        await item.get_by_text("Shared reports").click()
        await item.locator(f'.shared-reports li[data-id="{first["id"]}"]').wait_for()
        deciding.assert_clean()

        # The requester sees the request approved (live) and B's report under it.
        await expect(mine).to_have_attribute("data-status", "approved")
        await mine.get_by_text("Shared reports").click()
        got = mine.locator(f'.shared-reports li[data-id="{elsewhere["id"]}"]')
        await got.wait_for()
        assert ELSEWHERE_CONTAINER in await got.inner_text()
        await _accessible(page)

        # (4) A watch on a container prefix, a matching report, the live notice, the match.
        page = await _screen(officer, "/watches", "Watch lists")
        add = page.get_by_role("button", name="Add the watch")
        await add.click()  # empty: both fields flagged in the page, nothing sent
        await expect(page.locator(".watch-form .field-error")).to_have_count(2)
        await page.get_by_label("What to watch").select_option("container")
        await page.get_by_label("Identifier or name").fill("MAEU 555000 8")  # bad check digit
        await page.get_by_label("Reason").fill("Containers of the Le Havre route")
        await add.click()
        refused = page.locator('.watch-form .problem[data-slug="invalid-watch"]')
        await refused.wait_for()
        assert "This watch is not valid" in await refused.inner_text()
        assert (
            "Identifier or name"
            in await refused.locator('li[data-field="body.value"]').inner_text()
        )
        await _accessible(page)
        # Chromium logs the refused request: that one, and nothing else, is expected.
        expected = [p for p in officer.problems if "status of 422" in p]
        assert len(expected) == 1, officer.problems
        officer.problems.remove(expected[0])
        await page.get_by_label("Match").select_option("prefix")
        await page.get_by_label("Identifier or name").fill("maeu 555")
        await add.click()
        watch = page.locator("li.watch")
        await expect(watch).to_have_count(1)
        assert "MAEU555" in await watch.inner_text()
        await _accessible(page)
        resp = await client.get("/api/v1/watches", headers=officer_fr.auth)
        [kept] = (await resp.json())["watches"]
        assert (kept["kind"], kept["match"], kept["value"]) == ("container", "prefix", "MAEU555")

        matched = await post_message(
            client, officer_de, group_a, "seizure", body=_report("DE", [WATCHED_CONTAINER], "Acme")
        )
        await page.locator(
            ".notice", has_text="A new report matches one of your watches."
        ).wait_for()
        await watch.get_by_text("Matches").click()
        match = watch.locator('.watch-matches li[data-elsewhere="false"]')
        await match.wait_for()
        assert WATCHED_CONTAINER in await match.inner_text()
        link = match.get_by_role("link", name="Open the report")
        assert await link.get_attribute("href") == f"#/groups/{group_a['id']}"
        resp = await client.get(f"/api/v1/watches/{kept['id']}/matches", headers=officer_fr.auth)
        [found] = (await resp.json())["matches"]
        assert found["message_id"] == matched["id"] and found["elsewhere"] is False
        await _accessible(page)

        await watch.get_by_role("button", name="Stop watching").click()
        await watch.get_by_role("group").get_by_role("button", name="Stop watching").click()
        await expect(watch).to_have_count(0)
        await page.get_by_text("You are not watching anything.").wait_for()
        resp = await client.get("/api/v1/watches", headers=officer_fr.auth)
        assert (await resp.json())["watches"] == []
        officer.assert_clean()
