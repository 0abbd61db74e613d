"""`cencomm client` as a user runs it: a real process, its own home, against the test server.

`make_shell` logs a member in (and, by default, creates and registers a signing key), so a
test drives the command line exactly as a person at a terminal would.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from cencomm.domain.users import Role
from tests.client.helpers import server_url
from tests.factories import PASSWORD, Member, add_member, make_group, make_member
from tests.processes import run_cencomm

# For modules of command-line tests that check nothing of the server's own: they run once, on
# the SQLite pass (the routes they call are tested in-process on both databases).
RUN_ONCE = pytest.mark.skipif(
    bool(os.environ.get("CENCOMM_TEST_DATABASE_URL")),
    reason="the command line is the same whatever the server's database; its server routes "
    "are tested on both",
)


def one_line(err: str) -> str:
    """`err` is the one line a failed command prints: `cencomm client: ...`."""
    assert err.startswith("cencomm client: ") and err.count("\n") == 1, err
    assert err.endswith("\n"), err
    return err


@dataclass
class Shell:
    """A logged-in `cencomm client` home for one member of a group."""

    env: dict[str, str]
    group: dict[str, Any]
    member: Member
    home: Path

    @property
    def officer(self) -> Member:  # the name the first tests used
        return self.member

    async def run(self, *args: str, stdin: bytes = b"") -> tuple[int, str, str]:
        """`cencomm client --json ARGS`: (exit code, stdout, stderr)."""
        return await run_cencomm(self.env, "client", "--json", *args, stdin=stdin)

    async def text(self, *args: str, stdin: bytes = b"") -> tuple[int, str, str]:
        """`cencomm client ARGS` with the output for people."""
        return await run_cencomm(self.env, "client", *args, stdin=stdin)

    async def ok(self, *args: str, stdin: bytes = b"") -> Any:
        """Run with `--json`, insist on exit 0 and a quiet stderr, and decode the one value."""
        code, out, err = await self.run(*args, stdin=stdin)
        assert code == 0, err
        return json.loads(out)


async def login_shell(
    client: TestClient[Any, Any],
    tmp_path: Path,
    member: Member,
    group: dict[str, Any],
    *,
    key: bool = True,
    name: str = "home",
) -> Shell:
    """A client home (`tmp_path/name`) logged in as `member`, with a registered key when `key`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CENCOMM_")}
    home = tmp_path / name
    env["CENCOMM_CLIENT_HOME"] = str(home)
    shell = Shell(env, group, member, home)
    code, _, err = await run_cencomm(
        env,
        "client",
        "login",
        "--server",
        server_url(client),
        "--username",
        member.user.username,
        stdin=f"{PASSWORD}\n".encode(),
    )
    assert code == 0, err
    if key:
        for args in (("keys", "create"), ("keys", "register", "--label", "laptop")):
            code, _, err = await shell.run(*args)
            assert code == 0, err
    return shell


async def make_shell(
    client: TestClient[Any, Any],
    tmp_path: Path,
    role: Role = Role.OFFICER,
    *,
    code: str = "STOP-2020",
    key: bool = True,
) -> Shell:
    """An admin's active group `code` with a new member of `role`, logged in on the command line."""
    admin = await make_member(client, Role.ADMIN)
    member = await make_member(client, role)
    group = await make_group(client, admin, code=code)
    await add_member(client, admin, group, member)
    return await login_shell(client, tmp_path, member, group, key=key)
