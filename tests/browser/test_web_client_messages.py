"""The web client's daily work in Chromium: sign in, a device key made and registered by
WebCrypto, a signed post that another browser sees live and verified, signatures that cross
between the browser and Python both ways, and a tampered message shown as not verified."""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import update

from cencomm.appkeys import DATABASE
from cencomm.client import CencommClient
from cencomm.client.keystore import LocalKey
from cencomm.crypto.jws import parse_compact, verify_signature
from cencomm.crypto.keys import b64url_decode, b64url_encode
from cencomm.domain.users import Role
from cencomm.storage.tables import MessageRow
from tests.browser.webclient import chromium, device_kid, group_with_officer, open_client, sign_in
from tests.client.helpers import server_url
from tests.factories import PASSWORD, add_member, make_group, make_member, post_message


async def _user_keys(client: TestClient[Any, Any], auth: dict[str, str], user_id: str) -> Any:
    resp = await client.get(f"/api/v1/users/{user_id}/keys", headers=auth)
    assert resp.status == 200
    return (await resp.json())["keys"]


async def test_a_post_signed_in_one_browser_arrives_live_and_verified_in_another(
    client: TestClient[Any, Any],
) -> None:
    mod = await make_member(client, Role.MODERATOR, with_key=True)
    group = await make_group(client, mod)
    alice = await make_member(client, Role.OFFICER)
    bob = await make_member(client, Role.OFFICER)
    await add_member(client, mod, group, alice)
    await add_member(client, mod, group, bob)
    async with chromium() as browser:
        first = await open_client(browser, client)
        second = await open_client(browser, client)
        await sign_in(first, alice)
        await sign_in(second, bob)
        # Each browser made its own key, registered under its user, and shows its fingerprint.
        alice_kid = await device_kid(first)
        [registered] = await _user_keys(client, alice.auth, str(alice.user.id))
        assert registered["kid"] == alice_kid and registered["revoked_at"] is None

        for recorded in (first, second):
            await recorded.page.goto(f"{recorded.origin}/#/groups/{group['id']}")
            await recorded.page.get_by_role("heading", name=group["name"]).wait_for()
        page = first.page
        await page.get_by_label("Message", exact=True).fill("Container MSKU 123 cleared, watch it")
        await page.get_by_label("Handling (TLP)").select_option("TLP:GREEN")
        await page.get_by_role("button", name="Sign and send").click()

        arrived = second.page.locator("li.message", has_text="Container MSKU 123")
        await arrived.locator('[data-verified="true"]').wait_for()
        assert "hc-green" in (await arrived.get_attribute("class") or "")
        assert alice.user.display_name in await arrived.locator(".sender").inner_text()

        # What the browser signed verifies in Python against the key it registered.
        resp = await client.get(f"/api/v1/groups/{group['id']}/messages", headers=bob.auth)
        [message] = (await resp.json())["messages"]
        parsed = parse_compact(message["jws"])
        assert verify_signature(parsed, b64url_decode(registered["public_key"]))
        assert parsed.header == {"alg": "Ed25519", "kid": alice_kid, "typ": "cencomm+jws"}
        claims = parsed.payload
        assert claims["body"] == {"text": "Container MSKU 123 cleared, watch it"}
        assert claims["sub"] == str(alice.user.id) and claims["grp"] == group["id"]
        assert claims["hc"] == "TLP:GREEN"

        # A message signed by cencomm.client shows verified in the browser.
        async with CencommClient(server_url(client), key=LocalKey.generate()) as api:
            await api.login(mod.user.username, PASSWORD)
            await api.register_key("python client")
            await api.post_text(group["id"], "Signed by the Python client")
        from_python = first.page.locator("li.message", has_text="Signed by the Python client")
        await from_python.locator('[data-verified="true"]').wait_for()
        first.assert_clean()
        second.assert_clean()


async def test_a_message_altered_on_the_server_shows_as_not_verified(
    client: TestClient[Any, Any],
) -> None:
    mod, group, officer = await group_with_officer(client)
    posted = await post_message(client, mod, group, body={"text": "Ten pallets of masks, lot 7"})
    resp = await client.get(f"/api/v1/messages/{posted['id']}", headers=mod.auth)
    # A compromised server changes the stored text but cannot re-sign it.
    header, payload, signature = (await resp.json())["jws"].split(".")
    tampered_payload = b64url_encode(b64url_decode(payload).replace(b"Ten pallets", b"Two pallets"))
    tamper = (
        update(MessageRow)
        .where(MessageRow.id == uuid.UUID(posted["id"]))
        .values(jws=f"{header}.{tampered_payload}.{signature}")
    )
    await client.app[DATABASE].write(lambda unit: unit._session.execute(tamper))
    async with chromium() as browser:
        recorded = await open_client(browser, client)
        await sign_in(recorded, officer)
        await recorded.page.goto(f"{recorded.origin}/#/groups/{group['id']}")
        shown = recorded.page.locator("li.message", has_text="Two pallets of masks")
        badge = shown.locator('[data-verified="false"]')
        await badge.wait_for()
        assert "Not verified" in await badge.inner_text()
        recorded.assert_clean()


async def test_the_timeline_pages_back_threads_replies_and_shows_hidden_reasons(
    client: TestClient[Any, Any],
) -> None:
    mod, group, officer = await group_with_officer(client)
    first = await post_message(client, mod, group, body={"text": "Oldest message of the group"})
    for n in range(2, 61):
        await post_message(client, mod, group, body={"text": f"Routine message {n}"})
    root = await post_message(client, mod, group, body={"text": "Who saw the Lagos shipment?"})
    await post_message(
        client, mod, group, body={"text": "We did, two pallets"}, reply_to=root["id"]
    )
    hidden = await post_message(client, mod, group, body={"text": "Posted in the wrong group"})
    resp = await client.post(
        f"/api/v1/messages/{hidden['id']}/hide",
        json={"reason": "wrong group"},
        headers=mod.auth,
    )
    assert resp.status == 200
    async with chromium() as browser:
        recorded = await open_client(browser, client)
        page = recorded.page
        await sign_in(recorded, officer)
        await page.goto(f"{recorded.origin}/#/groups/{group['id']}")
        # The newest page first: the reply sits in its root's thread.
        thread = page.locator("li.message", has_text="Who saw the Lagos shipment?")
        await thread.locator("ul.thread li.message", has_text="We did, two pallets").wait_for()
        shown = page.locator(f'li.message[data-id="{hidden["id"]}"]')
        assert "wrong group" in await shown.locator('[data-hidden="true"]').inner_text()
        assert await shown.locator("[data-verified]").count() == 0  # no JWS to verify
        assert await page.locator(f'li.message[data-id="{first["id"]}"]').count() == 0
        # Scrolling to the top brings the older messages, back to the first.
        oldest = page.locator(f'li.message[data-id="{first["id"]}"]')
        while await oldest.count() == 0:
            count = await page.locator("li.message").count()
            await page.locator(".timeline").evaluate("box => { box.scrollTop = 0; }")
            await page.wait_for_function(
                "n => document.querySelectorAll('li.message').length > n", arg=count
            )
        await page.get_by_text("This is the start of the group.").wait_for()
        await oldest.locator('[data-verified="true"]').wait_for()
        seqs = await page.locator("ol.messages > li.message").evaluate_all(
            "items => items.map(item => Number(item.dataset.seq))"
        )
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
        recorded.assert_clean()
