"""The accessibility check: axe-core (vendored under vendor/axe-core) run in the page."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Page

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"


async def serious_violations(page: Page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now (evaluated through the
    DevTools protocol, which the page's CSP does not govern)."""
    await page.evaluate(AXE.read_text())
    found: list[str] = await page.evaluate(
        """axe.run(document).then(r => r.violations
            .filter(v => v.impact === "serious" || v.impact === "critical")
            .map(v => `${v.id}: ${v.nodes.map(n => n.target.join(" ")).join(", ")}`))"""
    )
    return found
