"""The command line as an operator uses it: real processes, real sockets, real signals."""

from __future__ import annotations

import os
from pathlib import Path

import aiohttp
import pytest

from tests.client.shell import RUN_ONCE
from tests.processes import free_port, run_cencomm, serve, stop

PG_URL = os.environ.get("CENCOMM_TEST_DATABASE_URL", "")


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CENCOMM_")}
    env["CENCOMM_DATA_DIR"] = str(tmp_path / "data")
    env["CENCOMM_CONFIG"] = str(tmp_path / "none.toml")
    (tmp_path / "none.toml").write_text("")
    env.update(extra)
    return env


async def test_help_lists_the_commands(tmp_path: Path) -> None:
    code, out, _ = await run_cencomm(_env(tmp_path), "--help")
    assert code == 0
    for command in ("serve", "migrate", "create-admin", "demo-seed", "audit"):
        assert command in out


async def test_bad_port_exits_non_zero_with_one_line(tmp_path: Path) -> None:
    code, out, err = await run_cencomm(_env(tmp_path, CENCOMM_PORT="abc"), "serve")
    assert code == 2
    assert out == ""
    assert err.strip().count("\n") == 0
    assert "CENCOMM_PORT" in err


async def test_unreachable_database_exits_non_zero_with_one_line(tmp_path: Path) -> None:
    url = f"postgresql+asyncpg://nobody:secretpw@127.0.0.1:{free_port()}/nothing"
    code, _, err = await run_cencomm(_env(tmp_path, CENCOMM_DATABASE_URL=url), "serve")
    assert code == 1
    assert err.strip().count("\n") == 0, err
    assert "unreachable" in err
    assert "secretpw" not in err


async def test_migrate_then_audit_verify(tmp_path: Path) -> None:
    env = _env(tmp_path)
    code, _, err = await run_cencomm(env, "migrate")
    assert code == 0, err
    assert (tmp_path / "data" / "cencomm.db").exists()
    code, out, err = await run_cencomm(env, "audit", "verify")
    assert code == 0, err
    assert "intact" in out


@pytest.mark.skipif(bool(PG_URL), reason="exercises the default embedded SQLite set-up")
async def test_serve_answers_then_stops_cleanly_and_restarts_with_same_keys(tmp_path: Path) -> None:
    env = _env(tmp_path)
    port = free_port()
    proc = await serve(env, port)
    try:
        async with aiohttp.ClientSession() as http:
            for path in ("/health", "/ready"):
                async with http.get(f"http://127.0.0.1:{port}{path}") as resp:
                    assert resp.status == 200
    finally:
        assert await stop(proc) == 0
    keys = sorted(p.name for p in (tmp_path / "data" / "keys").rglob("*.*"))
    assert len(keys) == 4  # token, audit and master keys, and the blob name key

    proc = await serve(env, port)
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}/ready") as resp,
        ):
            assert resp.status == 200
    finally:
        assert await stop(proc) == 0
    assert sorted(p.name for p in (tmp_path / "data" / "keys").rglob("*.*")) == keys


def _cli_env(tmp_path: Path) -> dict[str, str]:
    env = _env(tmp_path, CENCOMM_AUTH_ARGON2_TIME_COST="1", CENCOMM_AUTH_ARGON2_MEMORY_KIB="1024")
    if PG_URL:
        env["CENCOMM_DATABASE_URL"] = PG_URL
    return env


async def test_create_admin_from_stdin_then_log_in(tmp_path: Path, database_url: str) -> None:
    from aiohttp.test_utils import TestClient, TestServer

    from cencomm.app import create_app
    from tests.conftest import make_test_settings
    from tests.factories import login

    env = _cli_env(tmp_path)
    env["CENCOMM_DATABASE_URL"] = database_url
    code, out, err = await run_cencomm(
        env, "create-admin", "--username", "Root.Admin", stdin=b"first admin password\n"
    )
    assert code == 0, err
    assert "root.admin" in out
    code, _, err = await run_cencomm(env, "create-admin", "--username", "other", stdin=b"short\n")
    assert code == 1 and "12" in err and err.count("\n") == 1

    settings = make_test_settings(database_url, tmp_path / "data")
    async with TestClient(TestServer(create_app(settings))) as client:
        tokens = await login(client, "root.admin", "first admin password")
        me = await client.get(
            "/api/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
        body = await me.json()
    assert body["role"] == "admin"
    assert body["organization"]["kind"] == "secretariat"


async def test_create_admin_reads_the_environment(tmp_path: Path, database_url: str) -> None:
    env = _cli_env(tmp_path)
    env["CENCOMM_DATABASE_URL"] = database_url
    env["CENCOMM_ADMIN_PASSWORD"] = "password from the environment"
    code, out, err = await run_cencomm(env, "create-admin", "--username", "env.admin")
    assert code == 0, err
    assert "secret" not in out and "environment" not in out


@RUN_ONCE  # the command is the same whatever the database; seeding on both: test_demo_operation
async def test_demo_seed_is_idempotent(tmp_path: Path, database_url: str) -> None:
    env = _cli_env(tmp_path)
    env["CENCOMM_DATABASE_URL"] = database_url
    code, out, err = await run_cencomm(env, "demo-seed")
    assert code == 0, err
    assert "secretariat.admin" in out
    assert "STOP-2020" in out
    assert (tmp_path / "data" / "demo-keys" / "officer.fr.pem").stat().st_mode & 0o077 == 0
    code, out, err = await run_cencomm(env, "demo-seed")
    assert code == 0, err
    assert "nothing changed" in out
    code, out, err = await run_cencomm(env, "audit", "verify")
    assert code == 0, err
