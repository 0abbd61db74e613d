"""GET /groups/{id}/report: a printable HTML page, escaped, with its SVG charts, a strict CSP
and never TLP:RED (the page as a browser draws it: tests/browser/)."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

from aiohttp.test_utils import TestClient

from cencomm.domain.users import Role
from tests.factories import make_group, make_member
from tests.problems import assert_problem
from tests.web.analytics_helpers import build_dataset

CHARTS = ("products", "routes", "weeks", "modes", "concealment", "detection", "regions")


async def test_the_report_is_escaped_self_contained_html(client: TestClient[Any, Any]) -> None:
    data = await build_dataset(client)
    resp = await client.patch(
        data.url, json={"name": '<script>alert("x")</script> & co'}, headers=data.owner.auth
    )
    assert resp.status == 200, await resp.text()
    resp = await client.get(f"{data.url}/report", headers=data.senders["fr"].auth)
    assert resp.status == 200, await resp.text()
    assert resp.content_type == "text/html"
    page = await resp.text()
    assert "<script" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co" in page
    csp = resp.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "script-src" not in csp
    assert csp.startswith("default-src 'none'; style-src 'sha256-")
    style = re.search(r"<style>(.*?)</style>", page, re.S)
    assert style is not None
    digest = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()
    assert f"'sha256-{digest}'" in csp
    assert " style=" not in page  # inline style attributes would need 'unsafe-inline'
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in page
    for chart in CHARTS:
        assert f'data-chart="{chart}"' in page
    assert "@media print" in page


async def test_the_report_never_shows_red(client: TestClient[Any, Any]) -> None:
    data = await build_dataset(client)
    resp = await client.get(f"{data.url}/report", headers=data.owner.auth)
    page = await resp.text()
    # R4 (TLP:RED, the only report from NG, the only IN → NG route) is left out for everyone.
    assert "<strong>4</strong>Interceptions" in page
    assert "IN → NG" not in page
    assert "WEST CENTRAL AFRICA" not in page
    assert data.senders["ng"].organization.name not in page
    # Observers' reports leave AMBER+STRICT out too.
    resp = await client.get(f"{data.url}/report", headers=data.observer.auth)
    assert "<strong>3</strong>Interceptions" in await resp.text()


async def test_a_non_member_gets_404(client: TestClient[Any, Any]) -> None:
    data = await build_dataset(client)
    outsider = await make_member(client, Role.OFFICER)
    resp = await client.get(f"{data.url}/report", headers=outsider.auth)
    await assert_problem(resp, 404, "not-found")


async def test_an_operation_without_reports_prints_zeroes_and_no_charts(
    client: TestClient[Any, Any],
) -> None:
    admin = await make_member(client, Role.ADMIN)
    group = await make_group(client, admin)
    resp = await client.get(f"/api/v1/groups/{group['id']}/report", headers=admin.auth)
    assert resp.status == 200
    page = await resp.text()
    assert "<strong>0</strong>Interceptions" in page
    assert "<svg" not in page
    for chart in CHARTS:
        assert f'<p class="empty" data-chart="{chart}">No data.</p>' in page
