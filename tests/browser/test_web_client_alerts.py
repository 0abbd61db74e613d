"""Alerts in Chromium: an analyst writes and signs an alert in the composer; an officer in another
browser sees it arrive live (the flash banner), opens it from the inbox and acknowledges it, first
received then seized with a link to their seizure report, while the analyst's board follows
without a reload; the link of the notification e-mail (`/#/alerts/<id>`) opens the alert after
sign-in; the composer shows every field error at once; an overdue organisation shows live on
the board and the alert reaches its region's RILO."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiohttp.test_utils import TestClient
from playwright.async_api import expect

from cencomm.appkeys import SERVICES
from cencomm.crypto.jws import parse_compact, verify_signature
from cencomm.crypto.keys import b64url_decode
from cencomm.domain.users import OrganizationKind, Region, Role
from tests.browser.accessibility import serious_violations
from tests.browser.webclient import (
    PHONE,
    RecordedPage,
    chromium,
    group_with_officer,
    new_page,
    open_client,
    origin_of,
    sign_in,
)
from tests.factories import (
    Member,
    add_member,
    make_group,
    make_member,
    make_organization,
    post_message,
    seizure_body,
)
from tests.web.live_helpers import send_alert


async def sign_in_on_link(recorded: RecordedPage, member: Member) -> None:
    """Sign in on a page opened on a deep link: the screen of the link shows, not the groups."""
    page = recorded.page
    await page.get_by_label("Username").fill(member.user.username)
    await page.get_by_label("Password").fill(member.password)
    await page.get_by_role("button", name="Sign in").click()


async def test_an_alert_composed_in_the_browser_is_acknowledged_live_in_another(
    client: TestClient[Any, Any],
) -> None:
    mod = await make_member(client, Role.MODERATOR, with_key=True)
    group = await make_group(client, mod)
    analyst = await make_member(client, Role.ANALYST)
    officer = await make_member(client, Role.OFFICER, with_key=True)
    await add_member(client, mod, group, analyst)
    await add_member(client, mod, group, officer)
    report = await post_message(client, officer, group, "seizure", body=seizure_body())
    title = "Falsified chloroquine via CN-AE"

    async with chromium() as browser:
        sender = await open_client(browser, client)
        receiver = await open_client(browser, client, viewport=PHONE)
        await sign_in(sender, analyst)
        await sign_in(receiver, officer)

        # The analyst writes the alert: a flash, TLP:AMBER, to the group, answer required.
        page = sender.page
        await page.get_by_role("link", name="Alerts").click()
        await page.get_by_role("link", name="New alert").click()
        await page.get_by_role("heading", name="New alert").wait_for()
        await page.get_by_label("Title").fill(title)
        await page.get_by_label("Text").fill("Check consignments of tablets declared as textiles.")
        await page.get_by_label("Priority").select_option("flash")
        await page.get_by_role("checkbox", name=group["code"]).check()
        assert await serious_violations(page) == []
        await page.get_by_role("button", name="Sign and send the alert").click()
        # The analyst lands on the alert's board: the officer's organisation is waiting.
        await page.get_by_role("heading", name=title).wait_for()
        row = page.locator(f'tr[data-org="{officer.organization.id}"]')
        await expect(row).to_have_attribute("data-state", "pending")
        await page.evaluate("window.__notReloaded = true")

        # The officer's page shows the flash banner live; the sound is off by default.
        officer_page = receiver.page
        banner = officer_page.get_by_role("alert").filter(has_text=title)
        await banner.wait_for()
        await officer_page.get_by_role("link", name="Alerts").click()
        await expect(officer_page.get_by_label("Sound for flash alerts")).not_to_be_checked()
        item = officer_page.locator("li.alert-item", has_text=title)
        await expect(item).to_have_attribute("data-unread", "true")
        await expect(item.locator('[data-priority="flash"]')).to_be_visible()
        assert await serious_violations(officer_page) == []  # the inbox, with the flash banner
        await item.get_by_role("link").click()

        # Opened: verified in the browser, no longer unread, the banner gone.
        await officer_page.get_by_role("heading", name=title).wait_for()
        await officer_page.locator('.alert-detail [data-verified="true"]').wait_for()
        await expect(banner).to_have_count(0)
        assert analyst.user.display_name in await officer_page.locator("dd.sender").inner_text()

        # Received: the analyst's board follows live.
        my_answer = officer_page.locator(".ack-status")
        await officer_page.get_by_role("button", name="Acknowledge receipt").click()
        await expect(my_answer).to_have_attribute("data-outcome", "received")
        await expect(row).to_have_attribute("data-outcome", "received")
        await expect(row).to_have_attribute("data-state", "acknowledged")
        # Only forward steps are offered.
        received = officer_page.get_by_role("button", name="Acknowledge receipt")
        await expect(received).to_have_count(0)

        # Seized, linking the officer's own seizure report from the list.
        await officer_page.get_by_role("button", name="Seized…").click()
        await officer_page.get_by_label("Your seizure report").select_option(report["id"])
        assert await serious_violations(officer_page) == []  # the alert, the seizure link
        await officer_page.get_by_role("button", name="Record the seizure").click()
        await expect(my_answer).to_have_attribute("data-outcome", "seized")
        await expect(row).to_have_attribute("data-outcome", "seized")
        await expect(page.locator(".board-summary")).to_have_attribute("data-acknowledged", "1")
        assert await page.evaluate("window.__notReloaded") is True
        assert await serious_violations(page) == []  # the board

        # What the browser signed verifies in Python; the ack links the report.
        resp = await client.get("/api/v1/alerts", headers=officer.auth)
        [alert] = (await resp.json())["alerts"]
        assert alert["my_ack"]["outcome"] == "seized"
        assert alert["my_ack"]["seizure_message_id"] == report["id"]
        resp = await client.get(f"/api/v1/users/{analyst.id}/keys", headers=officer.auth)
        [key] = (await resp.json())["keys"]
        parsed = parse_compact(alert["jws"])
        assert verify_signature(parsed, b64url_decode(key["public_key"]))
        assert "grp" not in parsed.payload
        assert parsed.payload["to"] == {"groups": [group["id"]]}
        assert parsed.payload["body"]["priority"] == "flash"
        sender.assert_clean()
        receiver.assert_clean()


async def test_the_email_link_opens_the_alert_after_sign_in(client: TestClient[Any, Any]) -> None:
    mod, group, officer = await group_with_officer(client)
    to = {"groups": [group["id"]]}
    respond_by = int(time.time()) + 2
    late = await send_alert(
        client, mod, to, priority="routine", title="Answer quickly", respond_by=respond_by
    )
    sent = await send_alert(client, mod, to, priority="immediate", title="Masks lot 7 recalled")
    async with chromium() as browser:
        context = await browser.new_context()
        recorded = await new_page(context, origin_of(client))
        await recorded.page.goto(f"{recorded.origin}/#/alerts/{sent['id']}")
        await sign_in_on_link(recorded, officer)
        page = recorded.page
        await page.get_by_role("heading", name="Masks lot 7 recalled").wait_for()
        assert page.url.endswith(f"#/alerts/{sent['id']}")
        await page.locator('.alert-detail [data-verified="true"]').wait_for()
        await expect(page.get_by_role("button", name="Acknowledge receipt")).to_be_visible()

        # In the inbox: that one opened, the other unread and, its deadline passed, overdue.
        await asyncio.sleep(max(0.0, respond_by + 1 - time.time()))
        await page.get_by_role("link", name="Back to alerts").click()
        opened = page.locator(f'li.alert-item[data-id="{sent["id"]}"]')
        await expect(opened).to_have_attribute("data-unread", "false")
        overdue = page.locator(f'li.alert-item[data-id="{late["id"]}"]')
        await expect(overdue).to_have_attribute("data-unread", "true")
        await expect(overdue).to_have_attribute("data-overdue", "true")
        await expect(page.get_by_role("navigation").locator(".count")).to_have_text("1")

        # The flash sound: off until switched on, then remembered in this browser.
        switch = page.get_by_label("Sound for flash alerts")
        await expect(switch).not_to_be_checked()
        await switch.check()
        await page.reload()
        await expect(page.get_by_label("Sound for flash alerts")).to_be_checked()
        recorded.assert_clean()


async def test_the_composer_shows_every_field_error_and_the_red_rule(
    client: TestClient[Any, Any],
) -> None:
    mod = await make_member(client, Role.MODERATOR, with_key=True)
    group = await make_group(client, mod)
    analyst = await make_member(client, Role.ANALYST)
    await add_member(client, mod, group, analyst)
    async with chromium() as browser:
        # The server's refusal (422) is expected: Chromium logs every failed request.
        context = await browser.new_context()
        recorded = await new_page(context, origin_of(client), allow=("status of 422",))
        await recorded.page.goto(f"{recorded.origin}/#/alerts/new")
        await sign_in_on_link(recorded, analyst)
        page = recorded.page
        await page.get_by_role("heading", name="New alert").wait_for()
        # Analysts may not read the directory: the organisations offered are explained.
        await page.get_by_text("cannot read the whole directory").wait_for()
        await page.get_by_role("button", name="Sign and send the alert").click()
        errors = page.locator(".problem li")
        await expect(errors).to_have_count(3)  # title, text, no recipient
        await page.get_by_label("Title").fill("Red alert")
        await page.get_by_label("Text").fill("Named recipients only")
        await page.get_by_label("Handling (TLP)").select_option("TLP:RED")
        await page.get_by_role("checkbox", name="Europe").check()
        await page.get_by_role("button", name="Sign and send the alert").click()
        await expect(errors).to_have_count(1)
        await expect(page.locator('.problem li[data-field="to.regions"]')).to_be_visible()
        # The server's own problems are shown too: the analyst's own organisation reaches nobody
        # but the analyst, which the server refuses.
        await page.get_by_role("checkbox", name="Europe").uncheck()
        await page.get_by_role("checkbox", name=analyst.organization.name).check()
        await page.get_by_role("button", name="Sign and send the alert").click()
        await page.locator('.problem[data-slug="no-recipients"]').wait_for()
        await expect(page.locator("#err-to li")).to_have_count(1)
        # To the group instead: sent, and the analyst sees the alert with its board.
        await page.get_by_role("checkbox", name=analyst.organization.name).uncheck()
        await page.get_by_role("checkbox", name=group["code"]).check()
        await page.get_by_role("button", name="Sign and send the alert").click()
        await page.get_by_role("heading", name="Red alert").wait_for()
        await page.locator(f'tr[data-org="{mod.organization.id}"]').wait_for()
        resp = await client.get("/api/v1/alerts", headers=mod.auth)
        [alert] = (await resp.json())["alerts"]
        assert alert["hc"] == "TLP:RED"
        assert alert["content"]["to"] == {"groups": [group["id"]]}
        recorded.assert_clean()


async def test_overdue_organisations_show_live_on_the_board_and_reach_the_regions_rilo(
    client: TestClient[Any, Any],
) -> None:
    analyst = await make_member(client, Role.ANALYST, with_key=True)
    fr_org = await make_organization(client, country="FR", region=Region.EUROPE)
    jp_org = await make_organization(client, country="JP", region=Region.ASIA_PACIFIC)
    fr = await make_member(client, Role.OFFICER, organization=fr_org)
    jp = await make_member(client, Role.OFFICER, organization=jp_org)
    rilo_eu = await make_organization(
        client, kind=OrganizationKind.RILO, country=None, region=Region.EUROPE
    )
    rilo = await make_member(client, Role.ANALYST, organization=rilo_eu)
    async with chromium() as browser:
        board_page = await open_client(browser, client)
        rilo_page = await open_client(browser, client, viewport=PHONE)
        await sign_in(board_page, analyst)
        await sign_in(rilo_page, rilo)
        # Sent once both are signed in, answerable within a few seconds.
        respond_by = int(time.time()) + 6
        to = {"organizations": [str(fr_org.id), str(jp_org.id)]}
        sent = await send_alert(client, analyst, to, title="Answer by noon", respond_by=respond_by)
        page = board_page.page
        await page.goto(f"{board_page.origin}/#/alerts/{sent['id']}")
        fr_row = page.locator(f'tr[data-org="{fr_org.id}"]')
        jp_row = page.locator(f'tr[data-org="{jp_org.id}"]')
        await expect(fr_row).to_have_attribute("data-state", "pending")
        await rilo_page.page.get_by_role("link", name="Alerts").click()
        await rilo_page.page.get_by_text("No alerts yet.").wait_for()

        resp = await client.post(f"/api/v1/alerts/{sent['id']}/ack", json={}, headers=jp.auth)
        assert resp.status == 200  # Japan answers in time
        await expect(jp_row).to_have_attribute("data-state", "acknowledged")
        await asyncio.sleep(max(0.0, respond_by + 1 - time.time()))
        # The server's background sweep may come first; either sweep tells once.
        await client.app[SERVICES].alert_deadlines.sweep_once()

        # France is overdue on the sender's board, and the alert reaches Europe's RILO live.
        await expect(fr_row).to_have_attribute("data-state", "overdue")
        await expect(page.locator(".board-summary")).to_contain_text("1 overdue")
        escalated = rilo_page.page.locator(f'li.alert-item[data-id="{sent["id"]}"]')
        await expect(escalated).to_have_attribute("data-unread", "true")
        await escalated.get_by_role("link").click()
        await rilo_page.page.get_by_text("Escalated to your RILO").wait_for()
        await expect(rilo_page.page.locator(f'tr[data-org="{fr_org.id}"]')).to_have_attribute(
            "data-state", "overdue"
        )
        await expect(
            rilo_page.page.get_by_role("button", name="Acknowledge receipt")
        ).to_have_count(0)

        # France answers late: both boards follow.
        resp = await client.post(
            f"/api/v1/alerts/{sent['id']}/ack", json={"outcome": "controlled"}, headers=fr.auth
        )
        assert resp.status == 200
        await expect(fr_row).to_have_attribute("data-outcome", "controlled")
        await expect(rilo_page.page.locator(f'tr[data-org="{fr_org.id}"]')).to_have_attribute(
            "data-outcome", "controlled"
        )
        board_page.assert_clean()
        rilo_page.assert_clean()
