"""Seizure reports and attachments in Chromium: a report with several field errors, all shown at
once (found by the browser, then one only the server can know), corrected, accepted and shown
verified with its summary; files attached by picker and by drag and drop with their progress, a
preview, posted with a message and downloaded again; a file waiting for its malware scan (no
preview, no download) until the scan completes, and a refused type shown with its problem; the
form's limits (transit countries, items), units by category, and its fit on a phone."""

from __future__ import annotations

import base64
import hashlib
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from PIL import Image
from playwright.async_api import Browser, Page, expect
from pytest_aiohttp import AiohttpClient
from sqlalchemy import update

from cencomm.app import create_app
from cencomm.appkeys import DATABASE
from cencomm.domain.attachments import BlobStatus
from cencomm.domain.users import Role
from cencomm.settings import Settings
from cencomm.storage.changes import Changed, mark
from cencomm.storage.tables import OrganizationRow
from cencomm.storage.unit import Unit
from tests.browser.webclient import (
    DESKTOP,
    PHONE,
    RecordedPage,
    chromium,
    new_page,
    open_client,
    origin_of,
    sign_in,
)
from tests.factories import Member, add_member, make_group, make_member
from tests.web.attachment_helpers import attachment_settings


async def _set_org_country(client: TestClient[Any, Any], member: Member, country: str) -> None:
    change = (
        update(OrganizationRow)
        .where(OrganizationRow.id == member.organization.id)
        .values(country=country)
    )

    def write(unit: Unit) -> None:
        # Raw SQL: no store changes an organisation's country. Marked as a store would mark
        # it, so the server's post-context cache forgets the old country.
        unit._session.execute(change)
        mark(unit._session, Changed.POSTING)

    await client.app[DATABASE].write(write)


def _field(page: Page, name: str) -> Any:
    return page.locator(f'.seizure-form :is(input, select, textarea)[data-field="{name}"]')


async def _error_text(page: Page, name: str) -> str:
    return await page.locator(f'[data-error-for="{name}"]').inner_text()


async def _messages(client: TestClient[Any, Any], member: Member, group: dict[str, Any]) -> Any:
    resp = await client.get(f"/api/v1/groups/{group['id']}/messages", headers=member.auth)
    assert resp.status == 200
    return (await resp.json())["messages"]


async def _open_expecting(
    browser: Browser, client: TestClient[Any, Any], status: int
) -> RecordedPage:
    """A page on which one kind of refusal by the server is expected: Chromium logs every answer
    with an error status as a console error; that status is allowed, nothing else."""
    context = await browser.new_context(viewport=DESKTOP)  # type: ignore[arg-type]
    recorded = await new_page(context, origin_of(client), allow=(f"status of {status}",))
    await recorded.page.goto(str(client.make_url("/")))
    return recorded


async def _world(client: TestClient[Any, Any]) -> tuple[Member, dict[str, Any]]:
    mod = await make_member(client, Role.MODERATOR, with_key=True)
    group = await make_group(client, mod)
    officer = await make_member(client, Role.OFFICER)  # organisation in FR
    await add_member(client, mod, group, officer)
    return officer, group


async def test_a_seizure_report_shows_every_error_then_is_accepted_and_shown_verified(
    client: TestClient[Any, Any],
) -> None:
    officer, group = await _world(client)
    async with chromium() as browser:
        recorded = await _open_expecting(browser, client, 422)
        page = recorded.page
        await sign_in(recorded, officer)
        await page.goto(f"{recorded.origin}/#/groups/{group['id']}")
        await page.get_by_role("heading", name=group["name"]).wait_for()
        await page.locator('.composer select[name="typ"]').select_option("seizure")

        # The reporting country is the organisation's, filled in and read-only.
        country = _field(page, "body.country")
        assert await country.input_value() == "France (FR)"
        assert await country.get_attribute("readonly") is not None

        # Several mistakes at once.
        await _field(page, "body.occurred_on").fill("1999-12-31")
        await page.get_by_label("Country of origin").fill("Narnia")
        await page.get_by_role("button", name="Add a transit country").click()
        await page.get_by_label("Transit country 1", exact=True).fill("ZZ")
        await _field(page, "body.items[0].quantity").fill("-3")
        await _field(page, "body.items[0].hs_code").fill("12.34")
        await page.get_by_role("button", name="Add an item").click()
        await _field(page, "body.items[1].category").select_option("sanitizer")
        # Sanitizer is counted in litres: changing the category fixed the unit.
        await expect(_field(page, "body.items[1].unit")).to_have_value("litres")
        await expect(_field(page, "body.items[1].unit").locator("option")).to_have_text(["litres"])
        await _field(page, "body.items[1].quantity").fill("lots")
        await page.get_by_role("button", name="Sign and send").click()

        expected = {
            "body.occurred_on": "must lie between 2000-01-01 and",
            "body.route.origin": "must be a country from the list",
            "body.route.destination": "is required",
            "body.route.transit[0]": "must be a country from the list",
            "body.items[0].quantity": "must be greater than zero",
            "body.items[0].hs_code": "must be 6 to 10 digits",
            "body.items[1].quantity": "must be a number",
        }
        problem = page.locator(".composer .problem")
        await problem.wait_for()
        listed = problem.locator("li[data-field]")
        assert sorted(await listed.evaluate_all("els => els.map(e => e.dataset.field)")) == sorted(
            expected
        )
        for name, message in expected.items():
            assert message in await _error_text(page, name), name
            assert await _field(page, name).get_attribute("aria-invalid") == "true", name
            described = await _field(page, name).get_attribute("aria-describedby") or ""
            assert await page.locator(f'[data-error-for="{name}"]').get_attribute("id") in (
                described.split()
            )
        assert "Item 2: Quantity" in await problem.inner_text()
        assert await _messages(client, officer, group) == []  # nothing was signed or sent

        # Corrected in the browser; meanwhile the organisation moved to another country, which
        # only the server knows: its answer lands on the country field.
        await _set_org_country(client, officer, "DE")
        await _field(page, "body.occurred_on").fill("2024-03-15")
        await page.get_by_label("Place (port, airport, office)").fill("Le Havre port")
        await page.get_by_label("Mode of transport").select_option("sea")
        await page.get_by_label("Country of origin").fill("China")
        await page.get_by_label("Transit country 1", exact=True).fill("United Arab Emirates (AE)")
        await page.get_by_label("Country of destination").fill("fr")
        await _field(page, "body.items[0].quantity").fill("1200")
        await _field(page, "body.items[0].hs_code").fill("3004.90")
        await _field(page, "body.items[0].description").fill("Chloroquine tablets")
        await _field(page, "body.items[1].quantity").fill("250.5")
        await page.get_by_label("Detection").select_option("xray")
        await page.get_by_label("Concealment").select_option("hidden_in_cargo")
        await page.get_by_label("Infringement").select_option("counterfeit")
        await page.get_by_label("Notes").fill("Declared as textiles")
        # Each corrected field drops its error at once.
        await expect(page.locator('[data-error-for="body.items[0].quantity"]')).to_have_count(0)
        await page.get_by_role("button", name="Sign and send").click()
        await page.locator('.composer .problem li[data-field="body.country"]').wait_for()
        assert "must be your organisation's country (DE)" in await _error_text(page, "body.country")
        assert await country.get_attribute("aria-invalid") == "true"
        assert await page.locator(".composer [data-error-for]").count() == 1
        assert await _messages(client, officer, group) == []

        # Back in France: the same report is accepted.
        await _set_org_country(client, officer, "FR")
        await page.get_by_role("button", name="Sign and send").click()
        shown = page.locator('li.message[data-typ="seizure"]')
        await shown.locator('[data-verified="true"]').wait_for()
        assert await page.locator(".composer .problem").count() == 0
        summary = await shown.locator(".seizure-summary").inner_text()
        for words in (
            "Seizure report from France (FR)",
            "Mar 15, 2024",
            "Le Havre port",
            "China (CN)",
            "United Arab Emirates (AE)",
            "Sea",
            "X-ray",
            "Hidden in cargo",
            "Counterfeit",
            "Medicines",
            "Chloroquine tablets",
            "1,200 units",
            "3004.90",
            "Sanitizer",
            "250.5 litres",
            "Declared as textiles",
        ):
            assert words in summary, words
        route = shown.locator(".route-stop")
        assert await route.evaluate_all("els => els.map(e => e.dataset.code)") == ["CN", "AE", "FR"]

        [message] = await _messages(client, officer, group)
        assert message["typ"] == "seizure"
        assert message["content"]["body"] == {
            "occurred_on": "2024-03-15",
            "country": "FR",
            "location": "Le Havre port",
            "transport_mode": "sea",
            "route": {"origin": "CN", "transit": ["AE"], "destination": "FR"},
            "items": [
                {
                    "category": "medicines",
                    "description": "Chloroquine tablets",
                    "quantity": 1200,
                    "unit": "units",
                    "hs_code": "3004.90",
                },
                {"category": "sanitizer", "quantity": 250.5, "unit": "litres"},
            ],
            "infringement": "counterfeit",
            "detection": "xray",
            "concealment": "hidden_in_cargo",
            "notes": "Declared as textiles",
        }
        recorded.assert_clean()


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (48, 32), (200, 40, 40)).save(out, format="PNG")
    return out.getvalue()


_DROP = """async ([name, type, b64]) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, { type }));
  const zone = document.querySelector("form.composer");
  for (const kind of ["dragenter", "dragover", "drop"]) {
    const init = { bubbles: true, cancelable: true, dataTransfer: transfer };
    zone.dispatchEvent(new DragEvent(kind, init));
  }
}"""

# Notes every <progress> the page shows, so a fast upload's progress is not missed.
_WATCH_PROGRESS = """() => {
  window.__progressSeen = 0;
  new MutationObserver(() => {
    window.__progressSeen += document.querySelectorAll(".attachments-picker progress").length;
  }).observe(document.body, { childList: true, subtree: true, attributes: true });
}"""


async def test_attachments_upload_with_progress_preview_post_and_download(
    client: TestClient[Any, Any], tmp_path: Path
) -> None:
    officer, group = await _world(client)
    png = _png()
    async with chromium() as browser:
        recorded = await open_client(browser, client, viewport=PHONE)
        page = recorded.page
        await sign_in(recorded, officer)
        await page.goto(f"{recorded.origin}/#/groups/{group['id']}")
        await page.get_by_role("heading", name=group["name"]).wait_for()
        await page.evaluate(_WATCH_PROGRESS)

        # By the file picker: an image, uploaded with its progress, then previewed.
        await page.locator('.attachments-picker input[type="file"]').set_input_files(
            {"name": "pallets.png", "mimeType": "image/png", "buffer": png}
        )
        uploaded = page.locator(
            '.attachments-picker li[data-state="uploaded"]', has_text="pallets.png"
        )
        await uploaded.wait_for()
        assert await page.evaluate("window.__progressSeen") > 0
        await expect(page.locator(".attachments-picker progress")).to_have_count(0)
        assert "PNG" in await uploaded.inner_text()
        assert await uploaded.locator('[data-scan="clean"]').inner_text() == "Ready"
        preview = uploaded.locator("img.thumb")
        await preview.wait_for()
        assert (await preview.get_attribute("src") or "").startswith("blob:")
        await page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=await preview.element_handle()
        )
        assert await preview.get_attribute("alt") == "Preview of pallets.png"

        # By drag and drop onto the composer: a text file.
        manifest = b"container;seal\nMSKU1234565;A-77\n"
        await page.evaluate(
            _DROP, ["manifest.txt", "text/plain", base64.b64encode(manifest).decode()]
        )
        await page.locator(
            '.attachments-picker li[data-state="uploaded"]', has_text="manifest.txt"
        ).wait_for()

        await page.get_by_label("Message", exact=True).fill("Photo of the pallets and the manifest")
        await page.get_by_role("button", name="Sign and send").click()
        shown = page.locator("li.message", has_text="Photo of the pallets")
        await shown.locator('[data-verified="true"]').wait_for()
        # The composer is empty again.
        await expect(page.locator(".attachments-picker li")).to_have_count(0)

        refs = shown.locator(".attachment-refs li")
        await expect(refs).to_have_count(2)
        picture = shown.locator("li.attachment", has_text="pallets.png")
        thumb = picture.locator("img.thumb")
        await thumb.wait_for()
        await page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=await thumb.element_handle()
        )
        async with page.expect_download() as info:
            await picture.get_by_role("button", name="Download pallets.png").click()
        downloaded = await info.value
        assert downloaded.suggested_filename == "pallets.png"
        target = tmp_path / "pallets.png"
        await downloaded.save_as(target)
        assert target.read_bytes() == png

        [message] = await _messages(client, officer, group)
        att = message["content"]["att"]
        assert [(a["name"], a["type"], a["size"]) for a in att] == [
            ("pallets.png", "image/png", len(png)),
            ("manifest.txt", "text/plain", len(manifest)),
        ]
        recorded.assert_clean()


async def test_an_attachment_waiting_for_its_scan_and_a_refused_type(
    aiohttp_client: AiohttpClient, settings: Settings, tmp_path: Path
) -> None:
    # A scanner that cannot be reached leaves every new upload pending (never served).
    down = attachment_settings(settings, scanner="clamd", clamd_address=str(tmp_path / "gone"))
    client = await aiohttp_client(create_app(down))
    officer, group = await _world(client)
    png = _png()
    async with chromium() as browser:
        recorded = await _open_expecting(browser, client, 415)
        page = recorded.page
        await sign_in(recorded, officer)
        await page.goto(f"{recorded.origin}/#/groups/{group['id']}")
        await page.get_by_role("heading", name=group["name"]).wait_for()
        picker = page.locator(".attachments-picker")
        file_input = picker.locator('input[type="file"]')

        # A type off the server's allow-list: its 415 is shown with the file.
        await file_input.set_input_files(
            {"name": "anim.gif", "mimeType": "image/gif", "buffer": b"GIF89a" + bytes(20)}
        )
        failed = picker.locator('li[data-state="failed"]', has_text="anim.gif")
        await failed.locator('.problem[data-slug="unsupported-attachment-type"]').wait_for()
        assert "This file type is not accepted" in await failed.inner_text()
        await failed.get_by_role("button", name="Dismiss").click()
        await expect(failed).to_have_count(0)

        await file_input.set_input_files(
            {"name": "seal.png", "mimeType": "image/png", "buffer": png}
        )
        uploaded = picker.locator('li[data-state="uploaded"]', has_text="seal.png")
        await uploaded.locator('[data-scan="pending"]').wait_for()
        assert "Preview after the scan" in await uploaded.inner_text()
        assert await uploaded.locator("img").count() == 0
        await page.get_by_label("Message", exact=True).fill("Seal photo, scan pending")
        await page.get_by_role("button", name="Sign and send").click()

        shown = page.locator("li.message", has_text="Seal photo")
        await shown.locator('[data-verified="true"]').wait_for()
        ref = shown.locator("li.attachment", has_text="seal.png")
        await ref.locator('[data-scan="pending"]').wait_for()
        download = ref.get_by_role("button", name="Download seal.png")
        await expect(download).to_be_disabled()

        # The scan completes: the page notices, shows the preview and lets it be downloaded.
        sha256 = hashlib.sha256(png).hexdigest()
        await client.app[DATABASE].write(
            lambda unit: unit.attachments.set_status(
                sha256, BlobStatus.CLEAN, None, datetime.now(UTC)
            )
        )
        thumb = ref.locator("img.thumb")
        await thumb.wait_for()
        await page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=await thumb.element_handle()
        )
        await expect(ref.locator("[data-scan]")).to_have_count(0)
        async with page.expect_download() as info:
            await download.click()
        target = tmp_path / "seal.png"
        await (await info.value).save_as(target)
        assert target.read_bytes() == png
        recorded.assert_clean()
    await client.close()


async def test_the_report_form_keeps_to_the_limits_and_fits_a_phone(
    client: TestClient[Any, Any],
) -> None:
    officer, group = await _world(client)
    async with chromium() as browser:
        recorded = await open_client(browser, client, viewport=PHONE)
        page = recorded.page
        await sign_in(recorded, officer)
        await page.goto(f"{recorded.origin}/#/groups/{group['id']}")
        await page.get_by_role("heading", name=group["name"]).wait_for()
        await page.locator('.composer select[name="typ"]').select_option("seizure")

        add_transit = page.get_by_role("button", name="Add a transit country")
        for _ in range(10):
            await add_transit.click()
        await expect(add_transit).to_be_disabled()  # at most 10 transit countries
        await page.get_by_role("button", name="Remove transit country 3").click()
        await expect(page.locator(".transit-leg")).to_have_count(9)
        await expect(add_transit).to_be_enabled()

        add_item = page.get_by_role("button", name="Add an item")
        await expect(page.get_by_role("button", name="Remove item 1")).to_be_disabled()
        for _ in range(49):
            await add_item.click()
        await expect(page.locator("fieldset.seizure-item")).to_have_count(50)
        await expect(add_item).to_be_disabled()  # at most 50 items
        assert "50 of at most 50 items" in await page.locator(".seizure-items").inner_text()

        # Units follow the category both ways.
        unit = _field(page, "body.items[49].unit")
        await _field(page, "body.items[49].unit").select_option("kg")
        await _field(page, "body.items[49].category").select_option("sanitizer")
        await expect(unit).to_have_value("litres")
        await _field(page, "body.items[49].category").select_option("gloves")
        await expect(unit).to_have_value("units")
        await expect(unit.locator("option")).to_have_text(["units", "kg"])

        # The country suggestions are all there after every change: 249, by name with the code.
        suggestions = page.locator("datalist#seizure-countries option")
        assert await suggestions.count() == 249
        values = await suggestions.evaluate_all("els => els.map(e => e.value)")
        assert "France (FR)" in values and "United Arab Emirates (AE)" in values

        # Nothing is wider than the phone's screen.
        width = await page.evaluate("document.scrollingElement.scrollWidth")
        assert width <= PHONE["width"], width
        recorded.assert_clean()
