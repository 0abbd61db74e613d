"""The `correlation` live frame: a new report that links to earlier ones tells its sender and the
group's analysts, each only what they may read, and nobody else."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import ClientWebSocketResponse
from aiohttp.test_utils import TestClient

from cencomm.domain.users import Role
from cencomm.settings import Settings
from tests.factories import add_member, make_group, make_member, post_message
from tests.web.correlation_helpers import CONTAINER, OTHER_CONTAINER, operation, report
from tests.web.live_helpers import connect, frame, live_settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return live_settings(settings)


async def frames_until(ws: ClientWebSocketResponse, message_id: str) -> list[dict[str, Any]]:
    """Every frame before the `message` frame of `message_id` (which is read too)."""
    seen: list[dict[str, Any]] = []
    while True:
        data = await frame(ws)
        if data["type"] == "message" and data["message"]["id"] == message_id:
            return seen
        seen.append(data)


def correlation_frames(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f for f in frames if f["type"] == "correlation"]


def container(value: str = CONTAINER) -> dict[str, str]:
    return {"kind": "container", "value": value, "label": value}


async def test_a_new_link_reaches_the_sender_and_the_groups_analysts_only(
    client: TestClient[Any, Any],
) -> None:
    op = await operation(client)
    group = op.group
    first = await report(client, op.fr, group, containers=(CONTAINER,))
    strict = await report(client, op.de, group, hc="TLP:AMBER+STRICT", containers=(CONTAINER,))
    observing_analyst = await make_member(client, Role.ANALYST)
    await add_member(client, op.admin, group, observing_analyst, role="observer")
    moderator = await make_member(client, Role.MODERATOR)
    outsider = await make_member(client, Role.ANALYST)  # an analyst of no group here

    members = {
        "sender": op.fr,
        "analyst": op.analyst,
        "observing_analyst": observing_analyst,
        "officer": op.de,
        "observer": op.observer,
        "moderator": moderator,
    }
    sockets = {name: await connect(client, member) for name, member in members.items()}
    outsider_ws = await connect(client, outsider)
    # Every socket follows the group once it has a message posted after connecting.
    barrier = await post_message(client, op.fr, group, "text", hc="TLP:GREEN")
    for ws in sockets.values():
        await frames_until(ws, barrier["id"])

    linked = await report(client, op.fr, group, hc="TLP:AMBER", containers=(CONTAINER,))
    after = await post_message(client, op.fr, group, "text", hc="TLP:GREEN")
    elsewhere = await make_group(client, op.admin)
    await add_member(client, op.admin, elsewhere, outsider)
    seen = {
        name: correlation_frames(await frames_until(ws, after["id"]))
        for name, ws in sockets.items()
    }

    def link(message_id: str, seq: int) -> dict[str, Any]:
        return {"message_id": message_id, "group_id": group["id"], "seq": seq,
                "shared": [container()]}  # fmt: skip

    whole = {
        "type": "correlation",
        "group_id": group["id"],
        "message_id": linked,
        "related": [link(strict, 2), link(first, 1)],  # the newest first
    }
    assert seen["sender"] == [whole]
    assert seen["analyst"] == [whole]
    # Decided per recipient: an analyst observing the group never hears of AMBER+STRICT.
    assert seen["observing_analyst"] == [{**whole, "related": [link(first, 1)]}]
    for name in ("officer", "observer", "moderator"):
        assert seen[name] == [], name
    # The outsider hears of their new membership, and of nothing before it.
    assert (await frame(outsider_ws))["type"] == "membership"

    # A report that links to nothing sends no correlation frame.
    lonely = await report(client, op.fr, group, containers=(OTHER_CONTAINER,))
    after = await post_message(client, op.fr, group, "text", hc="TLP:GREEN")
    frames = await frames_until(sockets["sender"], after["id"])
    assert [f["type"] for f in frames] == ["message"]
    assert frames[0]["message"]["id"] == lonely
    for ws in (*sockets.values(), outsider_ws):
        await ws.close()
