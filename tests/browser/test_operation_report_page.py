"""The operation report in headless Chromium: every chart drawn, no console error, and no
request to any other origin (every request is recorded)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from aiohttp.test_utils import TestClient
from playwright.async_api import ConsoleMessage, Request, async_playwright

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.web.analytics_helpers import build_dataset

CHARTS = ("products", "routes", "weeks", "modes", "concealment", "detection", "regions")
TIMEOUT_MS = 30_000


async def test_the_report_draws_every_chart_from_its_own_origin(
    client: TestClient[Any, Any],
) -> None:
    data = await build_dataset(client)
    url = str(client.make_url(f"{data.url}/report"))
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
    requests: list[str] = []
    problems: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            context = await browser.new_context(
                extra_http_headers={"Authorization": f"Bearer {data.owner.access_token}"}
            )
            page = await context.new_page()
            page.set_default_timeout(TIMEOUT_MS)

            def on_console(message: ConsoleMessage) -> None:
                if message.type in ("error", "warning"):
                    problems.append(f"console {message.type}: {message.text}")

            def on_request(request: Request) -> None:
                requests.append(request.url)

            page.on("console", on_console)
            page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
            page.on("request", on_request)
            response = await page.goto(url, wait_until="load")
            assert response is not None and response.status == 200
            for chart in CHARTS:
                svg = page.locator(f'svg.chart[data-chart="{chart}"]')
                assert await svg.count() == 1, chart
                box = await svg.bounding_box()
                assert box is not None and box["width"] > 0 and box["height"] > 0, chart
                bars = svg.locator("rect.bar")
                assert await bars.count() > 0, chart
                bar_box = await bars.first.bounding_box()
                assert bar_box is not None and bar_box["width"] > 0 and bar_box["height"] > 0
            heading = await page.locator("h1").inner_text()
            assert heading.startswith("Operation report:")
            # The stylesheet applied (its hash is in the CSP): the headline boxes are flex items.
            display = await page.locator(".figures").evaluate(
                "element => getComputedStyle(element).display"
            )
            assert display == "flex"
            await page.emulate_media(media="print")
            assert await page.locator('svg.chart[data-chart="weeks"]').is_visible()
        finally:
            await browser.close()
    assert problems == []
    assert requests, "no request was recorded"
    foreign = [r for r in requests if not r.startswith(origin + "/")]
    assert foreign == []
