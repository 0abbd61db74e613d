"""The Python client keeps the device token of its last login and sends it with the next one."""

from __future__ import annotations

import argparse
import io
import json
import stat
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from cencomm.client import CencommClient, ProblemError
from cencomm.client.cli_commands import dispatch
from cencomm.client.state import ClientState, StateStore
from cencomm.domain.users import User
from cencomm.settings import Settings
from tests.client.helpers import server_url
from tests.factories import PASSWORD, make_user

LOGIN = "/api/v1/auth/login"


async def _lock_out(client: TestClient[Any, Any], user: User, settings: Settings) -> None:
    """Someone else fails on the user's name until the account budget is used up."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as other:
        for _ in range(settings.auth.max_failures_per_account):
            body = {"username": user.username, "password": "not the password"}
            resp = await other.post(client.make_url(LOGIN), json=body)
            assert resp.status == 401


async def test_the_client_sends_its_device_token_and_is_not_locked_out_by_others(
    client: TestClient[Any, Any], settings: Settings
) -> None:
    user = await make_user(client)
    async with CencommClient(server_url(client)) as api:
        assert api.device_token is None
        await api.login(user.username, PASSWORD)
        token = api.device_token
        assert token is not None
    await _lock_out(client, user, settings)

    async with CencommClient(server_url(client)) as stranger:
        with pytest.raises(ProblemError) as caught:
            await stranger.login(user.username, PASSWORD)
        assert caught.value.status == 429
    async with CencommClient(server_url(client), device_token=token) as api:
        await api.login(user.username, PASSWORD)
        assert api.device_token not in (None, token)  # replaced by the next one


def _login_args(client: TestClient[Any, Any], home: Path, username: str) -> argparse.Namespace:
    return argparse.Namespace(
        client_command="login",
        home=home,
        timeout=10.0,
        server=server_url(client),
        username=username,
        otp=None,
    )


async def test_cli_login_saves_the_device_token_owner_only_and_sends_it_next_time(
    client: TestClient[Any, Any],
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user = await make_user(client)
    home = tmp_path / "home"
    store = StateStore(home)
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{PASSWORD}\n"))
    assert await dispatch(_login_args(client, home, user.username), store) == 0

    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    saved = json.loads(store.path.read_text())["device_tokens"]
    assert list(saved) == [f"{user.username} {server_url(client)}"]
    first = next(iter(saved.values()))

    await _lock_out(client, user, settings)
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{PASSWORD}\n"))
    assert await dispatch(_login_args(client, home, user.username.upper()), store) == 0
    again = store.load().device_tokens
    assert list(again) == list(saved) and again[next(iter(saved))] != first


def test_state_files_from_before_device_tokens_still_load(tmp_path: Path) -> None:
    store = StateStore(tmp_path)
    store.save(ClientState(server="https://cencomm.example", username="officer"))
    data = json.loads(store.path.read_text())
    del data["device_tokens"]
    store.path.write_text(json.dumps(data))
    assert store.load().device_tokens == {}
