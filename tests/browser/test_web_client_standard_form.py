"""The standard form in Chromium: a moderator creates a group on the standard form; in it, an
officer's seizure report opens the standard section (conveyance and a document required), the
check digits are checked in the browser (an air waybill, a container) with every error shown at
once and nothing sent, then corrected, signed, accepted, and shown with its conveyance,
documents, containers and parties."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from playwright.async_api import Page, expect

from cencomm.domain.users import Role
from tests.browser.accessibility import serious_violations
from tests.browser.webclient import chromium, open_client, sign_in
from tests.factories import add_member, make_member


def _field(page: Page, name: str) -> Any:
    return page.locator(f'.seizure-form :is(input, select, textarea)[data-field="{name}"]')


async def test_a_standard_form_report_is_checked_posted_and_shown(
    client: TestClient[Any, Any],
) -> None:
    mod = await make_member(client, Role.MODERATOR)
    officer = await make_member(client, Role.OFFICER)  # organisation in FR
    async with chromium() as browser:
        moderating = await open_client(browser, client)
        await sign_in(moderating, mod)
        page = moderating.page
        await page.goto(f"{moderating.origin}/#/moderation")
        await page.get_by_label("Code").fill("STD-2024")
        await page.get_by_label("Name").fill("Standard operation")
        await page.get_by_label("Seizure report form").select_option("standard")
        await page.get_by_role("button", name="Create the group").click()
        await page.locator('dd[data-report-form="standard"]').wait_for()
        resp = await client.get("/api/v1/groups", headers=mod.auth)
        [group] = [g for g in (await resp.json())["groups"] if g["code"] == "STD-2024"]
        assert group["report_form"] == "standard"
        resp = await client.patch(
            f"/api/v1/groups/{group['id']}", json={"status": "active"}, headers=mod.auth
        )
        assert resp.status == 200
        await add_member(client, mod, group, officer)
        moderating.assert_clean()

        reporting = await open_client(browser, client)
        page = reporting.page
        await sign_in(reporting, officer)
        await page.goto(f"{reporting.origin}/#/groups/{group['id']}")
        await page.get_by_role("heading", name=group["name"]).wait_for()
        await page.locator('.composer select[name="typ"]').select_option("seizure")
        # Required in this group: no box to tick, a conveyance for the transport mode (air) and
        # one document row are ready.
        section = page.locator('.seizure-standard[data-report-form="standard"]')
        await section.wait_for()
        assert await section.locator('input[name="standard-open"]').count() == 0
        await expect(_field(page, "body.conveyance.mode")).to_have_value("flight")
        await expect(_field(page, "body.documents[0].type")).to_have_value("awb")

        await page.get_by_label("Country of origin").fill("China")
        await page.get_by_label("Country of destination").fill("fr")
        await _field(page, "body.items[0].quantity").fill("500")
        await _field(page, "body.conveyance.flight_number").fill("LH 0400")
        await _field(page, "body.documents[0].number").fill("020-12345670")  # bad check digit
        await page.get_by_role("button", name="Add a container").click()
        await _field(page, "body.containers[0]").fill("CSQU 305438 4")  # bad check digit
        await page.get_by_role("button", name="Add a party").click()
        await _field(page, "body.parties[0].name").fill("Rotterdam Pharma B.V.")
        await page.get_by_role("button", name="Sign and send").click()

        expected = {
            "body.documents[0].number": "must be an air waybill number",
            "body.containers[0]": "must be an ISO 6346 container number",
            "body.parties[0].country": "is required",
        }
        problem = page.locator(".composer .problem")
        await problem.wait_for()
        listed = problem.locator("li[data-field]")
        assert sorted(await listed.evaluate_all("els => els.map(e => e.dataset.field)")) == sorted(
            expected
        )
        for name, message in expected.items():
            error = await page.locator(f'[data-error-for="{name}"]').inner_text()
            assert message in error, name
            assert await _field(page, name).get_attribute("aria-invalid") == "true", name
        assert "Document 1: Number" in await problem.inner_text()
        assert await serious_violations(page) == []  # the standard section, with its errors
        resp = await client.get(f"/api/v1/groups/{group['id']}/messages", headers=officer.auth)
        assert (await resp.json())["messages"] == []  # nothing was signed or sent

        await _field(page, "body.documents[0].number").fill("020-12345675")
        await _field(page, "body.containers[0]").fill("csqu 305438 3")
        await page.get_by_text("Read as CSQU3054383.").wait_for()
        await _field(page, "body.parties[0].country").fill("Netherlands")
        await page.get_by_role("button", name="Sign and send").click()
        report = page.locator('li.message[data-typ="seizure"]')
        await report.locator('[data-verified="true"]').wait_for()
        summary = await report.locator(".seizure-summary").inner_text()
        for words in (
            "Flight",
            "LH 0400",
            "Air waybill",
            "020-12345675",
            "CSQU3054383",
            "Consignee",
            "Rotterdam Pharma B.V.",
            "Netherlands (NL)",
        ):
            assert words in summary, words
        assert await serious_violations(page) == []  # the report with its standard form

        resp = await client.get(f"/api/v1/groups/{group['id']}/messages", headers=officer.auth)
        [posted] = (await resp.json())["messages"]
        body = posted["content"]["body"]
        assert body["conveyance"] == {"mode": "flight", "flight_number": "LH 0400"}
        assert body["documents"] == [{"type": "awb", "number": "020-12345675"}]
        assert body["containers"] == ["CSQU3054383"]
        assert body["parties"] == [
            {"role": "consignee", "name": "Rotterdam Pharma B.V.", "country": "NL"}
        ]
        reporting.assert_clean()

        # The group's settings move it back to the simplified form: the section becomes optional.
        page = moderating.page
        await page.goto(f"{moderating.origin}/#/groups/{group['id']}/manage")
        await page.get_by_text("Name, description, end date and report form").click()
        await page.locator("#settings-report-form").select_option("simplified")
        await page.get_by_role("button", name="Save changes").click()
        await page.locator('dd[data-report-form="simplified"]').wait_for()
        resp = await client.get(f"/api/v1/groups/{group['id']}", headers=mod.auth)
        assert (await resp.json())["report_form"] == "simplified"
        page = reporting.page
        await page.reload()
        await page.get_by_role("heading", name=group["name"]).wait_for()
        await page.locator('.composer select[name="typ"]').select_option("seizure")
        box = page.get_by_label(
            "Add the standard form's fields (conveyance, documents, containers, parties)"
        )
        await expect(box).not_to_be_checked()
        assert await page.locator(".standard-conveyance").count() == 0
        await box.check()
        await expect(_field(page, "body.conveyance.mode")).to_have_value("flight")
        moderating.assert_clean()
        reporting.assert_clean()
