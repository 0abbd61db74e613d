"""`cencomm client ...` end to end: real processes against `cencomm serve` on a free port."""

from __future__ import annotations

import json
import os
import stat
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cencomm.client import CencommClient
from tests.client.shell import one_line
from tests.factories import seizure_body
from tests.processes import free_port, run_cencomm, serve, stop

PG_URL = os.environ.get("CENCOMM_TEST_DATABASE_URL", "")
ADMIN_PASSWORD = "first admin password"
OFFICER_PASSWORD = "officer password 123"

pytestmark = pytest.mark.skipif(
    bool(PG_URL), reason="runs its own server on the default embedded SQLite"
)


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CENCOMM_")}
    (tmp_path / "none.toml").write_text("")
    env.update(
        CENCOMM_DATA_DIR=str(tmp_path / "data"),
        CENCOMM_CONFIG=str(tmp_path / "none.toml"),
        CENCOMM_AUTH_ARGON2_TIME_COST="1",
        CENCOMM_AUTH_ARGON2_MEMORY_KIB="1024",
        CENCOMM_CLIENT_HOME=str(tmp_path / "home"),
    )
    return env


async def _client(env: dict[str, str], *args: str, stdin: bytes = b"") -> tuple[int, str, str]:
    return await run_cencomm(env, "client", "--json", *args, stdin=stdin)


@dataclass
class Server:
    url: str
    env: dict[str, str]
    group_id: str
    officer: str
    admin: CencommClient


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    env = _env(tmp_path)
    code, _, err = await run_cencomm(env, "migrate")
    assert code == 0, err
    code, _, err = await run_cencomm(
        env, "create-admin", "--username", "root", stdin=f"{ADMIN_PASSWORD}\n".encode()
    )
    assert code == 0, err
    port = free_port()
    proc = await serve(env, port)
    url = f"http://127.0.0.1:{port}"
    try:
        async with CencommClient(url) as admin:
            await admin.login("root", ADMIN_PASSWORD)
            org = await admin.request_json(
                "POST",
                "/organizations",
                json_body={
                    "name": "Douane FR",
                    "kind": "administration",
                    "country": "FR",
                    "region": "EUROPE",
                },
            )
            user = await admin.request_json(
                "POST",
                "/users",
                json_body={
                    "username": "officer.fr",
                    "display_name": "Officer FR",
                    "organization_id": org["id"],
                    "role": "officer",
                    "password": OFFICER_PASSWORD,
                },
            )
            group = await admin.request_json(
                "POST", "/groups", json_body={"code": "OP-STOP", "name": "Operation STOP"}
            )
            await admin.request_json(
                "PATCH", f"/groups/{group['id']}", json_body={"status": "active"}
            )
            await admin.request_json(
                "POST",
                f"/groups/{group['id']}/members",
                json_body={"user_id": user["id"], "role": "member"},
            )
            yield Server(url, env, group["id"], user["id"], admin)
    finally:
        assert await stop(proc) == 0


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def _login_and_key(server: Server, tmp_path: Path) -> Path:
    code, out, err = await _client(
        server.env,
        "login",
        "--server",
        server.url,
        "--username",
        "officer.fr",
        stdin=f"{OFFICER_PASSWORD}\n".encode(),
    )
    assert code == 0, err
    assert json.loads(out) == {
        "server": server.url,
        "user_id": server.officer,
        "username": "officer.fr",
    }
    state = tmp_path / "home" / "client.json"
    assert _mode(state) == 0o600
    assert OFFICER_PASSWORD not in state.read_text()

    passphrase = tmp_path / "passphrase.txt"
    passphrase.write_text("correct horse battery staple\n")
    code, out, err = await _client(
        server.env, "keys", "create", "--passphrase-file", str(passphrase)
    )
    assert code == 0, err
    created = json.loads(out)
    assert created["encrypted"] is True
    assert _mode(Path(created["key_file"])) == 0o600
    code, out, err = await _client(
        server.env, "keys", "register", "--label", "laptop", "--passphrase-file", str(passphrase)
    )
    assert code == 0, err
    assert json.loads(out)["kid"] == created["kid"]
    return passphrase


async def test_cli_login_keys_post_read_verify(server: Server, tmp_path: Path) -> None:
    env = server.env
    passphrase = await _login_and_key(server, tmp_path)
    secret = ("--passphrase-file", str(passphrase))

    code, out, err = await _client(
        env,
        "post",
        "--group",
        server.group_id,
        "--text",
        "Masks at CDG",
        "--hc",
        "TLP:GREEN",
        *secret,
    )
    assert code == 0, err
    text = json.loads(out)
    assert text["seq"] == 1 and text["replayed"] is False

    report = tmp_path / "seizure.json"
    report.write_text(json.dumps(seizure_body("FR")))
    code, out, err = await _client(
        env, "post", "--group", server.group_id, "--seizure", str(report), *secret
    )
    assert code == 0, err
    assert json.loads(out)["seq"] == 2
    code, out, err = await _client(
        env, "post", "--group", server.group_id, "--notice", "New route", "--text", "Via AE",
        "--reply-to", text["id"], *secret,
    )  # fmt: skip
    assert code == 0, err

    code, out, err = await _client(env, "read", "--group", server.group_id)
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert [(m["seq"], m["typ"]) for m in lines] == [(1, "text"), (2, "seizure"), (3, "notice")]
    assert lines[2]["reply_to"] == text["id"]
    # People read the signed content, not the JWS string (`--jws` adds it for proof).
    assert all("jws" not in m for m in lines)
    assert lines[0]["content"]["body"] == {"text": "Masks at CDG"}
    assert lines[1]["content"]["body"]["items"][0]["category"] == "masks"
    assert lines[2]["content"]["reply_to"] == text["id"]
    code, out, _ = await _client(
        env, "read", "--group", server.group_id, "--after", "2", "--limit", "1", "--jws"
    )
    [last] = [json.loads(line) for line in out.splitlines()]
    assert last["seq"] == 3 and last["jws"].count(".") == 2 and last["content"]["typ"] == "notice"

    code, out, err = await _client(env, "verify", "--message", text["id"])
    assert code == 0, err
    verified = json.loads(out)
    assert verified["verified"] is True and verified["sender_id"] == server.officer

    code, out, err = await _client(env, "keys", "list")
    assert code == 0, err
    (key,) = json.loads(out)["keys"]
    # A kid is base64url and may start with "-": `--` ends the options, as for any command.
    code, _, err = await _client(env, "keys", "revoke", "--", key["kid"])
    assert code == 0, err
    code, out, err = await _client(env, "verify", "--message", text["id"])
    assert code == 0, err  # a key revoked later still verifies older messages
    assert json.loads(out)["key_revoked_at"] is not None
    code, _, err = await _client(env, "post", "--group", server.group_id, "--text", "x", *secret)
    assert code == 1
    one_line(err)
    assert "revoked-key" in err


async def test_cli_verify_fails_on_a_hidden_message_and_unknown_ids(
    server: Server, tmp_path: Path
) -> None:
    passphrase = await _login_and_key(server, tmp_path)
    code, out, err = await _client(
        server.env, "post", "--group", server.group_id, "--text", "to be hidden",
        "--passphrase-file", str(passphrase),
    )  # fmt: skip
    assert code == 0, err
    message_id = json.loads(out)["id"]
    await server.admin.request_json(
        "POST", f"/messages/{message_id}/hide", json_body={"reason": "wrong group"}
    )
    code, out, err = await _client(server.env, "verify", "--message", message_id)
    assert (code, out) == (1, "")
    one_line(err)
    assert "NOT verified: hidden" in err

    code, out, err = await _client(server.env, "verify", "--message", str(uuid.uuid4()))
    assert (code, out) == (1, "")
    one_line(err)
    assert "404" in err


async def test_cli_errors_are_one_line_with_exit_codes(server: Server, tmp_path: Path) -> None:
    env = server.env
    code, _, err = await _client(env, "whoami")
    assert code == 1
    one_line(err)
    assert "not logged in" in err

    code, _, err = await _client(
        env, "login", "--server", server.url, "--username", "officer.fr", stdin=b"wrong password\n"
    )
    assert code == 1
    one_line(err)
    assert "invalid-credentials" in err

    passphrase = await _login_and_key(server, tmp_path)
    code, out, err = await _client(env, "whoami")
    assert code == 0 and json.loads(out)["id"] == server.officer

    code, _, err = await _client(env, "post", "--group", server.group_id)
    assert code == 2
    one_line(err)

    key_file = tmp_path / "home" / "signing-key.pem"
    key_file.chmod(0o644)
    code, _, err = await _client(
        env, "post", "--group", server.group_id, "--text", "x", "--passphrase-file", str(passphrase)
    )
    assert code == 1
    one_line(err)
    assert "chmod 600" in err
    key_file.chmod(0o600)

    wrong = tmp_path / "wrong.txt"
    wrong.write_text("not the passphrase\n")
    code, _, err = await _client(
        env, "post", "--group", server.group_id, "--text", "x", "--passphrase-file", str(wrong)
    )
    assert code == 1 and "wrong passphrase" in err

    code, _, err = await _client(env, "logout")
    assert code == 0, err
    code, _, err = await _client(env, "whoami")
    assert code == 1 and "not logged in" in err

    other_home = tmp_path / "elsewhere"
    code, _, err = await _client(
        env, "--home", str(other_home), "login", "--server", f"http://127.0.0.1:{free_port()}",
        "--username", "officer.fr", stdin=b"x\n",
    )  # fmt: skip
    assert code == 3
    one_line(err)
    assert "unreachable" in err
