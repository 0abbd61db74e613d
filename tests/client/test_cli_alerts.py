"""`cencomm client alerts`: raise (signed on the device), inbox, show, ack with a linked
seizure, and the board, as people run them: real processes against the test server."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from cencomm.domain.users import Role
from tests.client.shell import RUN_ONCE, login_shell, one_line
from tests.factories import (
    add_member,
    make_group,
    make_member,
    post_message,
    register_key,
    seizure_body,
)

pytestmark = RUN_ONCE


async def test_raise_inbox_ack_with_a_seizure_and_the_board(
    client: TestClient[Any, Any], tmp_path: Path
) -> None:
    admin = await make_member(client, Role.ADMIN)
    group = await make_group(client, admin, code="STOP-2020")
    sender = await make_member(client, Role.OFFICER)
    recipient = await make_member(client, Role.OFFICER)
    for member in (sender, recipient):
        await add_member(client, admin, group, member)
    await register_key(client, recipient)
    seizure = await post_message(client, recipient, group, "seizure", body=seizure_body("FR"))
    officer = await login_shell(client, tmp_path, sender, group, name="sender")
    reader = await login_shell(client, tmp_path, recipient, group, key=False, name="recipient")

    sent = await officer.ok(
        "alerts", "raise", "--group", "stop-2020", "--title", "Container MSCU1234567",
        "--text", "Inspect on arrival at Le Havre", "--priority", "flash", "--ack-required",
        "--respond-by", "48h", "--expires-at", "1w",
    )  # fmt: skip
    assert sent["recipients"] >= 1 and sent["organizations"] >= 1
    alert_id = sent["id"]

    inbox = await reader.ok("alerts", "inbox", "--active")
    [mine] = [a for a in inbox["alerts"] if a["id"] == alert_id]
    assert mine["priority"] == "flash" and mine["ack_required"] is True
    assert mine["content"]["body"]["title"] == "Container MSCU1234567"
    assert mine["my_ack"] is None and mine["ack_summary"] is None

    done = await reader.ok(
        "alerts", "ack", alert_id, "--outcome", "seized", "--note", "2 pallets",
        "--seizure", seizure["id"],
    )  # fmt: skip
    assert done["outcome"] == "seized" and done["acknowledged_at"]

    # A recipient reads the alert and their own ack, but never the board.
    code, out, err = await reader.text("alerts", "show", alert_id)
    assert code == 0, err
    for words in ("FLASH alert", "Container MSCU1234567", "Inspect on arrival", "seized",
                  seizure["id"], "2 pallets", "acknowledgement required"):  # fmt: skip
        assert words in out, words
    assert "board:" not in out
    code, out, err = await reader.run("alerts", "board", alert_id)
    assert (code, out) == (1, "")
    assert "only its sender, moderators and admins see the board" in one_line(err)

    # The sender sees the board: the recipient's organisation acknowledged, outcome seized.
    code, out, err = await officer.text("alerts", "board", alert_id)
    assert code == 0, err
    assert "ORGANISATION" in out and "OUTCOME" in out and "OVERDUE" in out
    [row] = [line for line in out.splitlines() if recipient.organization.name in line]
    assert "seized" in row
    shown = await officer.ok("alerts", "show", alert_id)
    board = {o["name"]: o for o in shown["ack_summary"]["organizations"]}
    assert board[recipient.organization.name]["outcome"] == "seized"
    assert board[recipient.organization.name]["overdue"] is False
    assert shown["ack_summary"]["acknowledged"] == 1


async def test_bad_inputs_and_who_may_raise(client: TestClient[Any, Any], tmp_path: Path) -> None:
    admin = await make_member(client, Role.ADMIN)
    group = await make_group(client, admin, code="STOP-2020")
    sender = await make_member(client, Role.OFFICER)
    observer = await make_member(client, Role.OBSERVER)
    await add_member(client, admin, group, sender)
    await add_member(client, admin, group, observer, role="observer")
    officer = await login_shell(client, tmp_path, sender, group, name="sender")
    raise_ = ("alerts", "raise", "--group", "STOP-2020", "--text", "x")

    # Usage errors (exit 2), found before the key is touched.
    for extra, words in (
        (("--title", "t", "--respond-by", "48x"), "--respond-by '48x': expected an ISO date-time"),
        (("--title", "t", "--expires-at", "2020-01-01T00:00Z"), "not in the future"),
        (("--title", "t", "--respond-by", "0h"), "longer than 0"),
    ):
        code, out, err = await officer.run(*raise_, *extra)
        assert (code, out) == (2, ""), err
        assert words in one_line(err)
    code, out, err = await officer.run("alerts", "raise", "--title", "t", "--text", "x")
    assert (code, out) == (2, "")
    assert "name the recipients" in one_line(err)

    # The server's problem: every field error on the one line (exit 1).
    code, out, err = await officer.run(
        *raise_, "--title", "T" * 300, "--respond-by", "3d", "--expires-at", "1d"
    )
    assert (code, out) == (1, "")
    line = one_line(err)
    assert "body.title" in line and "body.respond_by" in line, line

    # An unknown alert, and one the caller did not receive: the same 404.
    code, out, err = await officer.run("alerts", "show", str(uuid.uuid4()))
    assert (code, out) == (1, "")
    assert "404" in one_line(err)
    sent = await officer.ok(*raise_, "--title", "Routine check")
    outsider = await login_shell(
        client, tmp_path, await make_member(client, Role.OFFICER), group, key=False, name="out"
    )
    code, out, err = await outsider.run("alerts", "ack", sent["id"])
    assert (code, out) == (1, "")
    assert "404" in one_line(err)

    # An observer may not raise an alert, even to a group they are in.
    # (Observers cannot register a key: this one's key is only on the device.)
    watcher = await login_shell(client, tmp_path, observer, group, key=False, name="observer")
    code, out, err = await watcher.run("keys", "create")
    assert code == 0, err
    code, out, err = await watcher.run(*raise_, "--title", "t")
    assert (code, out) == (1, "")
    assert "403" in one_line(err)
    # What they received, as a table for people.
    code, out, err = await watcher.text("alerts", "inbox")
    assert code == 0, err
    heading, row = out.splitlines()
    assert heading.split() == ["ID", "SENT", "PRIORITY", "HC", "FROM", "TITLE", "RESPOND", "BY",
                               "MY", "ACK"]  # fmt: skip
    assert row.startswith(sent["id"]) and "routine" in row and "Routine check" in row
