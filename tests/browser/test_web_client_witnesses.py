"""The audit screen with witnesses: the server's checkpoint note checked in the browser against
the witnesses the reader entered (kept in the browser), cosignatures verified with WebCrypto, and
a missing quorum or a bad cosignature said plainly. Two real witness processes on loopback."""

from __future__ import annotations

import base64
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from playwright.async_api import Route
from pytest_aiohttp import AiohttpClient

from cencomm.app import create_app
from cencomm.domain.users import Role
from cencomm.settings import AuditSettings, Settings
from cencomm.storage.keyring import load_or_create_server_keys
from tests.browser.webclient import chromium, open_client, sign_in
from tests.conftest import with_settings
from tests.factories import make_member
from tests.witness import c2sp_note
from tests.witness.witnesses import WitnessProcess, cosigned_by, start_witness, until

ORIGIN = "cencomm.test/browser"


@pytest.fixture(scope="module")
def keys_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    directory = tmp_path_factory.mktemp("server-keys")
    return directory, load_or_create_server_keys(directory).audit.public_raw


@pytest.fixture(scope="module")
def witnesses(
    keys_dir: tuple[Path, bytes], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[WitnessProcess]]:
    logs = [c2sp_note.vkey(ORIGIN, 0x01, keys_dir[1])]
    started: list[WitnessProcess] = []
    try:
        for name in ("witness.test/w1", "witness.test/w2"):
            started.append(start_witness(tmp_path_factory.mktemp("witness"), name, logs))
        yield started
    finally:
        for process in started:
            process.stop()


@pytest.fixture
async def server(
    aiohttp_client: AiohttpClient,
    settings: Settings,
    keys_dir: tuple[Path, bytes],
    witnesses: list[WitnessProcess],
) -> AsyncIterator[TestClient[Any, Any]]:
    shutil.copytree(keys_dir[0] / "keys", settings.data.dir / "keys")
    audit = AuditSettings(
        origin=ORIGIN,
        witnesses=tuple(f"{w.vkey} {w.url}" for w in witnesses),
        witness_quorum=2,
        witness_retry_max=1.0,
    )
    client = await aiohttp_client(create_app(with_settings(settings, audit=audit)))
    yield client
    await client.close()


async def _flip_last_cosignature(route: Route) -> None:
    response = await route.fetch()
    lines = (await response.text()).split("\n")
    dash, name, blob = lines[-2].split(" ")
    raw = bytearray(base64.b64decode(blob))
    raw[-1] ^= 1
    lines[-2] = f"{dash} {name} {base64.b64encode(bytes(raw)).decode()}"
    await route.fulfill(response=response, body="\n".join(lines))


async def test_the_audit_screen_insists_on_the_witnesses_quorum(
    server: TestClient[Any, Any], witnesses: list[WitnessProcess]
) -> None:
    officer = await make_member(server, Role.OFFICER)
    await until(cosigned_by(server, officer, witnesses), "both cosignatures")
    stranger = c2sp_note.vkey("witness.test/other", 0x04, bytes(range(32)))
    async with chromium() as browser:
        recorded = await open_client(browser, server)
        page = recorded.page
        await sign_in(recorded, officer)
        await page.goto(f"{recorded.origin}/#/audit")
        await page.locator('[data-verified="true"]').wait_for()
        await page.locator('[data-witnesses="none"]').wait_for()
        # Both witnesses trusted, both required: witnessed.
        keys = page.get_by_label("Witness verifier keys (one per line)")
        await keys.fill("\n".join(w.vkey for w in witnesses))
        await page.get_by_label("Cosignatures required").fill("2")
        await page.get_by_role("button", name="Save witnesses").click()
        verdict = page.locator('[data-witnessed="true"]')
        await verdict.wait_for()
        assert "witness.test/w1, witness.test/w2" in await verdict.inner_text()
        # A cosignature changed on the way: refused, naming the witness.
        await page.route("**/api/v1/audit/checkpoint", _flip_last_cosignature)
        await page.get_by_role("button", name="Check again").click()
        alarm = page.locator('[data-witnessed="false"][data-reason="cosignature"]')
        await alarm.wait_for()
        assert "witness.test/w2" in await alarm.inner_text()
        await page.unroute("**/api/v1/audit/checkpoint")
        # Trusting one of them and a witness the server never asked, both required: not met.
        await keys.fill(f"{witnesses[0].vkey}\n{stranger}")
        await page.get_by_role("button", name="Save witnesses").click()
        missing = page.locator('[data-witnessed="false"][data-reason="quorum"]')
        await missing.wait_for()
        assert "NOT witnessed: cosigned by 1 of the 2 witnesses" in await missing.inner_text()
        # Not a key at all: the form says so and keeps the saved witnesses.
        await keys.fill("not-a-key")
        await page.get_by_role("button", name="Save witnesses").click()
        await page.get_by_text("Not a witness verifier key: not-a-key").wait_for()
        recorded.assert_clean()
