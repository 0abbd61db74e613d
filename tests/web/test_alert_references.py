"""An alert's `att` and `reply_to` are checked like a message's (review issue 12, item 8)."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from cencomm.app import create_app
from cencomm.domain.users import Role
from cencomm.settings import Settings
from tests.factories import Member, add_member, make_group, make_member, post_message, sign
from tests.problems import assert_problem
from tests.web.attachment_helpers import upload
from tests.web.live_helpers import alert_payload, live_settings

NOTE = b"Consignee list for the CN-AE route\n"


@pytest.fixture
def app(settings: Settings) -> web.Application:
    return create_app(live_settings(settings))


def _ref(data: bytes, **changes: Any) -> dict[str, Any]:
    ref: dict[str, Any] = {
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "name": "consignees.txt",
        "type": "text/plain",
    }
    ref.update(changes)
    return ref


async def _post_alert(
    client: TestClient[Any, Any], sender: Member, to: dict[str, Any], **claims: Any
) -> Any:
    payload = alert_payload(sender, to)
    payload.update(claims)
    return await client.post(
        "/api/v1/alerts", json={"jws": sign(sender, payload)}, headers=sender.auth
    )


async def _world(client: TestClient[Any, Any]) -> dict[str, Any]:
    mod = await make_member(client, Role.MODERATOR)
    target = await make_group(client, mod)
    elsewhere = await make_group(client, mod)
    closed_to_sender = await make_group(client, mod)
    sender = await make_member(client, Role.ANALYST, with_key=True)
    other = await make_member(client, Role.OFFICER, with_key=True)
    for group in (target, elsewhere):
        await add_member(client, mod, group, sender)
        await add_member(client, mod, group, other)
    await add_member(client, mod, closed_to_sender, other)
    return {
        "mod": mod,
        "target": target,
        "elsewhere": elsewhere,
        "closed": closed_to_sender,
        "sender": sender,
        "other": other,
    }


async def test_alert_attachments_must_belong_to_a_target_group(
    client: TestClient[Any, Any],
) -> None:
    w = await _world(client)
    to = {"groups": [w["target"]["id"]]}
    missing = await _post_alert(client, w["sender"], to, att=[_ref(NOTE)])
    body = await assert_problem(missing, 422, "unknown-attachment")
    assert body["errors"][0]["field"] == "jws.payload.att[0]"

    # Uploaded to a group the sender is in, but not one the alert targets: still unknown.
    resp = await upload(client, w["sender"], w["elsewhere"]["id"], NOTE, "text/plain", "c.txt")
    assert resp.status == 201, await resp.text()
    await assert_problem(
        await _post_alert(client, w["sender"], to, att=[_ref(NOTE)]), 422, "unknown-attachment"
    )

    resp = await upload(client, w["sender"], w["target"]["id"], NOTE, "text/plain", "c.txt")
    assert resp.status == 201, await resp.text()
    wrong_size = _ref(NOTE, size=len(NOTE) + 1)
    await assert_problem(
        await _post_alert(client, w["sender"], to, att=[wrong_size]), 422, "unknown-attachment"
    )
    sent = await _post_alert(client, w["sender"], to, att=[_ref(NOTE)])
    assert sent.status == 201, await sent.text()

    # An alert to organisations only has no group to hold an attachment.
    org_only = {"organizations": [str(w["other"].organization.id)]}
    await assert_problem(
        await _post_alert(client, w["sender"], org_only, att=[_ref(NOTE)]),
        422,
        "unknown-attachment",
    )
    # With several target groups, any of them the sender posts in may hold it.
    both = {"groups": [w["elsewhere"]["id"], w["target"]["id"]]}
    sent = await _post_alert(client, w["sender"], both, att=[_ref(NOTE)])
    assert sent.status == 201, await sent.text()


async def test_alert_reply_to_must_be_a_message_the_sender_may_read(
    client: TestClient[Any, Any],
) -> None:
    w = await _world(client)
    to = {"groups": [w["target"]["id"]]}
    resp = await _post_alert(client, w["sender"], to, reply_to=str(uuid.uuid4()))
    body = await assert_problem(resp, 422, "invalid-reply")
    assert body["errors"][0]["field"] == "jws.payload.reply_to"

    unreadable = await post_message(client, w["other"], w["closed"])
    resp = await _post_alert(client, w["sender"], to, reply_to=unreadable["id"])
    unreadable_body = await assert_problem(resp, 422, "invalid-reply")
    assert unreadable_body["detail"] == body["detail"]  # a hidden message looks like a missing one

    # Any message the sender may read will do, in a target group or not.
    for group in (w["target"], w["elsewhere"]):
        message = await post_message(client, w["other"], group)
        resp = await _post_alert(client, w["sender"], to, reply_to=message["id"])
        assert resp.status == 201, await resp.text()


async def test_an_observer_of_a_group_may_not_reply_to_its_red_messages(
    client: TestClient[Any, Any],
) -> None:
    w = await _world(client)
    watched = await make_group(client, w["mod"])
    await add_member(client, w["mod"], watched, w["other"])
    await add_member(client, w["mod"], watched, w["sender"], role="observer")
    red = await post_message(client, w["other"], watched, hc="TLP:RED")
    resp = await _post_alert(
        client, w["sender"], {"groups": [w["target"]["id"]]}, reply_to=red["id"]
    )
    await assert_problem(resp, 422, "invalid-reply")


async def test_staff_attach_only_from_target_groups_that_take_posts(
    client: TestClient[Any, Any],
) -> None:
    """Staff may alert a closed group's members, but a closed group takes no posts, so its
    attachments cannot travel with the alert."""
    w = await _world(client)
    mod = await make_member(client, Role.MODERATOR, with_key=True)
    group = await make_group(client, mod)
    await add_member(client, mod, group, w["other"])
    resp = await upload(client, w["other"], group["id"], NOTE, "text/plain", "c.txt")
    assert resp.status == 201, await resp.text()
    resp = await client.patch(
        f"/api/v1/groups/{group['id']}", json={"status": "closed"}, headers=mod.auth
    )
    assert resp.status == 200, await resp.text()
    to = {"groups": [group["id"]]}
    await assert_problem(
        await _post_alert(client, mod, to, att=[_ref(NOTE)]), 422, "unknown-attachment"
    )
    assert (await _post_alert(client, mod, to)).status == 201
