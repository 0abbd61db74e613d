"""CencommClient sessions against the real server: login, refresh (single flight), logout."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from cencomm.client import CencommClient, NotLoggedIn, ProblemError, TokenSet, TransportError
from cencomm.domain.users import Role
from tests.client.helpers import FAST_RETRY, server_url
from tests.factories import PASSWORD, make_member


async def test_login_then_me(client: TestClient[Any, Any]) -> None:
    officer = await make_member(client, Role.OFFICER)
    async with CencommClient(server_url(client)) as api:
        tokens = await api.login(officer.user.username, PASSWORD)
        assert tokens.expires_in > 0
        me = await api.me()
        assert me["id"] == officer.id
        assert await api.user_id() == officer.id
        assert "access_token" not in repr(tokens)
        assert tokens.access_token not in repr(tokens)


async def test_wrong_password_is_a_problem_error(client: TestClient[Any, Any]) -> None:
    officer = await make_member(client, Role.OFFICER)
    async with CencommClient(server_url(client)) as api:
        with pytest.raises(ProblemError) as caught:
            await api.login(officer.user.username, "not the password at all")
    assert caught.value.status == 401
    assert caught.value.slug == "invalid-credentials"
    assert caught.value.type == "urn:cencomm:problem:invalid-credentials"
    assert caught.value.detail


async def test_a_call_before_login_raises_not_logged_in(client: TestClient[Any, Any]) -> None:
    async with CencommClient(server_url(client)) as api:
        with pytest.raises(NotLoggedIn):
            await api.me()


async def test_rejected_access_token_is_refreshed_once_and_the_call_resent(
    client: TestClient[Any, Any],
) -> None:
    officer = await make_member(client, Role.OFFICER)
    saved: list[TokenSet | None] = []
    async with CencommClient(server_url(client), on_tokens=saved.append) as api:
        good = await api.login(officer.user.username, PASSWORD)
        # A token the server rejects (401 invalid-token), with a valid refresh token behind it.
        api._tokens = TokenSet("not.a.token", good.refresh_token, time.time(), good.expires_in)
        me = await api.me()
        assert me["id"] == officer.id
        assert api.tokens is not None
        assert api.tokens.refresh_token != good.refresh_token
    assert len(saved) == 2  # the login and one refresh, each handed to the listener


async def test_near_expiry_refresh_is_single_flight(client: TestClient[Any, Any]) -> None:
    officer = await make_member(client, Role.OFFICER)
    refreshes: list[TokenSet | None] = []
    async with CencommClient(server_url(client)) as api:
        good = await api.login(officer.user.username, PASSWORD)
        # Issued long ago: due for refresh. Twenty concurrent calls must share one refresh;
        # a second refresh with the same (used) refresh token would revoke the whole session.
        api._tokens = TokenSet(good.access_token, good.refresh_token, 0.0, good.expires_in)
        api._on_tokens = refreshes.append
        results = await asyncio.gather(*(api.me() for _ in range(20)))
        assert {r["id"] for r in results} == {officer.id}
        assert len(refreshes) == 1
        assert (await api.me())["id"] == officer.id  # the session is still alive


async def test_used_refresh_token_ends_the_session(client: TestClient[Any, Any]) -> None:
    officer = await make_member(client, Role.OFFICER)
    async with CencommClient(server_url(client)) as api:
        first = await api.login(officer.user.username, PASSWORD)
        await api.refresh()
        api._tokens = first  # replay the used refresh token
        with pytest.raises(ProblemError) as caught:
            await api.refresh()
        assert caught.value.status == 401
        assert api.tokens is None  # the client forgets a dead session


async def test_logout_ends_the_session_on_the_server(client: TestClient[Any, Any]) -> None:
    officer = await make_member(client, Role.OFFICER)
    async with CencommClient(server_url(client)) as api:
        tokens = await api.login(officer.user.username, PASSWORD)
        await api.logout()
        assert api.tokens is None
        with pytest.raises(NotLoggedIn):
            await api.me()
    resp = await client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {tokens.access_token}"}
    )
    assert resp.status == 401
    async with CencommClient(server_url(client), tokens=tokens) as stale:
        with pytest.raises(ProblemError) as caught:
            await stale.me()  # the refresh token died with the session too
        assert caught.value.status == 401


async def test_unreachable_server_is_a_transport_error_after_bounded_tries() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    tokens = TokenSet("a", "b", time.time(), 300)
    async with CencommClient(f"http://127.0.0.1:{port}", tokens=tokens, retry=FAST_RETRY) as api:
        with pytest.raises(TransportError):
            await api.me()
