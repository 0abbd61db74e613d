"""axe-core in the browser tests: the vendored library (tests/browser/vendor/axe-core, MPL-2.0,
never served by cencomm) is evaluated in the page through DevTools, so the page's CSP, which
forbids inline scripts, stays in force and is not weakened for the test (a `<script>` element
added with `page.add_script_tag(content=...)` would be blocked by it, and the page would log a
CSP violation)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from playwright.async_api import Page

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"

# What a test fails on; "moderate" and "minor" findings are reported by axe but not gated.
GATED_IMPACTS = ("serious", "critical")


@functools.cache
def _axe_source() -> str:
    return AXE.read_text(encoding="utf-8")


async def axe_violations(
    page: Page, impacts: tuple[str, ...] = GATED_IMPACTS
) -> list[dict[str, Any]]:
    """Run axe over the whole document; the violations of `impacts` (serious and critical by
    default), each with its rule id, impact, help text and the failing nodes (target selector
    and axe's summary)."""
    if not await page.evaluate("() => typeof window.axe === 'object'"):
        # Evaluated as a DevTools expression, not an inline script: CSP does not apply.
        await page.evaluate(_axe_source())
    results = await page.evaluate(
        """async () => {
            const results = await axe.run(document, { resultTypes: ["violations"] });
            return results.violations.map((v) => ({
                id: v.id,
                impact: v.impact,
                help: v.help,
                nodes: v.nodes.map((n) => ({
                    target: n.target.join(" "),
                    html: n.html.slice(0, 200),
                    summary: n.failureSummary,
                })),
            }));
        }"""
    )
    return [v for v in results if v["impact"] in impacts]


def describe(violations: list[dict[str, Any]]) -> str:
    """A readable assertion message: one line per rule, then each failing node."""
    lines = []
    for violation in violations:
        lines.append(f"[{violation['impact']}] {violation['id']}: {violation['help']}")
        for node in violation["nodes"]:
            lines.append(f"    {node['target']}  {node['html']}")
            lines.append(f"      {(node['summary'] or '').replace(chr(10), ' / ')}")
    return "\n".join(lines)


async def serious_violations(page: Page) -> list[str]:
    """The serious and critical findings as one line each (`rule: targets`), for `== []`."""
    return [
        f"{v['id']}: {', '.join(node['target'] for node in v['nodes'])}"
        for v in await axe_violations(page)
    ]
