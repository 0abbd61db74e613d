"""The post-context and session caches, seen through the public API on a real socket: every change
to what a post reads is refused or honoured by the very next post, and concurrent requests share
one read.

The caches are given 10 s (the most the settings allow) so that an entry is certainly still
fresh when the next request comes: a test passing because an entry expired proves nothing.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient

from cencomm.app import create_app
from cencomm.appkeys import SERVICES
from cencomm.domain.users import Role
from cencomm.services.container import Services
from cencomm.settings import Settings
from tests.factories import (
    Member,
    add_member,
    envelope,
    login,
    make_group,
    make_member,
    register_key,
    sign,
)
from tests.problems import assert_problem

TTL = 10.0


@pytest.fixture
def app(settings: Settings) -> web.Application:
    auth = dataclasses.replace(
        settings.auth, session_cache_seconds=TTL, post_context_cache_seconds=TTL
    )
    return create_app(dataclasses.replace(settings, auth=auth))


def _services(client: TestClient[Any, Any]) -> Services:
    services: Services = client.app[SERVICES]
    return services


async def _post(
    client: TestClient[Any, Any], member: Member, group: dict[str, Any]
) -> ClientResponse:
    return await client.post(
        f"/api/v1/groups/{group['id']}/messages",
        json={"jws": sign(member, envelope(member, group["id"]))},
        headers=member.auth,
    )


async def _setup(client: TestClient[Any, Any]) -> tuple[Member, dict[str, Any], Member]:
    """A moderator's active group and an officer in it whose post context is cached."""
    mod = await make_member(client, Role.MODERATOR)
    group = await make_group(client, mod)
    officer = await make_member(client, Role.OFFICER, with_key=True)
    await add_member(client, mod, group, officer)
    await _assert_cached_after_one_post(client, officer, group)
    return mod, group, officer


async def _assert_cached_after_one_post(
    client: TestClient[Any, Any], member: Member, group: dict[str, Any]
) -> None:
    contexts = _services(client).post_contexts
    assert (await _post(client, member, group)).status == 201
    reads = contexts.reads
    assert (await _post(client, member, group)).status == 201
    assert contexts.reads == reads, "the second post should have used the cached context"


async def test_a_revoked_key_is_refused_by_the_next_post(client: TestClient[Any, Any]) -> None:
    _, group, officer = await _setup(client)
    resp = await client.delete(f"/api/v1/keys/{officer.kid}", headers=officer.auth)
    assert resp.status == 204
    await assert_problem(await _post(client, officer, group), 422, "revoked-key")


async def test_an_admin_revoking_the_key_is_seen_by_the_next_post(
    client: TestClient[Any, Any],
) -> None:
    _, group, officer = await _setup(client)
    admin = await make_member(client, Role.ADMIN)
    assert (await client.delete(f"/api/v1/keys/{officer.kid}", headers=admin.auth)).status == 204
    await assert_problem(await _post(client, officer, group), 422, "revoked-key")


async def test_a_new_key_can_post_at_once(client: TestClient[Any, Any]) -> None:
    _, group, officer = await _setup(client)
    await register_key(client, officer)
    assert (await _post(client, officer, group)).status == 201


async def test_a_removed_member_gets_404_from_the_next_post(client: TestClient[Any, Any]) -> None:
    mod, group, officer = await _setup(client)
    resp = await client.delete(
        f"/api/v1/groups/{group['id']}/members/{officer.id}", headers=mod.auth
    )
    assert resp.status == 204
    await assert_problem(await _post(client, officer, group), 404)


async def test_removing_the_organisation_membership_is_seen_by_the_next_post(
    client: TestClient[Any, Any],
) -> None:
    mod = await make_member(client, Role.MODERATOR)
    group = await make_group(client, mod)
    officer = await make_member(client, Role.OFFICER, with_key=True)
    resp = await client.post(
        f"/api/v1/groups/{group['id']}/members",
        json={"organization_id": str(officer.organization.id), "role": "member"},
        headers=mod.auth,
    )
    assert resp.status in (200, 201), await resp.text()
    await _assert_cached_after_one_post(client, officer, group)
    resp = await client.delete(
        f"/api/v1/groups/{group['id']}/organizations/{officer.organization.id}", headers=mod.auth
    )
    assert resp.status == 204
    await assert_problem(await _post(client, officer, group), 404)


async def test_a_member_downgraded_to_observer_gets_403_from_the_next_post(
    client: TestClient[Any, Any],
) -> None:
    mod, group, officer = await _setup(client)
    await add_member(client, mod, group, officer, "observer")
    await assert_problem(await _post(client, officer, group), 403, "read-only")


@pytest.mark.parametrize("status", ["closed", "archived"])
async def test_a_closed_group_refuses_the_next_post(
    client: TestClient[Any, Any], status: str
) -> None:
    mod, group, officer = await _setup(client)
    for step in ["closed", "archived"][: 1 + (status == "archived")]:
        resp = await client.patch(
            f"/api/v1/groups/{group['id']}", json={"status": step}, headers=mod.auth
        )
        assert resp.status == 200, await resp.text()
    await assert_problem(await _post(client, officer, group), 409, "group-not-active")


async def test_a_disabled_user_is_refused_by_the_next_request(
    client: TestClient[Any, Any],
) -> None:
    _, group, officer = await _setup(client)
    admin = await make_member(client, Role.ADMIN)
    resp = await client.patch(
        f"/api/v1/users/{officer.id}", json={"disabled": True}, headers=admin.auth
    )
    assert resp.status == 200, await resp.text()
    await assert_problem(await _post(client, officer, group), 401)


async def test_a_logged_out_session_is_refused_by_the_next_request(
    client: TestClient[Any, Any],
) -> None:
    _, group, officer = await _setup(client)
    assert (await client.post("/api/v1/auth/logout", headers=officer.auth)).status == 204
    await assert_problem(await _post(client, officer, group), 401)


async def test_concurrent_posts_share_one_session_read_and_one_context_read(
    client: TestClient[Any, Any],
) -> None:
    mod = await make_member(client, Role.MODERATOR)
    group = await make_group(client, mod)
    officer = await make_member(client, Role.OFFICER, with_key=True)
    await add_member(client, mod, group, officer)
    # A fresh session and a fresh context: neither is cached yet.
    officer.access_token = (await login(client, officer.user.username))["access_token"]
    services = _services(client)
    sessions, contexts = services.session_cache.reads, services.post_contexts.reads
    answers = await asyncio.gather(*(_post(client, officer, group) for _ in range(32)))
    assert [r.status for r in answers] == [201] * 32
    # Each request either joined the read in flight or found its result cached.
    assert services.session_cache.reads - sessions == 1
    assert services.post_contexts.reads - contexts == 1
