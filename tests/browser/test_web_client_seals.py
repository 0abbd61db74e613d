"""Organisations' seals in the web client: a countersigned report shows a seal badge that this
browser verified with WebCrypto against the organisation's published seal keys (in the timeline
and in search results); a seal added later arrives live; a seal altered on the server shows as
not verified."""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import update

from cencomm.appkeys import DATABASE
from cencomm.storage.tables import CountersignatureRow
from tests.browser.webclient import chromium, open_client, sign_in
from tests.factories import post_message
from tests.web.seal_helpers import API, Seal, countersign, countersignature_payload, seal_jws
from tests.web.test_seals import scene


async def _seal(client: TestClient[Any, Any], s: Any, message_id: str) -> str:
    message = await (await client.get(f"{API}/messages/{message_id}", headers=s.holder.auth)).json()
    jws = seal_jws(s.seal, countersignature_payload(s.holder, s.seal, message))
    resp = await countersign(client, s.holder, message_id, jws)
    assert resp.status == 201, await resp.text()
    return jws


async def test_a_countersigned_report_shows_a_verified_seal_badge_live_too(
    client: TestClient[Any, Any],
) -> None:
    s = await scene(client)
    await _seal(client, s, s.message["id"])
    organization = s.author.organization.name
    async with chromium() as browser:
        recorded = await open_client(browser, client)
        page = recorded.page
        await sign_in(recorded, s.author)
        await page.goto(f"{recorded.origin}/#/groups/{s.group['id']}")
        sealed = page.locator(f'li.message[data-id="{s.message["id"]}"]')
        badge = sealed.locator('[data-seal="verified"]')
        await badge.wait_for()
        assert f"Sealed by {organization}" in await badge.inner_text()
        # A later report, sealed while the page is open: the badge comes with the live frame.
        later = await post_message(
            client, s.author, s.group, hc="TLP:GREEN", body={"text": "Second lot of masks"}
        )
        shown = page.locator(f'li.message[data-id="{later["id"]}"]')
        await shown.locator('[data-verified="true"]').wait_for()
        assert await shown.locator("[data-seal]").count() == 0
        await _seal(client, s, later["id"])
        await shown.locator('[data-seal="verified"]').wait_for()
        # Search results show the seals too.
        await page.get_by_role("link", name="Search").click()
        await page.get_by_label("Words").fill("lot")
        await page.get_by_role("button", name="Search", exact=True).click()
        result = page.locator("ol.results > li.message", has_text="Second lot of masks")
        await result.locator('[data-seal="verified"]').wait_for()
        recorded.assert_clean()


async def test_a_seal_altered_on_the_server_shows_as_not_verified(
    client: TestClient[Any, Any],
) -> None:
    s = await scene(client)
    # A compromised server swaps the seal for one made with a key the organisation never
    # published (under the published key's kid): it cannot make the organisation's signature.
    forged = Seal(s.seal.organization_id, Ed25519PrivateKey.generate(), s.seal.kid)
    await _seal(client, s, s.message["id"])
    tamper = (
        update(CountersignatureRow)
        .where(CountersignatureRow.message_id == uuid.UUID(s.message["id"]))
        .values(jws=seal_jws(forged, countersignature_payload(s.holder, forged, s.message)))
    )
    await client.app[DATABASE].write(lambda unit: unit._session.execute(tamper))
    async with chromium() as browser:
        recorded = await open_client(browser, client)
        page = recorded.page
        await sign_in(recorded, s.author)
        await page.goto(f"{recorded.origin}/#/groups/{s.group['id']}")
        sealed = page.locator(f'li.message[data-id="{s.message["id"]}"]')
        badge = sealed.locator('[data-seal="failed"]')
        await badge.wait_for()
        assert "Seal not verified" in await badge.inner_text()
        assert await sealed.locator('[data-verified="true"]').count() == 1  # the report itself
        recorded.assert_clean()
