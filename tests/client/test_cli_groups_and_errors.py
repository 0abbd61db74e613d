"""`cencomm client`: every field error of a problem is printed, and groups are named by code or id.

The command line runs as a real process against the test server's socket.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from cencomm.domain.users import Role
from tests.client.shell import Shell, make_shell, one_line
from tests.factories import make_group, make_member, seizure_body


async def _shell(client: TestClient[Any, Any], tmp_path: Path) -> Shell:
    return await make_shell(client, tmp_path)


async def test_cli_prints_every_field_error(client: TestClient[Any, Any], tmp_path: Path) -> None:
    shell = await _shell(client, tmp_path)
    report = seizure_body(
        "FR",
        transport_mode="teleport",
        items=[{"category": "masks", "quantity": 0, "unit": "litres"}],
        detection="guesswork",
    )
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report))
    code, out, err = await shell.run(
        "post", "--group", str(shell.group["id"]), "--seizure", str(path)
    )
    assert (code, out) == (1, "")
    line = one_line(err)
    assert "invalid-body" in line
    for field in (
        "body.transport_mode",
        "body.items[0].quantity",
        "body.items[0].unit",
        "body.detection",
    ):
        assert field in line, field


async def test_cli_names_a_group_by_code_or_id(
    client: TestClient[Any, Any], tmp_path: Path
) -> None:
    shell = await _shell(client, tmp_path)
    group_id = str(shell.group["id"])
    code, out, err = await shell.run("post", "--group", "STOP-2020", "--text", "Masks at CDG")
    assert code == 0, err
    assert json.loads(out)["seq"] == 1
    code, out, err = await shell.run("post", "--group", group_id, "--text", "Gloves at ORY")
    assert code == 0, err
    for name in ("STOP-2020", " stop-2020 ", group_id, group_id.upper()):
        code, out, err = await shell.run("read", "--group", name)
        assert code == 0, err
        messages = [json.loads(line) for line in out.splitlines()]
        assert [(m["seq"], m["group_id"]) for m in messages] == [(1, group_id), (2, group_id)]
    # A code the caller cannot see is one clear line, before any key or passphrase is touched.
    outsider = await make_member(client, Role.ADMIN)
    await make_group(client, outsider, code="HIDDEN-OP")
    for name in ("HIDDEN-OP", "NO-SUCH-OP"):
        code, out, err = await shell.run("post", "--group", name, "--text", "x")
        assert (code, out) == (1, "")
        assert f"no group with code {name}" in one_line(err)
