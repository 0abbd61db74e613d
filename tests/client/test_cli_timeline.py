"""`cencomm client follow`, `search`, `hide` and `unhide` as users run them: a follower sees
what was missed and what is posted live; searches use the API's filters; only moderators
hide."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from cencomm.domain.users import Role
from tests.client.shell import RUN_ONCE, Shell, login_shell, make_shell, one_line
from tests.factories import add_member, make_member, post_message, register_key, seizure_body

pytestmark = RUN_ONCE


def _lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines()]


async def _start(shell: Shell, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cencomm", "client", "--json", *args,
        env=shell.env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def test_follow_replays_what_was_missed_then_live_messages(
    client: TestClient[Any, Any], tmp_path: Path
) -> None:
    shell = await make_shell(client, tmp_path, key=False)
    await register_key(client, shell.member)
    for text in ("first", "second", "third"):
        await post_message(client, shell.member, shell.group, body={"text": text})

    # Resumed after #1: #2 and #3, in order, then it stops at --until-seq (text for people).
    code, out, err = await shell.text(
        "follow", "--group", "STOP-2020", "--after", "1", "--until-seq", "3"
    )
    assert code == 0, err
    assert [line.split()[0] for line in out.splitlines() if line.startswith("#")] == ["#2", "#3"]
    assert out.index("\n  second\n") < out.index("\n  third\n")

    # Live: from now on; the follower says it listens (stderr) before anything is posted.
    proc = await _start(shell, "follow", "--group", "STOP-2020", "--count", "1")
    assert proc.stdout is not None and proc.stderr is not None
    ready = await asyncio.wait_for(proc.stderr.readline(), timeout=30)
    assert ready.startswith(b"following STOP-2020"), ready
    await post_message(client, shell.member, shell.group, body={"text": "live one"})
    out_bytes, err_bytes = await asyncio.wait_for(proc.communicate(), timeout=30)
    assert proc.returncode == 0, err_bytes
    assert [(m["seq"], m["content"]["body"]["text"]) for m in _lines(out_bytes.decode())] == [
        (4, "live one")
    ]

    # Bad inputs: one line each, exit 2 (usage) or 1 (unknown group).
    for args, exit_code, message in (
        (("--count", "0"), 2, "--count must be at least 1"),
        (("--group", "OTHER-OP", "--until-seq", "9"), 2, "--until-seq needs exactly one"),
    ):
        code, out, err = await shell.run("follow", "--group", "STOP-2020", *args)
        assert (code, out) == (exit_code, "")
        assert message in one_line(err)
    code, out, err = await shell.run("follow", "--group", "NO-SUCH-OP")
    assert (code, out) == (1, "")
    assert "no group with code NO-SUCH-OP" in one_line(err)


async def test_search_with_filters_and_moderation(
    client: TestClient[Any, Any], tmp_path: Path
) -> None:
    shell = await make_shell(client, tmp_path, key=False)
    await register_key(client, shell.member)
    report = await post_message(client, shell.member, shell.group, "seizure", body=seizure_body())
    note = await post_message(
        client, shell.member, shell.group, body={"text": "Masks declared as textiles"}
    )

    found = _lines((await shell.run("search", "masks", "--group", "STOP-2020"))[1])
    assert [m["id"] for m in found] == [note["id"], report["id"]]  # newest first
    code, out, err = await shell.run(
        "search", "MASK", "--typ", "seizure", "--from", "2020-05-01", "--to", "2020-05-31",
        "--country", "fr", "--category", "masks",
    )  # fmt: skip
    assert code == 0, err
    assert [m["id"] for m in _lines(out)] == [report["id"]]
    code, out, err = await shell.text("search", "masks", "--category", "gloves")
    assert (code, out) == (0, "")
    assert err == "no message matches\n"
    code, out, err = await shell.run(
        "search", "masks", "--from", "2020-06-01", "--to", "2020-05-01", "--country", "FRA"
    )
    assert (code, out) == (1, "")
    line = one_line(err)
    assert "422" in line and "country" in line

    # A plain member may not hide; the group's moderator hides and shows it again.
    code, out, err = await shell.run("hide", "--message", note["id"], "--reason", "duplicate")
    assert (code, out) == (1, "")
    assert one_line(err).startswith("cencomm client: 403 ")
    admin = await make_member(client, Role.ADMIN)
    lead = await make_member(client, Role.OFFICER)
    await add_member(client, admin, shell.group, lead, role="moderator")
    moderator = await login_shell(client, tmp_path, lead, shell.group, key=False, name="mod")
    code, out, err = await moderator.text(
        "hide", "--message", note["id"], "--reason", "posted twice"
    )
    assert code == 0, err
    assert out == f"Message {note['id']} (#2) is now hidden (posted twice).\n"
    (hidden,) = _lines((await shell.run("read", "--group", "STOP-2020", "--after", "1"))[1])
    assert (hidden["hidden"], hidden["hidden_reason"], hidden["content"]) == (
        True,
        "posted twice",
        None,
    )
    code, out, err = await shell.text("read", "--group", "STOP-2020")
    assert code == 0, err
    assert "HIDDEN: posted twice" in out and "seizure on 2020-05-20 in FR" in out
    shown = await moderator.ok("unhide", "--message", note["id"])
    assert (shown["id"], shown["hidden"]) == (note["id"], False)
    code, out, err = await moderator.run("hide", "--message", note["id"], "--reason", " ")
    assert (code, out) == (2, "")
    assert "--reason must not be empty" in one_line(err)
