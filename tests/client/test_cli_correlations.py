"""`cencomm client related|correlations|share-requests|watch` as analysts and officers run
them: reports linked by a consignee, a match in another operation, the request to share it and
the consent, and a watch on a container prefix."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from cencomm.appkeys import SERVICES
from cencomm.domain.users import Role
from tests.client.shell import RUN_ONCE, login_shell
from tests.factories import (
    add_member,
    make_group,
    make_member,
    make_organization,
    post_message,
    seizure_body,
)

pytestmark = RUN_ONCE

CONTAINER = "CSQU3054383"
CONSIGNEE = {"role": "consignee", "name": "Müller Pharma GmbH", "country": "DE"}


async def _report(
    client: TestClient[Any, Any], member: Any, group: dict[str, Any], **parts: Any
) -> str:
    body = seizure_body(member.organization.country, **parts)
    posted = await post_message(client, member, group, "seizure", hc="TLP:GREEN", body=body)
    return str(posted["id"])


async def test_linked_reports_a_share_request_and_a_watch_from_the_command_line(
    client: TestClient[Any, Any], tmp_path: Path
) -> None:
    moderator = await make_member(client, Role.MODERATOR)
    ours, theirs = await make_group(client, moderator), await make_group(client, moderator)
    french = await make_member(client, with_key=True)
    german_org = await make_organization(client, country="DE")
    german = await make_member(client, organization=german_org, with_key=True)
    spanish_org = await make_organization(client, country="ES")
    spanish = await make_member(client, organization=spanish_org, with_key=True)
    their_moderator = await make_member(client, Role.OFFICER)
    for member, group in ((french, ours), (german, ours), (spanish, theirs)):
        await add_member(client, moderator, group, member)
    await add_member(client, moderator, theirs, their_moderator, role="moderator")

    first = await _report(client, french, ours, parties=[CONSIGNEE], containers=[CONTAINER])
    second = await _report(
        client, german, ours, parties=[{**CONSIGNEE, "name": "MULLER PHARMA G.m.b.H."}]
    )
    elsewhere = await _report(client, spanish, theirs, containers=["csqu 305438-3"])

    shell = await login_shell(client, tmp_path, french, ours, key=False, name="fr")
    related = await shell.ok("related", first)
    assert [r["message_id"] for r in related["related"]] == [second]
    assert related["related"][0]["shared"][0]["value"] == "muller pharma"
    assert related["elsewhere"] == [{"kind": "container", "value": CONTAINER, "label": CONTAINER}]
    linked = await shell.ok("correlations", ours["code"])
    assert [(c["kind"], c["value"], c["reports"]) for c in linked["correlations"]] == [
        ("party", "muller pharma", 2)
    ]
    assert sorted(linked["correlations"][0]["countries"]) == ["DE", "FR"]

    asked = await shell.ok(
        "share-requests", "ask", first, "container", CONTAINER, "--reason", "same container"
    )
    assert asked["status"] == "pending"
    theirs_shell = await login_shell(
        client, tmp_path, their_moderator, theirs, key=False, name="es-mod"
    )
    queue = await theirs_shell.ok("share-requests", "queue", "--group", theirs["code"])
    [request] = queue["share_requests"]
    assert request["id"] == asked["id"] and request["identifier"]["value"] == CONTAINER
    await theirs_shell.ok("share-requests", "approve", asked["id"], "--group", theirs["code"])
    shown = await shell.ok("share-requests", "show", asked["id"])
    assert [m["id"] for m in shown["shared_reports"]] == [elsewhere]

    watch = await shell.ok(
        "watch", "add", "container", "CSQU 30", "--prefix", "--reason", "line under scrutiny",
        "--until", "30d",
    )  # fmt: skip
    assert (watch["kind"], watch["match"], watch["value"]) == ("container", "prefix", "CSQU30")
    assert [w["id"] for w in (await shell.ok("watch", "list"))["watches"]] == [watch["id"]]
    await _report(client, spanish, theirs, containers=[CONTAINER])
    await asyncio.wait_for(client.app[SERVICES].watch_lists.settled(), 30)
    [match] = (await shell.ok("watch", "matches", watch["id"]))["matches"]
    assert match["elsewhere"] is True and match["message_id"] is None
    await shell.ok("watch", "rm", watch["id"])
    assert (await shell.ok("watch", "list"))["watches"] == []
    code, _, err = await shell.run(
        "watch", "add", "container", "X", "--reason", " ", "--until", "1d"
    )
    assert code == 2 and "--reason must not be empty" in err
