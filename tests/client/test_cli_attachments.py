"""`cencomm client post --attach` and `attachments ...` with real files: upload, sign the
`att` entries, show the scan state, download (never over an existing file without --force),
and every bad input refused with one line before anything is sent."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from cencomm.domain.users import Role
from tests.client.shell import RUN_ONCE, login_shell, make_shell, one_line
from tests.data.attachments import build
from tests.factories import add_member, make_member

pytestmark = RUN_ONCE


async def test_post_with_attachments_then_show_and_download(
    client: TestClient[Any, Any], tmp_path: Path
) -> None:
    shell = await make_shell(client, tmp_path)
    photo, note = tmp_path / "photo.png", tmp_path / "note.txt"
    photo.write_bytes(build.png())
    note.write_bytes(b"Container MSCU1234567, seal 884213\n")
    digest = hashlib.sha256(photo.read_bytes()).hexdigest()

    # Each file is uploaded, then named by hash and size in the signed message.
    posted = await shell.ok(
        "post", "--group", "STOP-2020", "--text", "Masks at CDG, see photo",
        "--attach", str(photo), "--attach", str(note), "--attach", str(photo),
    )  # fmt: skip
    assert [(a["name"], a["size"]) for a in posted["att"]] == [
        ("photo.png", photo.stat().st_size),
        ("note.txt", note.stat().st_size),
    ]
    code, out, err = await shell.run("read", "--group", "STOP-2020")
    assert code == 0, err
    (message,) = [json.loads(line) for line in out.splitlines()]
    assert message["content"]["att"] == posted["att"]
    assert message["content"]["att"][0]["sha256"] == digest
    assert (await shell.ok("verify", "--message", posted["id"]))["verified"] is True
    # A reply, a notice, with a file already in the group: the same content, named again.
    reply = await shell.ok(
        "post", "--group", "STOP-2020", "--reply-to", posted["id"], "--notice", "Follow-up",
        "--text", "Same container", "--attach", str(note),
    )  # fmt: skip
    assert reply["att"] == posted["att"][1:]
    code, out, err = await shell.text("read", "--group", "STOP-2020", "--after", "1")
    assert code == 0, err
    assert f"in reply to {posted['id']}" in out and "Follow-up\n  Same container" in out
    assert "attachments: note.txt" in out

    shown = await shell.ok("attachments", "show", "--group", "STOP-2020", digest.upper())
    assert (shown["name"], shown["type"], shown["status"]) == ("photo.png", "image/png", "clean")
    code, out, err = await shell.text("attachments", "list", "--group", "STOP-2020")
    assert code == 0, err
    assert "photo.png" in out and "note.txt" in out and "clean" in out

    # Downloads: the right bytes; an existing file only with --force.
    target = tmp_path / "copy.png"
    saved = await shell.ok(
        "attachments", "download", "--group", "STOP-2020", digest, "-o", str(target)
    )
    assert (saved["size"], saved["type"]) == (photo.stat().st_size, "image/png")
    assert target.read_bytes() == photo.read_bytes()
    target.write_bytes(b"keep me")
    code, out, err = await shell.run(
        "attachments", "download", "--group", "STOP-2020", digest, "-o", str(target)
    )
    assert (code, out) == (2, "")
    assert "exists: give --force" in one_line(err)
    assert target.read_bytes() == b"keep me"
    await shell.ok(
        "attachments", "download", "--group", "STOP-2020", digest, "-o", str(target), "--force"
    )
    assert target.read_bytes() == photo.read_bytes()
    code, out, err = await shell.run(
        "attachments", "download", "--group", "STOP-2020", "ab" * 32, "-o", str(tmp_path / "x")
    )
    assert (code, out) == (1, "")
    assert "404" in one_line(err) and not (tmp_path / "x").exists()


async def test_bad_files_are_refused_before_sending(
    client: TestClient[Any, Any], tmp_path: Path
) -> None:
    shell = await make_shell(client, tmp_path)
    photo, fake, script = tmp_path / "photo.png", tmp_path / "fake.png", tmp_path / "run.exe"
    photo.write_bytes(build.png())
    fake.write_bytes(b"not a picture at all")
    script.write_bytes(b"MZ")
    group = ("--group", "STOP-2020")
    refusals = [
        (("post", *group, "--text", "x", "--attach", str(tmp_path / "no.png")), "cannot read"),
        (("attachments", "upload", *group, str(script)), "run.exe: files of this type are not"),
        (("attachments", "upload", *group, "--max-bytes", "100", str(photo)), "over the maximum"),
    ]
    for args, message in refusals:
        code, out, err = await shell.run(*args)
        assert (code, out) == (2, ""), err
        assert message in one_line(err)
    # The server's own refusal (content that is not what its name says) is one line too.
    code, out, err = await shell.run("attachments", "upload", "--group", "STOP-2020", str(fake))
    assert (code, out) == (1, "")
    assert "415" in one_line(err)
    listed = await shell.ok("attachments", "list", "--group", "STOP-2020")
    assert listed == {"attachments": []}
    uploaded = await shell.ok("attachments", "upload", "--group", "STOP-2020", str(photo))
    assert (uploaded["name"], uploaded["size"], uploaded["status"]) == (
        "photo.png", photo.stat().st_size, "clean",
    )  # fmt: skip
    assert uploaded["sha256"] == hashlib.sha256(photo.read_bytes()).hexdigest()

    # An observer of the group may read but neither upload nor post.
    admin = await make_member(client, Role.ADMIN)
    partner = await make_member(client, Role.OBSERVER)
    await add_member(client, admin, shell.group, partner, role="observer")
    observer = await login_shell(client, tmp_path, partner, shell.group, key=False, name="obs")
    code, out, err = await observer.run(*("attachments", "upload", *group, str(photo)))
    assert (code, out) == (1, "")
    assert one_line(err).startswith("cencomm client: 403 ")
    code, out, err = await observer.run("post", *group, "--text", "hello", "--attach", str(photo))
    assert (code, out) == (1, "")
    assert "you are an observer of STOP-2020: observers may not post" in one_line(err)
