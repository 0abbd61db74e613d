"""The web client's assets: every file the page loads (modules, import-map targets, stylesheet,
icon, texts) answers under the page's build id with the page's own Content-Security-Policy,
immutable caching and its ETag; another build's id, an unknown file or a path out of the
directory is a 404 problem."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.problems import assert_problem


async def _page(client: TestClient[Any, Any]) -> tuple[str, str, str]:
    """The page's CSP, its HTML and its build's asset prefix (`/static/<build>/`)."""
    resp = await client.get("/")
    assert resp.status == 200
    html = await resp.text()
    [base] = set(re.findall(r'data-base="(/static/[0-9a-f]+/)"', html))
    return resp.headers["Content-Security-Policy"], html, base


async def test_every_asset_the_page_loads_has_the_page_policy_and_immutable_caching(
    client: TestClient[Any, Any],
) -> None:
    policy, html, base = await _page(client)
    linked = set(re.findall(r'(?:src|href)="(/static/[^"]+)"', html))
    [import_map] = re.findall(r'<script type="importmap">(.*?)</script>', html, flags=re.S)
    linked |= set(json.loads(import_map)["imports"].values())
    linked |= {f"{base}app/main.js", f"{base}app/shell.js", f"{base}i18n/en.json"}
    assert {f"{base}styles/app.css", f"{base}app/main.js"} <= linked
    for path in sorted(linked):
        assert path.startswith(base), path
        resp = await client.get(path)
        assert resp.status == 200, path
        assert resp.headers["Content-Security-Policy"] == policy, path
        assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable", path
        assert resp.headers["X-Content-Type-Options"] == "nosniff", path
        assert resp.headers["Cross-Origin-Resource-Policy"] == "same-origin", path
        expected = {".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css"}
        suffix = path[path.rindex(".") :]
        if suffix in expected:
            assert resp.content_type == expected[suffix], path
        again = await client.get(path, headers={"If-None-Match": resp.headers["ETag"]})
        assert again.status == 304 and await again.read() == b"", path
        assert again.headers["Content-Security-Policy"] == policy, path


@pytest.mark.parametrize(
    "path",
    [
        "app/nothing-here.js",
        "index.html",  # the page is served at / only, with its import map filled in
        "..%2F..%2Fhandlers%2Fweb_client.py",
        "app/../../handlers/web_client.py",
    ],
)
async def test_a_file_outside_the_build_is_a_404_problem(
    client: TestClient[Any, Any], path: str
) -> None:
    _, _, base = await _page(client)
    await assert_problem(await client.get(f"{base}{path}"), 404, "not-found")


async def test_an_asset_of_another_build_is_a_404_problem(client: TestClient[Any, Any]) -> None:
    # A page loaded before a release asks for its old build's modules: they are not served,
    # so old and new modules never mix.
    _, _, base = await _page(client)
    build = base.strip("/").split("/")[1]
    stale = "0" * len(build) if build != "0" * len(build) else "1" * len(build)
    await assert_problem(await client.get(f"/static/{stale}/app/main.js"), 404, "not-found")
    assert (await client.get(f"{base}app/main.js")).status == 200
