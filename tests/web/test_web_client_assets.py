"""The web client's files: served under the build id with a year of immutable caching, the
page's Content-Security-Policy on every one, nothing outside the static directory, and every
module import resolvable (no build step: what the browser loads is what is in the package)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from cencomm.web.handlers.web_client import IMPORTS, web_client
from tests.problems import assert_problem

STATIC = Path(str(resources.files("cencomm.web").joinpath("static")))
IMPORT_MAP = re.compile(r'<script type="importmap">(.*?)</script>', re.DOTALL)


async def _page(client: TestClient[Any, Any]) -> tuple[str, str]:
    resp = await client.get("/")
    assert resp.status == 200
    return await resp.text(), resp.headers["Content-Security-Policy"]


async def test_every_asset_is_immutable_under_the_build_id_with_the_page_policy(
    client: TestClient[Any, Any],
) -> None:
    html, policy = await _page(client)
    [base] = set(re.findall(r"(/static/[0-9a-f]{16}/)", html))
    assert base == f"/static/{web_client().build}/"
    for path, media_type in (
        ("app/main.js", "text/javascript"),
        ("styles/app.css", "text/css"),
        ("i18n/en.json", "application/json"),
        ("vendor/preact/preact.mjs", "text/javascript"),
    ):
        resp = await client.get(base + path)
        assert resp.status == 200, path
        assert resp.content_type == media_type
        assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert resp.headers["Content-Security-Policy"] == policy
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        body = await resp.read()
        assert body == (STATIC / path).read_bytes()
        again = await client.get(base + path, headers={"If-None-Match": resp.headers["ETag"]})
        assert again.status == 304


async def test_the_import_map_is_allowed_by_its_hash_and_names_served_files(
    client: TestClient[Any, Any],
) -> None:
    html, policy = await _page(client)
    [import_map] = IMPORT_MAP.findall(html)
    digest = base64.b64encode(hashlib.sha256(import_map.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in policy
    imports = json.loads(import_map)["imports"]
    assert set(imports) == set(IMPORTS)
    for url in imports.values():
        assert (await client.get(url)).status == 200, url


async def test_other_builds_unknown_files_and_escapes_answer_not_found(
    client: TestClient[Any, Any],
) -> None:
    build = web_client().build
    for path in (
        "/static/0123456789abcdef/app/main.js",  # a page of another release
        f"/static/{build}/app/nothing.js",
        f"/static/{build}/index.html",  # the page itself only at /
        f"/static/{build}/vendor/preact/LICENSE",  # not a served type
        f"/static/{build}/../handlers/web_client.py",
        f"/static/{build}/%2e%2e/handlers/web_client.py",
    ):
        resp = await client.get(path)
        assert resp.status == 404, path
        if resp.content_type == "application/problem+json":
            await assert_problem(resp, 404, "not-found")


def test_every_relative_import_of_the_client_resolves_to_a_file() -> None:
    specifier = re.compile(r'(?:import|export)[^"\']*?from\s*"([^"]+)"|import\s*"([^"]+)"')
    for module in sorted((STATIC / "app").glob("*.js")):
        for found in specifier.findall(module.read_text()):
            name = found[0] or found[1]
            if name.startswith("."):
                assert (module.parent / name).resolve().is_file(), f"{module.name}: {name}"
            else:
                assert name in IMPORTS, f"{module.name}: bare import {name}"


def test_every_text_the_client_asks_for_is_in_the_english_catalogue() -> None:
    catalogue = json.loads((STATIC / "i18n" / "en.json").read_text())
    literal = re.compile(r'\bt\(\s*"([^"]+)"')
    missing = {
        f"{module.name}: {key}"
        for module in (STATIC / "app").glob("*.js")
        if module.name != "i18n.js"  # its comments show how t() is called
        for key in literal.findall(module.read_text())
        if key not in catalogue
    }
    assert missing == set()
    assert all(isinstance(v, str) and v.strip() for v in catalogue.values())


def test_vendored_libraries_are_the_recorded_files_with_their_licences() -> None:
    vendor = STATIC / "vendor"
    rows = [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in (vendor / "README.md").read_text().splitlines()
        if line.startswith("| ") and not line.startswith("| File")
    ]
    assert rows
    recorded = {row[0]: row[5] for row in rows}
    served = {
        str(path.relative_to(vendor))
        for path in vendor.rglob("*")
        if path.suffix in (".js", ".mjs", ".css")
    }
    assert served == set(recorded)  # nothing vendored without a row
    for name, digest in recorded.items():
        assert hashlib.sha256((vendor / name).read_bytes()).hexdigest() == digest, name
        assert (vendor / name).parent.joinpath("LICENSE").is_file(), name


def test_every_problem_slug_has_a_title_in_the_english_catalogue() -> None:
    catalogue = json.loads((STATIC / "i18n" / "en.json").read_text())
    problems = Path(__file__).parents[2] / "docs" / "problems.md"
    slugs = re.findall(r"^\| ([a-z][a-z0-9-]*) \|", problems.read_text(), flags=re.MULTILINE)
    assert slugs[0] == "slug" and len(slugs) > 50
    assert [s for s in slugs[1:] if f"problem.{s}" not in catalogue] == []  # [0]: the header
