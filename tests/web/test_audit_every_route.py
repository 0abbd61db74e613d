"""Issue 8's acceptance test: every state-changing route writes exactly one audit entry.

Walks ROUTES_TABLE: every /api/v1 route that is not a GET, plus the GETs that are audited
(attachment downloads, the evidence export, the seizures CSV, the operation report). For each
it sends one successful request (built by the authorisation matrix's builders, as a caller
the matrix says succeeds) and asserts that exactly one new entry appeared, with the action
ACTIONS names. A route missing from ACTIONS fails the build. REPEATS lists requests that,
sent a second time, change nothing and so write no entry, each with the reason.
"""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from cencomm.appkeys import SERVICES
from cencomm.domain.audit import AuditEntry, AuditFilter
from cencomm.storage.db import Database
from cencomm.web.routes import ROUTES_TABLE
from tests.web.test_authorization_matrix import (  # the matrix's request builders
    BUILDERS,
    OWN,
    SELF,
    Answer,
    Req,
    World,
    build_request,
    ready_world,
    send,
)

API = "/api/v1"
AUDITED_GETS = {
    ("GET", f"{API}/groups/{{id}}/attachments/{{sha256}}"),
    ("GET", f"{API}/groups/{{id}}/export"),
    ("GET", f"{API}/groups/{{id}}/seizures.csv"),
    ("GET", f"{API}/groups/{{id}}/report"),
    ("GET", f"{API}/groups/{{id}}/export.misp.json"),
    ("GET", f"{API}/groups/{{id}}/export.stix.json"),
}
AUDITED = sorted(
    {(r.method, r.path) for r in ROUTES_TABLE if r.path.startswith(f"{API}/") and r.method != "GET"}
    | AUDITED_GETS
)

# route → (caller, target, the one action its successful request writes)
ACTIONS: dict[tuple[str, str], tuple[str, str, str]] = {
    ("POST", f"{API}/auth/login"): ("anonymous", OWN, "auth.login"),
    ("POST", f"{API}/auth/refresh"): ("anonymous", OWN, "auth.refresh"),
    ("POST", f"{API}/auth/logout"): ("officer_in", SELF, "auth.logout"),
    ("POST", f"{API}/auth/otp/setup"): ("officer_in", SELF, "auth.otp_setup"),
    ("POST", f"{API}/auth/otp/enable"): ("officer_in", SELF, "auth.otp_enable"),
    ("POST", f"{API}/organizations"): ("admin", SELF, "organization.create"),
    ("POST", f"{API}/users"): ("admin", OWN, "user.create"),
    ("PATCH", f"{API}/users/{{id}}"): ("admin", OWN, "user.update"),
    ("POST", f"{API}/keys"): ("officer_in", OWN, "key.register"),
    ("DELETE", f"{API}/keys/{{kid}}"): ("officer_in", OWN, "key.revoke"),
    ("POST", f"{API}/organizations/{{id}}/keys"): ("officer_in", OWN, "seal_key.register"),
    ("DELETE", f"{API}/organizations/{{id}}/keys/{{kid}}"): ("officer_in", OWN, "seal_key.revoke"),
    ("PUT", f"{API}/organizations/{{id}}/seal-holders/{{user_id}}"): (
        "admin",
        OWN,
        "seal_holder.add",
    ),
    ("DELETE", f"{API}/organizations/{{id}}/seal-holders/{{user_id}}"): (
        "admin",
        OWN,
        "seal_holder.remove",
    ),
    ("POST", f"{API}/messages/{{id}}/countersign"): ("officer_in", OWN, "message.countersign"),
    ("POST", f"{API}/groups"): ("admin", OWN, "group.create"),
    ("PATCH", f"{API}/groups/{{id}}"): ("group_moderator", OWN, "group.update"),
    ("POST", f"{API}/groups/{{id}}/members"): ("group_moderator", OWN, "group.member_add"),
    ("DELETE", f"{API}/groups/{{id}}/members/{{user_id}}"): (
        "group_moderator",
        OWN,
        "group.member_remove",
    ),
    ("DELETE", f"{API}/groups/{{id}}/organizations/{{org_id}}"): (
        "group_moderator",
        OWN,
        "group.member_remove",
    ),
    ("POST", f"{API}/join-requests"): ("officer_out", OWN, "join_request.create"),
    ("POST", f"{API}/join-requests/{{id}}/approve"): (
        "group_moderator",
        OWN,
        "join_request.approve",
    ),
    ("POST", f"{API}/join-requests/{{id}}/reject"): ("group_moderator", OWN, "join_request.reject"),
    ("POST", f"{API}/groups/{{id}}/messages"): ("officer_in", OWN, "message.post"),
    ("POST", f"{API}/messages/{{id}}/hide"): ("group_moderator", OWN, "message.hide"),
    ("POST", f"{API}/messages/{{id}}/unhide"): ("group_moderator", OWN, "message.unhide"),
    ("POST", f"{API}/groups/{{id}}/attachments"): ("officer_in", OWN, "attachment.upload"),
    ("GET", f"{API}/groups/{{id}}/attachments/{{sha256}}"): (
        "officer_in",
        OWN,
        "attachment.download",
    ),
    ("GET", f"{API}/groups/{{id}}/export"): ("group_moderator", OWN, "group.export"),
    ("GET", f"{API}/groups/{{id}}/seizures.csv"): ("observer", OWN, "group.seizures_export"),
    ("GET", f"{API}/groups/{{id}}/report"): ("officer_in", OWN, "group.report"),
    ("GET", f"{API}/groups/{{id}}/export.misp.json"): (
        "observer",
        OWN,
        "group.seizures_export",
    ),
    ("GET", f"{API}/groups/{{id}}/export.stix.json"): (
        "officer_in",
        OWN,
        "group.seizures_export",
    ),
    ("POST", f"{API}/alerts"): ("officer_in", OWN, "alert.raise"),
    ("POST", f"{API}/alerts/{{id}}/ack"): ("officer_in", OWN, "alert.ack"),
    ("PATCH", f"{API}/me/notifications"): ("officer_in", SELF, "notifications.update"),
    ("POST", f"{API}/watches"): ("analyst", SELF, "watch.create"),
    ("DELETE", f"{API}/watches/{{id}}"): ("officer_in", OWN, "watch.delete"),
    ("POST", f"{API}/messages/{{id}}/share-requests"): (
        "officer_in",
        OWN,
        "share_request.create",
    ),
    ("POST", f"{API}/share-requests/{{id}}/approve"): (
        "group_moderator",
        OWN,
        "share_request.approve",
    ),
    ("POST", f"{API}/share-requests/{{id}}/reject"): (
        "group_moderator",
        OWN,
        "share_request.reject",
    ),
}

# Idempotent repeats: the same request again changes nothing, so it writes no entry.
REPEATS: dict[tuple[str, str], str] = {
    ("DELETE", f"{API}/keys/{{kid}}"): "the key is revoked already",
    ("DELETE", f"{API}/organizations/{{id}}/keys/{{kid}}"): "the seal key is revoked already",
    ("PUT", f"{API}/organizations/{{id}}/seal-holders/{{user_id}}"): "a seal holder already",
    ("DELETE", f"{API}/organizations/{{id}}/seal-holders/{{user_id}}"): "no longer a holder",
    ("POST", f"{API}/messages/{{id}}/countersign"): "same cid and JWS: the original is returned",
    ("POST", f"{API}/messages/{{id}}/hide"): "the message is hidden already",
    ("POST", f"{API}/messages/{{id}}/unhide"): "the message is shown already",
    ("POST", f"{API}/groups/{{id}}/messages"): "same cid and JWS: the original is returned",
    ("POST", f"{API}/groups/{{id}}/attachments"): "same content: the first upload stands",
    ("POST", f"{API}/alerts"): "same cid and JWS: the original is returned",
    ("POST", f"{API}/alerts/{{id}}/ack"): "the same ack again: the first one stands",
    ("POST", f"{API}/messages/{{id}}/share-requests"): "the same pending request is returned",
}


async def entries_after(world: World, count: int) -> list[AuditEntry]:
    db: Database = world.services.db
    return await db.read(lambda unit: unit.audit.list_entries(AuditFilter(), count - 1, 100))


async def entry_count(world: World) -> int:
    db: Database = world.services.db
    return await db.read(lambda unit: unit.audit.count())


async def send_counted(world: World, who: str, req: Req) -> tuple[Answer, list[AuditEntry]]:
    before = await entry_count(world)
    answer = await send(world, who, req)
    return answer, await entries_after(world, before)


def test_every_state_changing_route_has_an_expected_action() -> None:
    """A route added to ROUTES_TABLE without a row here fails the build."""
    assert set(AUDITED) - set(ACTIONS) == set(), "routes without an expected audit action"
    assert set(ACTIONS) - set(AUDITED) == set(), "actions for routes that do not exist"
    assert set(REPEATS) <= set(ACTIONS)


@pytest.mark.parametrize("key", AUDITED, ids=lambda k: f"{k[0]} {k[1]}")
async def test_each_state_changing_request_writes_exactly_one_entry(
    client: TestClient[Any, Any], key: tuple[str, str]
) -> None:
    assert key in ACTIONS, f"{key} has no expected audit action"
    who, target, action = ACTIONS[key]
    spec = BUILDERS[key]
    world = await ready_world(client, spec)
    assert client.app[SERVICES] is world.services
    req = await build_request(spec, world, who, target)
    answer, new = await send_counted(world, who, req)
    assert 200 <= answer.status < 300, answer.body[:300]
    assert [e.action for e in new] == [action], [e.as_json() for e in new]
    if key in REPEATS:
        again, repeated = await send_counted(world, who, req)
        assert 200 <= again.status < 300, again.body[:300]
        assert repeated == [], f"{REPEATS[key]}, yet: {[e.as_json() for e in repeated]}"
