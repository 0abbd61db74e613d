"""The operation dashboard in Chromium: every chart drawn from the group's analytics, headline
figures equal to the API's, the period narrowing kept in the address, the CSV and the report
downloaded with the token, a new seizure report counted live without a reload, analytics across
groups for a RILO analyst on a phone, and the full demo operation's published totals."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from playwright.async_api import Page

from cencomm.appkeys import SERVICES
from cencomm.demo import DEMO_PASSWORD, seed_demo
from cencomm.demo_operation import GROUP_CODE, seed_operation
from cencomm.demo_reports import MEDICAL_SUPPLIES_UNITS, MEDICINES_UNITS, REPORTS, SANITIZER_LITRES
from cencomm.services.container import Services
from tests.browser.accessibility import serious_violations
from tests.browser.webclient import PHONE, RecordedPage, chromium, open_client, sign_in
from tests.factories import add_member, make_group, post_message, seizure_body
from tests.web.analytics_helpers import build_dataset, get_json

CHARTS = (
    "weeks",
    "products",
    "routes",
    "modes",
    "detection",
    "concealment",
    "infringement",
    "regions",
    "transit",
    "countries",
)
COUNTS = ("interceptions", "reporting_countries")
TOTALS = ("medicines_units", "medical_supplies_units", "sanitizer_litres")


def shown(value: float) -> str:
    """A figure as the English client writes it (Intl.NumberFormat("en"))."""
    return f"{value:,}" if float(value).is_integer() else f"{value:,.3f}".rstrip("0")


def figure(page: Page, name: str) -> Any:
    return page.locator(f'.figures [data-figure="{name}"] dd')


async def exactly(page: Page, name: str, text: str) -> None:
    """Wait until the headline figure `name` reads `text`."""
    await figure(page, name).filter(has_text=re.compile(f"^{re.escape(text)}$")).wait_for()


async def assert_charts_drawn(page: Page) -> None:
    for chart in CHARTS:
        svg = page.locator(f'svg.chart[data-chart="{chart}"]')
        assert await svg.count() == 1, chart
        box = await svg.bounding_box()
        assert box is not None and box["width"] > 0 and box["height"] > 0, chart
        assert await svg.locator("title").count() == 1 and await svg.locator("desc").count() == 1
        sizes = await svg.locator("rect.bar").evaluate_all(
            "bars => bars.map(bar => { const b = bar.getBoundingClientRect();"
            " return Math.min(b.width, b.height); })"
        )
        assert sizes and max(sizes) > 0, chart
        # The same figures as a table for screen readers.
        rows = page.locator(f'figure:has(svg[data-chart="{chart}"]) table tbody tr')
        assert await rows.count() == len(sizes), chart


async def assert_figures(page: Page, analytics: dict[str, Any]) -> None:
    for name in COUNTS:
        await exactly(page, name, shown(analytics[name]))
    for name in TOTALS:
        await exactly(page, name, shown(analytics["totals"][name]))


async def assert_accessible(page: Page) -> None:
    """axe-core finds no serious or critical violation."""
    assert await serious_violations(page) == []


def analytics_requests(recorded: RecordedPage) -> int:
    return sum(1 for url in recorded.requests if "/analytics" in url)


async def read_text(path: Path) -> str:
    return await asyncio.to_thread(path.read_text, encoding="utf-8")


async def assert_fits(recorded: RecordedPage) -> None:
    """The dashboard is no wider than the window, and nothing in it sticks out sideways."""
    fits = await recorded.page.locator("section.dashboard").evaluate(
        "s => s.getBoundingClientRect().right <= window.innerWidth"
        " && s.scrollWidth <= s.clientWidth"
    )
    assert fits


async def test_the_dashboard_draws_every_chart_counts_live_and_narrows_by_period(
    client: TestClient[Any, Any], tmp_path: Path
) -> None:
    data = await build_dataset(client)
    group_id = data.group["id"]
    analyst = data.analyst
    async with chromium() as browser:
        recorded = await open_client(browser, client)
        page = recorded.page
        await sign_in(recorded, analyst)
        # From the group's timeline, its header links to the dashboard.
        await page.goto(f"{recorded.origin}/#/groups/{group_id}")
        await page.get_by_role("link", name="Dashboard").click()
        await page.wait_for_url(f"**/#/groups/{group_id}/dashboard")
        await page.get_by_role("heading", name="Dashboard").first.wait_for()

        whole = await get_json(client, f"{data.url}/analytics", analyst)
        assert whole["interceptions"] == 5
        await assert_figures(page, whole)
        await assert_charts_drawn(page)
        await assert_accessible(page)
        routes = page.locator('table[data-table="routes"] tbody tr')
        assert await routes.count() == len(whole["routes"])
        countries = page.locator('table[data-table="countries"] tbody tr')
        assert await countries.count() == len(whole["by_country"])
        await assert_fits(recorded)

        # The CSV and the report are fetched with the token and saved from a blob: URL.
        async with page.expect_download() as csv_download:
            await page.locator('button[data-download="csv"]').click()
        csv_file = await (await csv_download.value).path()
        lines = (await read_text(csv_file)).splitlines()
        assert lines[0].startswith("message_id,seq,occurred_on,country")
        assert len(lines) > 1
        async with page.expect_download() as report_download:
            await page.locator('button[data-download="report"]').click()
        report = await report_download.value
        assert report.suggested_filename.endswith("_report.html")
        report_html = await read_text(await report.path())
        assert "Operation report" in report_html and 'data-chart="weeks"' in report_html

        # A seizure report posted elsewhere is counted without a reload; a text asks nothing.
        asked = analytics_requests(recorded)
        await post_message(client, data.senders["de"], data.group, "text", body={"text": "hi"})
        await page.wait_for_timeout(1500)  # the frame arrived; nothing was asked again
        assert analytics_requests(recorded) == asked
        await post_message(
            client, data.senders["fr"], data.group, "seizure", hc="TLP:GREEN", body=seizure_body()
        )
        now = await get_json(client, f"{data.url}/analytics", analyst)
        assert now["interceptions"] == 6
        await exactly(page, "interceptions", "6")
        await assert_figures(page, now)
        # Hiding a report (the `message.hidden` frame) takes it out live; unhiding brings it back.
        first_report = data.messages[0]["id"]
        resp = await client.post(
            f"/api/v1/messages/{first_report}/hide", json={"reason": "dup"}, headers=data.owner.auth
        )
        assert resp.status in (200, 204), await resp.text()
        await exactly(page, "interceptions", "5")
        resp = await client.post(f"/api/v1/messages/{first_report}/unhide", headers=data.owner.auth)
        assert resp.status in (200, 204), await resp.text()
        await exactly(page, "interceptions", "6")

        # Narrowing to May 2020 leaves the June report out; the period is kept in the address.
        await page.get_by_label("From", exact=True).fill("2020-05-01")
        await page.get_by_label("To", exact=True).fill("2020-05-31")
        await page.get_by_role("button", name="Apply").click()
        await page.wait_for_url("**/dashboard?from=2020-05-01&to=2020-05-31")
        may = await get_json(
            client, f"{data.url}/analytics", analyst, **{"from": "2020-05-01", "to": "2020-05-31"}
        )
        assert may["interceptions"] == 5 and may != now
        await assert_figures(page, may)
        await assert_charts_drawn(page)
        assert await page.get_by_role(
            "button", name="Download this period's seizures (CSV)"
        ).count()
        # Reloading the address shows the same period.
        await page.reload()
        await exactly(page, "interceptions", "5")
        assert await page.get_by_label("From", exact=True).input_value() == "2020-05-01"
        await assert_figures(page, may)
        # Back to the whole operation.
        await page.get_by_role("button", name="Whole operation").click()
        await page.wait_for_url(f"**/#/groups/{group_id}/dashboard")
        await assert_figures(page, now)
        recorded.assert_clean()


async def test_an_analyst_counts_several_groups_together_on_a_phone(
    client: TestClient[Any, Any],
) -> None:
    data = await build_dataset(client)
    other = await make_group(client, data.owner)
    await add_member(client, data.owner, other, data.analyst)
    await add_member(client, data.owner, other, data.senders["ng"])
    await post_message(
        client,
        data.senders["ng"],
        other,
        "seizure",
        body=seizure_body(
            "NG", occurred_on="2020-06-01", route={"origin": "CN", "destination": "NG"}
        ),
    )
    async with chromium() as browser:
        recorded = await open_client(browser, client, viewport=PHONE)
        page = recorded.page
        await sign_in(recorded, data.analyst)
        await page.get_by_role("link", name="Analytics").click()
        await page.get_by_role("heading", name="Analytics across groups").wait_for()
        for group in (data.group, other):
            await page.locator(f'input[name="group_id"][value="{group["id"]}"]').check()
        await page.get_by_role("button", name="Show the analytics of the chosen groups (2)").click()
        await page.wait_for_url("**/#/analytics?group_id=*")
        both = await get_json(
            client,
            "/api/v1/analytics",
            data.analyst,
            group_id=[data.group["id"], other["id"]],
        )
        assert both["interceptions"] == 6
        await assert_figures(page, both)
        await assert_charts_drawn(page)
        await assert_fits(recorded)
        await assert_accessible(page)
        # Live across groups too.
        await post_message(client, data.senders["ng"], other, "seizure", body=seizure_body("NG"))
        await exactly(page, "interceptions", "7")
        recorded.assert_clean()


async def test_an_officer_is_not_offered_analytics_across_groups(
    client: TestClient[Any, Any],
) -> None:
    data = await build_dataset(client)
    async with chromium() as browser:
        recorded = await open_client(browser, client)
        page = recorded.page
        await sign_in(recorded, data.senders["fr"])
        assert await page.get_by_role("link", name="Analytics").count() == 0
        await page.goto(f"{recorded.origin}/#/analytics?group_id={data.group['id']}")
        await page.get_by_text("Analytics across groups are for the Secretariat").wait_for()
        # Their own group's dashboard is theirs to see.
        await page.goto(f"{recorded.origin}/#/groups/{data.group['id']}/dashboard")
        mine = await get_json(client, f"{data.url}/analytics", data.senders["fr"])
        await assert_figures(page, mine)
        # Right to left (as the Arabic catalogue will set it), bars grow from the right and their
        # labels stay inside the chart.
        await page.evaluate("document.documentElement.dir = 'rtl'")
        await page.goto(f"{recorded.origin}/#/groups/{data.group['id']}/dashboard?from=2020-01-01")
        await exactly(page, "interceptions", shown(mine["interceptions"]))
        placed = await page.locator('svg.chart[data-chart="modes"]').evaluate(
            """svg => {
              const box = svg.getBoundingClientRect();
              const inside = [...svg.querySelectorAll("rect.bar, text")].every(e => {
                const b = e.getBoundingClientRect();
                return b.left >= box.left - 1 && b.right <= box.right + 1;
              });
              const flush = [...svg.querySelectorAll("rect.bar")].every(
                e => Math.abs(e.getBoundingClientRect().right - box.right) < 1);
              return inside && flush;
            }"""
        )
        assert placed
        recorded.assert_clean()


async def test_the_demo_operation_dashboard_shows_the_published_totals(
    client: TestClient[Any, Any],
) -> None:
    services: Services = client.app[SERVICES]
    await seed_demo(services)
    assert await seed_operation(services, services.settings.data.dir)
    async with chromium() as browser:
        recorded = await open_client(browser, client)
        page = recorded.page
        await page.get_by_label("Username").fill("rilo.weu")
        await page.get_by_label("Password").fill(DEMO_PASSWORD)
        await page.get_by_role("button", name="Sign in").click()
        await page.get_by_role("heading", name="Your groups").wait_for()
        await page.locator(f'[data-group="{GROUP_CODE}"] a').click()
        await page.get_by_role("link", name="Dashboard").click()
        await page.get_by_role("heading", name="Dashboard").first.wait_for()
        published = {
            "interceptions": "1,683",
            "medicines_units": "301,286,410",
            "medical_supplies_units": "47,356,219",
            "sanitizer_litres": "2,803,650",
        }
        assert REPORTS == 1683
        assert (MEDICINES_UNITS, MEDICAL_SUPPLIES_UNITS, SANITIZER_LITRES) == (
            301_286_410,
            47_356_219,
            2_803_650,
        )
        for name, text in published.items():
            await exactly(page, name, text)
        await assert_charts_drawn(page)
        recorded.assert_clean()
