"""`POST /join-requests` does the same work for every code: codes cannot be probed by timing.

Nothing is timed: the SQL statements the request runs are recorded and compared, as the
hidden-versus-missing tests of the authorisation matrix do (`tests/web/statements.py`: only
statements run on behalf of the request, never background work). The session cache is off, so
every request checks its session the same way.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from aiohttp.test_utils import TestClient

from cencomm.app import create_app
from cencomm.domain.users import Role
from cencomm.settings import Settings
from tests.factories import Member, add_member, make_group, make_member
from tests.web.statements import recorded_statements


async def _ask(
    client: TestClient[Any, Any], who: Member, code: str
) -> tuple[int, bytes, list[str]]:
    with recorded_statements(client) as statements:
        resp = await client.post(
            "/api/v1/join-requests",
            json={"group_code": code, "reason": "Liaison officer for the operation"},
            headers=who.auth,
        )
        body = await resp.read()
    return resp.status, body, statements


async def test_unknown_and_existing_codes_run_the_same_statements(
    aiohttp_client: Any, settings: Settings
) -> None:
    settings = replace(settings, auth=replace(settings.auth, session_cache_seconds=0))
    client: TestClient[Any, Any] = await aiohttp_client(create_app(settings))
    admin = await make_member(client, Role.ADMIN)
    await make_group(client, admin, code="JOIN-PROBE")
    stranger = await make_member(client, Role.OFFICER)
    unknown = await _ask(client, stranger, "NO-SUCH-OP")
    existing = await _ask(client, stranger, "JOIN-PROBE")  # records a pending request
    assert any("join_request" in s for s in existing[2]), "is the recorder attached?"
    assert existing[:2] == unknown[:2]
    assert existing[0] == 202
    assert existing[2] == unknown[2]


async def test_every_outcome_of_a_join_request_runs_the_same_statements(
    aiohttp_client: Any, settings: Settings
) -> None:
    """A repeat (already pending) and a member's request (already a member) too."""
    settings = replace(settings, auth=replace(settings.auth, session_cache_seconds=0))
    client: TestClient[Any, Any] = await aiohttp_client(create_app(settings))
    admin = await make_member(client, Role.ADMIN)
    group = await make_group(client, admin, code="JOIN-ALL")
    stranger = await make_member(client, Role.OFFICER)
    member = await make_member(client, Role.OFFICER)
    await add_member(client, admin, group, member)
    runs = [
        await _ask(client, stranger, "UNKNOWN-OP"),
        await _ask(client, stranger, "JOIN-ALL"),
        await _ask(client, stranger, "join-all"),  # already pending
        await _ask(client, member, "JOIN-ALL"),  # already a member
        await _ask(client, stranger, "not a code!"),  # malformed: nothing can match it
    ]
    first = runs[0]
    for status, body, statements in runs:
        assert (status, body) == (202, first[1])
        assert statements == first[2]
