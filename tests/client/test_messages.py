"""Posting, retrying and reading through cencomm.client against the real server."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiohttp.test_utils import TestClient
from jwcrypto import jwk, jws

from cencomm.client import CencommClient, LocalKey, ProblemError, verify_message
from cencomm.domain.users import Role
from tests.client.helpers import FAST_RETRY, DroppingProxy, logged_in, make_scene, server_url
from tests.factories import PASSWORD, make_member, seizure_body


async def test_text_message_is_posted_and_read_back(client: TestClient[Any, Any]) -> None:
    scene = await make_scene(client)
    api = await logged_in(client, scene.officer)
    try:
        posted = await api.post_text(scene.group_id, "Masks seized at CDG", hc="TLP:GREEN")
        assert posted.seq == 1 and not posted.replayed
        message = await api.get_message(posted.id)
    finally:
        await api.close()
    assert message["group_id"] == scene.group_id
    assert message["typ"] == "text" and message["hc"] == "TLP:GREEN"
    assert message["sender"]["id"] == scene.officer.id
    payload = verify_message(message, [await _key(client, scene.officer.auth, message)]).payload
    assert payload["body"] == {"text": "Masks seized at CDG"}
    assert set(payload) == {"v", "typ", "cid", "sub", "iat", "grp", "hc", "body"}
    assert payload["cid"] == posted.cid


async def _key(client: TestClient[Any, Any], auth: dict[str, str], message: dict[str, Any]) -> Any:
    resp = await client.get(f"/api/v1/users/{message['sender']['id']}/keys", headers=auth)
    keys = (await resp.json())["keys"]
    return next(k for k in keys if k["kid"] == message["kid"])


async def test_seizure_and_notice_are_posted_and_replies_link(client: TestClient[Any, Any]) -> None:
    scene = await make_scene(client)
    api = await logged_in(client, scene.officer)
    try:
        report = seizure_body(scene.officer.organization.country or "FR")
        seizure = await api.post_seizure(scene.group_id, report)
        notice = await api.post_notice(
            scene.group_id, "Modus operandi", "Declared as textiles", reply_to=seizure.id
        )
        stored = await api.get_message(seizure.id)
        reply = await api.get_message(notice.id)
        verified = await api.verify_with_server(stored)
    finally:
        await api.close()
    assert (seizure.seq, notice.seq) == (1, 2)
    assert stored["typ"] == "seizure"
    assert verified.body == report
    assert reply["reply_to"] == seizure.id


async def test_invalid_seizure_report_is_a_problem_with_field_errors(
    client: TestClient[Any, Any],
) -> None:
    scene = await make_scene(client)
    api = await logged_in(client, scene.officer)
    try:
        bad = seizure_body("FR", items=[{"category": "masks", "quantity": 0, "unit": "units"}])
        with pytest.raises(ProblemError) as caught:
            await api.post_seizure(scene.group_id, bad)
        assert [m async for m in api.timeline(scene.group_id)] == []
    finally:
        await api.close()
    assert caught.value.status == 422
    assert any("quantity" in e["field"] for e in caught.value.errors)


async def test_posted_message_verifies_with_jwcrypto_and_only_the_published_key(
    client: TestClient[Any, Any],
) -> None:
    """Acceptance: an independent JOSE library verifies what cencomm.client signed."""
    scene = await make_scene(client)
    api = await logged_in(client, scene.officer)
    try:
        posted = await api.post_text(scene.group_id, "Verify me elsewhere")
    finally:
        await api.close()
    reader = scene.admin  # another user, who knows nothing but what the server publishes
    message = await (await client.get(f"/api/v1/messages/{posted.id}", headers=reader.auth)).json()
    resp = await client.get(f"/api/v1/users/{message['sender']['id']}/keys", headers=reader.auth)
    (published,) = (await resp.json())["keys"]

    key = jwk.JWK(kty="OKP", crv="Ed25519", x=published["public_key"])
    assert key.thumbprint() == published["kid"] == message["kid"]
    token = jws.JWS()
    token.deserialize(message["jws"])
    token.allowed_algs = ["Ed25519", "EdDSA"]
    token.verify(key)
    assert token.jose_header == {"alg": "Ed25519", "kid": published["kid"], "typ": "cencomm+jws"}
    payload = json.loads(token.payload)
    assert payload["sub"] == scene.officer.id and payload["grp"] == scene.group_id
    assert payload["body"] == {"text": "Verify me elsewhere"}


async def test_posting_the_same_prepared_envelope_twice_stores_one_message(
    client: TestClient[Any, Any],
) -> None:
    scene = await make_scene(client)
    api = await logged_in(client, scene.officer)
    try:
        envelope = await api.prepare_envelope(scene.group_id, "text", {"text": "once"})
        first = await api.post_prepared(scene.group_id, envelope)
        again = await api.post_prepared(scene.group_id, envelope)
        messages = [m async for m in api.timeline(scene.group_id)]
    finally:
        await api.close()
    assert not first.replayed and again.replayed
    assert (again.id, again.seq, again.created_at) == (first.id, first.seq, first.created_at)
    assert [m["id"] for m in messages] == [first.id]


async def test_retry_after_a_lost_answer_does_not_duplicate(client: TestClient[Any, Any]) -> None:
    scene = await make_scene(client)
    target = urlsplit(server_url(client))
    proxy = DroppingProxy(target.hostname or "127.0.0.1", target.port or 80)
    base = await proxy.start()
    try:
        async with CencommClient(base, retry=FAST_RETRY) as api:
            await api.login(scene.officer.user.username, PASSWORD)
            api.use_key(LocalKey.generate())
            await api.register_key()
            # The post reaches the server, which stores it; its answer is lost on the way back.
            proxy.armed_prefix = f"POST /api/v1/groups/{scene.group_id}/messages".encode()
            posted = await api.post_text(scene.group_id, "sent once, answered twice")
            assert proxy.dropped == 1
            assert posted.replayed  # the retry got the original back with 200
            messages = [m async for m in api.timeline(scene.group_id)]
    finally:
        await proxy.close()
    assert [(m["id"], m["seq"]) for m in messages] == [(posted.id, 1)]


async def test_retry_after_a_503_posts_once(client: TestClient[Any, Any]) -> None:
    scene = await make_scene(client)
    target = urlsplit(server_url(client))
    proxy = DroppingProxy(target.hostname or "127.0.0.1", target.port or 80)
    base = await proxy.start()
    try:
        async with CencommClient(base, retry=FAST_RETRY) as api:
            await api.login(scene.officer.user.username, PASSWORD)
            api.use_key(LocalKey.generate())
            await api.register_key()
            proxy.unavailable_prefix = f"POST /api/v1/groups/{scene.group_id}/messages".encode()
            posted = await api.post_text(scene.group_id, "after a 503")
            messages = [m async for m in api.timeline(scene.group_id)]
    finally:
        await proxy.close()
    assert proxy.refused == 1
    assert not posted.replayed  # the 503 came before the server: the retry stored it
    assert [(m["id"], m["seq"]) for m in messages] == [(posted.id, 1)]


async def test_timeline_pages_through_every_message_in_order(client: TestClient[Any, Any]) -> None:
    scene = await make_scene(client)
    api = await logged_in(client, scene.officer)
    try:
        posted = [await api.post_text(scene.group_id, f"message {i}") for i in range(7)]
        all_messages = [m async for m in api.timeline(scene.group_id, limit=3)]
        later = [m async for m in api.timeline(scene.group_id, after=5, limit=2)]
        first_page = await api.timeline_page(scene.group_id, limit=3)
    finally:
        await api.close()
    assert [m["seq"] for m in all_messages] == [1, 2, 3, 4, 5, 6, 7]
    assert [m["id"] for m in all_messages] == [p.id for p in posted]
    assert [m["seq"] for m in later] == [6, 7]
    assert first_page["next"] == 3


async def test_search_finds_posted_text(client: TestClient[Any, Any]) -> None:
    scene = await make_scene(client)
    api = await logged_in(client, scene.officer)
    try:
        await api.post_text(scene.group_id, "chloroquine tablets in express parcels")
        await api.post_text(scene.group_id, "nothing to see")
        found = [m async for m in api.search("chloroquine", group_id=scene.group_id)]
    finally:
        await api.close()
    assert [m["seq"] for m in found] == [1]


async def test_non_member_gets_not_found(client: TestClient[Any, Any]) -> None:
    scene = await make_scene(client)
    outsider = await make_member(client, Role.OFFICER)
    api = await logged_in(client, outsider)
    try:
        with pytest.raises(ProblemError) as caught:
            await api.post_text(scene.group_id, "let me in")
    finally:
        await api.close()
    assert caught.value.status == 404
