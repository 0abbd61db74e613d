"""Hiding a message hides the attachments only it names, from everyone but moderators.

An attachment also named by a message still shown stays available; a member's upload that no
message names yet stays theirs to post; group moderators, admins and moderators see everything,
in listings, downloads, previews and evidence exports; unhiding restores access.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientTimeout
from aiohttp.test_utils import TestClient

from cencomm.domain.users import Role
from tests.data.attachments import build
from tests.factories import Member, add_member, envelope, make_member, post_message, sign
from tests.problems import assert_problem
from tests.web.attachment_helpers import TIMEOUT, GroupWorld, group_world, upload

API = "/api/v1"


@dataclass
class Scene:
    world: GroupWorld
    member: Member  # a group member who neither posted nor moderates
    observer: Member  # a group observer
    group_moderator: Member
    only: str  # sha256 of an image named only by the message that gets hidden
    shared: str  # named by the hidden message and by one still shown
    loose: str  # uploaded, named by no message yet
    hidden_message: str

    @property
    def base(self) -> str:
        return f"{API}/groups/{self.world.gid}/attachments"


def _ref(data: bytes, name: str, media: str) -> dict[str, object]:
    return {
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "name": name,
        "type": media,
    }


async def _scene(client: TestClient[Any, Any]) -> Scene:
    world = await group_world(client)
    member = await make_member(client, Role.OFFICER)
    observer = await make_member(client, Role.OBSERVER)
    group_moderator = await make_member(client, Role.OFFICER)
    await add_member(client, world.admin, world.group, member)
    await add_member(client, world.admin, world.group, observer, role="observer")
    await add_member(client, world.admin, world.group, group_moderator, role="moderator")
    only, shared, loose = build.png(40, 30), build.CSV, build.pdf()
    files = [
        (only, "image/png", "only.png"),
        (shared, "text/csv", "shared.csv"),
        (loose, "application/pdf", "loose.pdf"),
    ]
    for data, media, name in files:
        resp = await upload(client, world.officer, world.gid, data, media, name)
        assert resp.status == 201, await resp.text()
    hidden = await post_message(
        client,
        world.officer,
        world.group,
        hc="TLP:GREEN",
        att=[_ref(only, "only.png", "image/png"), _ref(shared, "shared.csv", "text/csv")],
    )
    await post_message(
        client,
        world.officer,
        world.group,
        hc="TLP:GREEN",
        att=[_ref(shared, "shared.csv", "text/csv")],
    )
    resp = await client.post(
        f"{API}/messages/{hidden['id']}/hide",
        json={"reason": "wrong case file"},
        headers=world.admin.auth,
    )
    assert resp.status == 200, await resp.text()
    return Scene(
        world,
        member,
        observer,
        group_moderator,
        only=hashlib.sha256(only).hexdigest(),
        shared=hashlib.sha256(shared).hexdigest(),
        loose=hashlib.sha256(loose).hexdigest(),
        hidden_message=str(hidden["id"]),
    )


async def _listed(client: TestClient[Any, Any], scene: Scene, who: Member) -> set[str]:
    resp = await client.get(scene.base, headers=who.auth)
    assert resp.status == 200, await resp.text()
    return {a["sha256"] for a in (await resp.json())["attachments"]}


async def _status(
    client: TestClient[Any, Any], scene: Scene, who: Member, sha: str, **params: str
) -> int:
    resp = await client.get(f"{scene.base}/{sha}", params=params, headers=who.auth)
    await resp.read()
    return resp.status


async def test_attachments_only_a_hidden_message_names_are_hidden_with_it(
    client: TestClient[Any, Any],
) -> None:
    scene = await _scene(client)
    world = scene.world
    # The poster and another member, and an observer: what only the hidden message names is
    # gone from the listing, the download and the preview, exactly like an unknown hash.
    for who in (world.officer, scene.member):
        assert await _listed(client, scene, who) == {scene.shared, scene.loose}
    assert await _listed(client, scene, scene.observer) == {scene.shared}
    for who in (world.officer, scene.member, scene.observer):
        hidden = await client.get(f"{scene.base}/{scene.only}", headers=who.auth)
        missing = await client.get(f"{scene.base}/{'0' * 64}", headers=who.auth)
        await assert_problem(hidden, 404)
        await assert_problem(missing, 404)
        hidden_problem, missing_problem = await hidden.json(), await missing.json()
        assert hidden_problem["detail"] == missing_problem["detail"]
        assert await _status(client, scene, who, scene.only, preview="true") == 404
        # Also named by a message still shown: still there.
        assert await _status(client, scene, who, scene.shared) == 200
    # Moderators of every kind still see everything.
    everything = {scene.only, scene.shared, scene.loose}
    for who in (world.admin, scene.group_moderator):
        assert await _listed(client, scene, who) == everything
        assert await _status(client, scene, who, scene.only) == 200
        assert await _status(client, scene, who, scene.only, preview="true") == 200


async def test_unhiding_the_message_restores_its_attachments(client: TestClient[Any, Any]) -> None:
    scene = await _scene(client)
    resp = await client.post(
        f"{API}/messages/{scene.hidden_message}/unhide", headers=scene.group_moderator.auth
    )
    assert resp.status == 200, await resp.text()
    assert scene.only in await _listed(client, scene, scene.member)
    assert scene.only in await _listed(client, scene, scene.observer)
    for who in (scene.member, scene.observer):
        assert await _status(client, scene, who, scene.only) == 200
        assert await _status(client, scene, who, scene.only, preview="true") == 200


async def test_a_new_message_cannot_name_an_attachment_hidden_from_its_sender(
    client: TestClient[Any, Any],
) -> None:
    """Otherwise any member could undo the hiding by naming the file again."""
    scene = await _scene(client)
    world = scene.world
    ref = {
        "sha256": scene.only,
        "size": len(build.png(40, 30)),
        "name": "only.png",
        "type": "image/png",
    }
    resp = await client.post(
        f"{API}/groups/{world.gid}/messages",
        json={"jws": sign(world.officer, envelope(world.officer, world.gid, att=[ref]))},
        headers=world.officer.auth,
    )
    await assert_problem(resp, 422, "unknown-attachment")
    assert scene.only not in await _listed(client, scene, scene.member)


async def test_the_evidence_export_still_lists_what_hidden_messages_name(
    client: TestClient[Any, Any],
) -> None:
    """The bundle holds hidden messages verbatim, so it lists and carries their attachments."""
    scene = await _scene(client)
    resp = await client.get(
        f"{API}/groups/{scene.world.gid}/export",
        params={"blobs": "true"},
        headers=scene.group_moderator.auth,
        timeout=ClientTimeout(total=TIMEOUT),
    )
    assert resp.status == 200, await resp.text()
    with zipfile.ZipFile(io.BytesIO(await resp.read())) as bundle:
        listed: list[dict[str, Any]] = json.loads(bundle.read("attachments.json"))["attachments"]
        names = set(bundle.namelist())
    assert {a["sha256"] for a in listed} == {scene.only, scene.shared, scene.loose}
    assert f"blobs/{scene.only}" in names
