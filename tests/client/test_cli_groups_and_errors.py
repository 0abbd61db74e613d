"""`cencomm client`: every field error of a problem is printed, and groups are named by code or id.

The command line runs as a real process against the test server's socket.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from cencomm.domain.users import Role
from tests.client.helpers import server_url
from tests.factories import PASSWORD, Member, add_member, make_group, make_member, seizure_body
from tests.processes import run_cencomm


@dataclass
class Shell:
    """A logged-in `cencomm client` home with a registered key, for an officer in a group."""

    env: dict[str, str]
    group: dict[str, Any]
    officer: Member

    async def run(self, *args: str) -> tuple[int, str, str]:
        return await run_cencomm(self.env, "client", *args)


async def _shell(client: TestClient[Any, Any], tmp_path: Path) -> Shell:
    admin = await make_member(client, Role.ADMIN)
    officer = await make_member(client, Role.OFFICER)
    group = await make_group(client, admin, code="STOP-2020")
    await add_member(client, admin, group, officer)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CENCOMM_")}
    env["CENCOMM_CLIENT_HOME"] = str(tmp_path / "home")
    shell = Shell(env, group, officer)
    code, _, err = await run_cencomm(
        env,
        "client",
        "login",
        "--server",
        server_url(client),
        "--username",
        officer.user.username,
        stdin=f"{PASSWORD}\n".encode(),
    )
    assert code == 0, err
    for args in (("keys", "create"), ("keys", "register", "--label", "laptop")):
        code, _, err = await shell.run(*args)
        assert code == 0, err
    return shell


def _one_line(err: str) -> str:
    assert err.endswith("\n") and err.count("\n") == 1, err
    return err


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
    line = _one_line(err)
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
        assert f"no group with code {name}" in _one_line(err)
