"""Cross-group share requests (issue 20): ask about an identifier that matches a report of another
operation, the other operation's moderators decide, and consent shows the two reports to each
other's side; TLP:RED and hidden reports never take part; nothing leaks before consent; every
step audited.

One world per test: operation A (the requester's, an officer of France), operation B (a German
officer's report with the same consignee, spelt differently), and the roles around them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from cencomm.appkeys import SERVICES
from cencomm.domain.users import Role
from tests.factories import (
    Member,
    add_member,
    make_group,
    make_member,
    make_organization,
    post_message,
    seizure_body,
)
from tests.problems import assert_problem
from tests.web.live_helpers import connect, next_of

API = "/api/v1"
CONSIGNEE = {"role": "consignee", "name": "Müller Pharma GmbH", "country": "DE"}
# The same company as B's officer wrote it: one normal form, `muller pharma`.
CONSIGNEE_B = {"role": "consignee", "name": "MULLER-PHARMA gmbh", "country": "DE"}
CONTAINER = "CSQU3054383"
REASON = "Same consignee as our seizure of 20 May; we want to compare the routes."


@dataclass
class World:
    client: TestClient[Any, Any]
    admin: Member
    staff_moderator: Member
    a_moderator: Member
    officer: Member  # the requester: an officer of operation A
    analyst: Member  # a member of A through their RILO
    observer: Member  # a partner observer of A
    b_moderator: Member
    b_officer: Member
    c_moderator: Member
    stranger: Member  # an officer in no group
    group_a: dict[str, Any]
    group_b: dict[str, Any]
    group_c: dict[str, Any]
    ids: dict[str, str] = field(default_factory=dict)

    async def report(
        self, who: Member, group: dict[str, Any], hc: str = "TLP:AMBER", **body: Any
    ) -> str:
        country = who.organization.country or "FR"
        posted = await post_message(
            self.client, who, group, "seizure", hc=hc, body=seizure_body(country, **body)
        )
        return str(posted["id"])

    async def ask(
        self, who: Member, message_id: str, kind: str = "party", value: str = "muller pharma"
    ) -> Any:
        return await self.client.post(
            f"{API}/messages/{message_id}/share-requests",
            json={"kind": kind, "value": value, "reason": REASON},
            headers=who.auth,
        )

    async def decide(
        self, who: Member, request_id: str, group: dict[str, Any], decision: str, **extra: Any
    ) -> Any:
        return await self.client.post(
            f"{API}/share-requests/{request_id}/{decision}",
            json={"group_id": group["id"], **extra},
            headers=who.auth,
        )

    async def detail(self, who: Member, request_id: str) -> Any:
        return await self.client.get(f"{API}/share-requests/{request_id}", headers=who.auth)

    async def message(self, who: Member, message_id: str) -> dict[str, Any]:
        resp = await self.client.get(f"{API}/messages/{message_id}", headers=who.auth)
        assert resp.status == 200, await resp.text()
        body: dict[str, Any] = await resp.json()
        return body

    async def audit(self, action: str) -> list[dict[str, Any]]:
        resp = await self.client.get(
            f"{API}/audit", params={"action": action, "limit": "500"}, headers=self.admin.auth
        )
        assert resp.status == 200, await resp.text()
        entries: list[dict[str, Any]] = (await resp.json())["entries"]
        return entries


async def build_world(client: TestClient[Any, Any]) -> World:
    admin = await make_member(client, Role.ADMIN)
    germany = await make_organization(client, country="DE")
    world = World(
        client=client,
        admin=admin,
        staff_moderator=await make_member(client, Role.MODERATOR),
        a_moderator=await make_member(client, Role.OFFICER),
        officer=await make_member(client, Role.OFFICER, with_key=True),
        analyst=await make_member(client, Role.ANALYST, with_key=True),
        observer=await make_member(client, Role.OBSERVER),
        b_moderator=await make_member(client, Role.OFFICER, organization=germany),
        b_officer=await make_member(client, Role.OFFICER, organization=germany, with_key=True),
        c_moderator=await make_member(client, Role.OFFICER, with_key=True),
        stranger=await make_member(client, Role.OFFICER, with_key=True),
        group_a=await make_group(client, admin),
        group_b=await make_group(client, admin),
        group_c=await make_group(client, admin),
    )
    for member, group, role in (
        (world.a_moderator, world.group_a, "moderator"),
        (world.officer, world.group_a, "member"),
        (world.analyst, world.group_a, "member"),
        (world.observer, world.group_a, "observer"),
        (world.b_moderator, world.group_b, "moderator"),
        (world.b_officer, world.group_b, "member"),
        (world.c_moderator, world.group_c, "moderator"),
    ):
        await add_member(client, admin, group, member, role)
    world.ids["a"] = await world.report(
        world.officer, world.group_a, parties=[CONSIGNEE], containers=[CONTAINER]
    )
    world.ids["b"] = await world.report(
        world.b_officer, world.group_b, hc="TLP:GREEN", parties=[CONSIGNEE_B]
    )
    return world


def _without_varying(problem: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in problem.items() if k not in ("instance", "request_id")}


async def test_share_request_flow_from_request_to_consent(client: TestClient[Any, Any]) -> None:
    w = await build_world(client)
    resp = await w.ask(w.officer, w.ids["a"])
    assert resp.status == 202, await resp.text()
    created = await resp.json()
    assert set(created) == {"id", "status", "created_at"}
    assert created["status"] == "pending"
    request_id = created["id"]

    # A repeat while pending, also spelt as the report wrote it, is the same request.
    for value in ("muller pharma", "Müller Pharma GmbH"):
        again = await w.ask(w.officer, w.ids["a"], value=value)
        assert again.status == 200, await again.text()
        assert await again.json() == created

    # The requester's list: their request, never the groups it went to.
    resp = await client.get(f"{API}/share-requests", headers=w.officer.auth)
    assert resp.status == 200
    listed = (await resp.json())["share_requests"]
    assert listed == [
        {
            "id": request_id,
            "message_id": w.ids["a"],
            "identifier": {"kind": "party", "value": "muller pharma", "label": CONSIGNEE["name"]},
            "reason": REASON,
            "status": "pending",
            "created_at": created["created_at"],
            "decided_at": None,
        }
    ]
    assert w.group_b["id"] not in await resp.text()

    # B's moderators see the request, the identifier, who asks and their own matching report.
    resp = await client.get(
        f"{API}/groups/{w.group_b['id']}/share-requests", headers=w.b_moderator.auth
    )
    assert resp.status == 200, await resp.text()
    (item,) = (await resp.json())["share_requests"]
    assert item["id"] == request_id
    assert item["group_id"] == w.group_b["id"]
    assert item["identifier"]["value"] == "muller pharma"
    assert item["reason"] == REASON
    assert item["requester"] == {
        "display_name": w.officer.user.display_name,
        "organization_name": w.officer.organization.name,
        "country": "FR",
    }
    assert item["matching_message_ids"] == [w.ids["b"]]
    assert item["status"] == "pending"
    assert (item["decided_at"], item["decided_by"], item["note"]) == (None, None, None)
    assert w.ids["a"] not in await resp.text()  # not the requester's report before consent
    assert w.group_a["id"] not in await resp.text()

    # Before consent nobody is shown anything, and nothing is audited as shown.
    for who in (w.officer, w.b_moderator, w.a_moderator):
        resp = await w.detail(who, request_id)
        assert resp.status == 200, await resp.text()
        assert (await resp.json())["shared_reports"] == []
    pending = await (await w.detail(w.b_moderator, request_id)).json()
    assert pending["message_id"] is None
    assert [t["group_id"] for t in pending["targets"]] == [w.group_b["id"]]
    assert (await (await w.detail(w.officer, request_id)).json())["targets"] == []
    assert await w.audit("share_request.read") == []

    # B's moderator consents.
    resp = await w.decide(w.b_moderator, request_id, w.group_b, "approve", note="Go ahead")
    assert resp.status == 200, await resp.text()
    decided = await resp.json()
    assert decided["status"] == "approved"
    assert decided["decided_by"] == w.b_moderator.id
    assert decided["note"] == "Go ahead"
    await assert_problem(
        await w.decide(w.b_moderator, request_id, w.group_b, "reject"), 409, "share-request-decided"
    )

    # The requester and A's moderators see B's report as B's readers do; B's moderators A's.
    report_b = await w.message(w.b_officer, w.ids["b"])
    report_a = await w.message(w.a_moderator, w.ids["a"])
    for who, expected in (
        (w.officer, report_b),
        (w.a_moderator, report_b),
        (w.b_moderator, report_a),
    ):
        resp = await w.detail(who, request_id)
        assert resp.status == 200, await resp.text()
        body = await resp.json()
        assert body["status"] == "approved"
        assert body["decided_at"] is not None
        assert body["shared_reports"] == [expected]
        assert expected["jws"] and expected["content"]["body"]["parties"]
    staff = await (await w.detail(w.admin, request_id)).json()
    assert {r["id"] for r in staff["shared_reports"]} == {w.ids["a"], w.ids["b"]}
    own = await (await client.get(f"{API}/share-requests", headers=w.officer.auth)).json()
    assert own["share_requests"][0]["status"] == "approved"

    # Nobody else: not B's other members, not A's other members, not a stranger.
    for who in (w.b_officer, w.analyst, w.observer, w.stranger, w.c_moderator):
        await assert_problem(await w.detail(who, request_id), 404, "not-found")

    # Every step audited: the request (in A, naming no target), the consent (in B), the reads.
    (create,) = await w.audit("share_request.create")
    assert create["group_id"] == w.group_a["id"]
    assert create["actor_id"] == w.officer.id
    assert create["target_id"] == request_id
    assert w.group_b["id"] not in str(create["details"])
    (approve,) = await w.audit("share_request.approve")
    assert (approve["group_id"], approve["actor_id"]) == (w.group_b["id"], w.b_moderator.id)
    reads = await w.audit("share_request.read")
    assert [r["actor_id"] for r in reads] == [
        w.officer.id,
        w.a_moderator.id,
        w.b_moderator.id,
        w.admin.id,
    ]
    assert reads[0]["details"] == {"message_ids": [w.ids["b"]]}

    # Hidden later: the shared report drops out for everyone.
    resp = await client.post(
        f"{API}/messages/{w.ids['b']}/hide", json={"reason": "wrong"}, headers=w.b_moderator.auth
    )
    assert resp.status == 200
    assert (await (await w.detail(w.officer, request_id)).json())["shared_reports"] == []


async def test_rejection_and_a_new_request_afterwards(client: TestClient[Any, Any]) -> None:
    w = await build_world(client)
    await w.report(w.b_officer, w.group_b, containers=[CONTAINER])
    # The container matches in B, the consignee in B: two requests, each to B only.
    first = await (await w.ask(w.officer, w.ids["a"], "container", "csqu 305438-3")).json()
    resp = await w.decide(w.b_moderator, first["id"], w.group_b, "reject", note="Not now")
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["status"] == "rejected"
    body = await (await w.detail(w.officer, first["id"])).json()
    assert (body["status"], body["shared_reports"]) == ("rejected", [])
    assert body["decided_at"] is not None
    assert (await (await w.detail(w.b_moderator, first["id"])).json())["shared_reports"] == []
    (entry,) = await w.audit("share_request.reject")
    assert entry["details"] == {"note": "Not now"}
    # Decided: asking again makes a new request.
    resp = await w.ask(w.officer, w.ids["a"], "container", CONTAINER)
    assert resp.status == 202
    assert (await resp.json())["id"] != first["id"]
    pending = await client.get(
        f"{API}/groups/{w.group_b['id']}/share-requests",
        params={"status": "pending"},
        headers=w.b_moderator.auth,
    )
    assert [r["identifier"]["kind"] for r in (await pending.json())["share_requests"]] == [
        "container"
    ]


async def test_one_target_per_group_and_any_consent_approves(client: TestClient[Any, Any]) -> None:
    w = await build_world(client)
    await w.report(w.c_moderator, w.group_c, parties=[CONSIGNEE])
    request_id = (await (await w.ask(w.officer, w.ids["a"])).json())["id"]
    # C's moderator refuses, B's consents: approved, and only B's report is shown.
    assert (await w.decide(w.c_moderator, request_id, w.group_c, "reject")).status == 200
    assert (await (await w.detail(w.officer, request_id)).json())["status"] == "pending"
    assert (await w.decide(w.b_moderator, request_id, w.group_b, "approve")).status == 200
    body = await (await w.detail(w.officer, request_id)).json()
    assert body["status"] == "approved"
    assert [r["id"] for r in body["shared_reports"]] == [w.ids["b"]]
    # C's moderator sees their own refusal, not B's consent, and not the requester's report.
    c_view = await (await w.detail(w.c_moderator, request_id)).json()
    assert (c_view["status"], c_view["shared_reports"]) == ("rejected", [])
    assert [t["group_id"] for t in c_view["targets"]] == [w.group_c["id"]]
    # A moderator of one target cannot decide for another.
    await assert_problem(await w.decide(w.c_moderator, request_id, w.group_b, "approve"), 404)


async def test_red_and_hidden_reports_never_take_part(client: TestClient[Any, Any]) -> None:
    w = await build_world(client)
    # Nowhere else: a value only A's report carries.
    nowhere = await w.report(w.officer, w.group_a, parties=[{**CONSIGNEE, "name": "Nowhere Ltd"}])
    none_at_all = await assert_problem(
        await w.ask(w.officer, nowhere, value="nowhere"), 422, "no-match-elsewhere"
    )
    # Elsewhere only as TLP:RED, or only hidden: the very same answer.
    red_party = {**CONSIGNEE, "name": "Red Trading"}
    red_a = await w.report(w.officer, w.group_a, parties=[red_party])
    await w.report(w.b_officer, w.group_b, hc="TLP:RED", parties=[red_party])
    hidden_party = {**CONSIGNEE, "name": "Hidden Trading"}
    hidden_a = await w.report(w.officer, w.group_a, parties=[hidden_party])
    hidden_b = await w.report(w.b_officer, w.group_b, parties=[hidden_party])
    resp = await client.post(
        f"{API}/messages/{hidden_b}/hide", json={"reason": "duplicate"}, headers=w.b_moderator.auth
    )
    assert resp.status == 200
    for message_id, value in ((red_a, "red trading"), (hidden_a, "hidden trading")):
        problem = await assert_problem(
            await w.ask(w.officer, message_id, value=value), 422, "no-match-elsewhere"
        )
        assert _without_varying(problem) == _without_varying(none_at_all)
    # The requester's own report TLP:RED: it never takes part either, matches or not.
    own_red = await w.report(w.officer, w.group_a, hc="TLP:RED", parties=[CONSIGNEE])
    problem = await assert_problem(await w.ask(w.officer, own_red), 422, "no-match-elsewhere")
    assert _without_varying(problem) == _without_varying(none_at_all)
    # A RED report of B is never among the matching reports of an approved request.
    await w.report(w.b_officer, w.group_b, hc="TLP:RED", parties=[CONSIGNEE])
    request_id = (await (await w.ask(w.officer, w.ids["a"])).json())["id"]
    listed = await client.get(
        f"{API}/groups/{w.group_b['id']}/share-requests", headers=w.b_moderator.auth
    )
    assert (await listed.json())["share_requests"][0]["matching_message_ids"] == [w.ids["b"]]
    assert (await w.decide(w.b_moderator, request_id, w.group_b, "approve")).status == 200
    shared = (await (await w.detail(w.officer, request_id)).json())["shared_reports"]
    assert [r["id"] for r in shared] == [w.ids["b"]]
    assert all(r["hc"] != "TLP:RED" for r in shared)


async def test_a_requester_made_observer_never_gets_amber_strict(
    client: TestClient[Any, Any],
) -> None:
    w = await build_world(client)
    strict_party = {**CONSIGNEE, "name": "Strict Logistics"}
    mine = await w.report(w.officer, w.group_a, parties=[strict_party])
    await w.report(w.b_officer, w.group_b, hc="TLP:AMBER+STRICT", parties=[strict_party])
    request_id = (await (await w.ask(w.officer, mine, value="strict logistics")).json())["id"]
    assert (await w.decide(w.b_moderator, request_id, w.group_b, "approve")).status == 200
    shared = (await (await w.detail(w.officer, request_id)).json())["shared_reports"]
    assert [r["hc"] for r in shared] == ["TLP:AMBER+STRICT"]
    resp = await client.patch(
        f"{API}/users/{w.officer.id}", json={"role": "observer"}, headers=w.admin.auth
    )
    assert resp.status == 200
    body = await (await w.detail(w.officer, request_id)).json()
    assert body["shared_reports"] == []


async def test_bad_inputs(client: TestClient[Any, Any]) -> None:
    w = await build_world(client)
    path = f"{API}/messages/{w.ids['a']}/share-requests"
    bodies: list[tuple[dict[str, Any], str]] = [
        ({"kind": "telephone", "value": "x", "reason": REASON}, "body.kind"),
        ({"kind": "party", "value": "", "reason": REASON}, "body.value"),
        ({"kind": "party", "value": "x" * 201, "reason": REASON}, "body.value"),
        ({"kind": "party", "value": "muller pharma", "reason": ""}, "body.reason"),
        ({"kind": "party", "value": "muller pharma", "reason": "   "}, "body.reason"),
        ({"kind": "party", "value": "muller pharma", "reason": "x" * 1001}, "body.reason"),
        ({"kind": "party", "value": "muller pharma"}, "body.reason"),
        ({"kind": "party", "value": 7, "reason": REASON}, "body.value"),
        ({"kind": "party", "value": "muller pharma", "reason": REASON, "x": 1}, "body.x"),
    ]
    for body, where in bodies:
        problem = await assert_problem(
            await client.post(path, json=body, headers=w.officer.auth), 422
        )
        assert where in {e["field"] for e in problem.get("errors", [])}, (body, problem)
    # A value (or kind) the report does not carry: the requester may read it, so it says so.
    for kind, value in (("party", "someone else"), ("vessel", "muller pharma")):
        problem = await assert_problem(
            await w.ask(w.officer, w.ids["a"], kind, value), 422, "identifier-not-in-report"
        )
        assert problem["errors"][0]["field"] == "body.value"
    text = await post_message(client, w.officer, w.group_a, hc="TLP:GREEN")
    await assert_problem(await w.ask(w.officer, text["id"]), 422, "identifier-not-in-report")
    # Ids: malformed, missing, and a report the caller cannot read all answer the same 404.
    missing = await assert_problem(await w.ask(w.officer, str(uuid.uuid4())), 404, "not-found")
    hidden = await assert_problem(await w.ask(w.officer, w.ids["b"]), 404, "not-found")
    assert _without_varying(missing) == _without_varying(hidden)
    await assert_problem(await w.ask(w.officer, "not-a-uuid"), 404)
    request_id = (await (await w.ask(w.officer, w.ids["a"])).json())["id"]
    for bad in ({}, {"group_id": "B"}, {"group_id": w.group_b["id"], "note": "x" * 1001}):
        resp = await client.post(
            f"{API}/share-requests/{request_id}/approve", json=bad, headers=w.b_moderator.auth
        )
        await assert_problem(resp, 422, "validation-failed")
    # A group the request does not target, and an unknown request: the same 404.
    not_target = await assert_problem(
        await w.decide(w.admin, request_id, w.group_c, "approve"), 404, "not-found"
    )
    unknown = await assert_problem(
        await w.decide(w.admin, str(uuid.uuid4()), w.group_b, "approve"), 404, "not-found"
    )
    assert _without_varying(not_target) == _without_varying(unknown)
    await assert_problem(await w.detail(w.officer, "nope"), 404)
    await assert_problem(await w.detail(w.officer, str(uuid.uuid4())), 404)
    for params in ({"status": "maybe"}, {"limit": "0"}, {"after": "!!"}, {"after": "bm9wZQ"}):
        resp = await client.get(
            f"{API}/groups/{w.group_b['id']}/share-requests",
            params=params,
            headers=w.b_moderator.auth,
        )
        await assert_problem(resp, 422)


async def test_who_may_ask(client: TestClient[Any, Any]) -> None:
    w = await build_world(client)
    # Readers of the report in A who may act there: the officer, A's moderator, the analyst.
    for who in (w.officer, w.a_moderator, w.analyst):
        resp = await w.ask(who, w.ids["a"])
        assert resp.status == 202, (who.user.role, await resp.text())
    # A's observer reads the report but only observes: 403.
    await assert_problem(await w.ask(w.observer, w.ids["a"]), 403, "read-only")
    # Staff read every operation: nothing is ever elsewhere for them.
    for who in (w.admin, w.staff_moderator):
        await assert_problem(await w.ask(who, w.ids["a"]), 422, "no-match-elsewhere")
    # Non-members of A cannot read its report: 404, as for a missing one.
    for who in (w.stranger, w.b_officer, w.b_moderator):
        await assert_problem(await w.ask(who, w.ids["a"]), 404, "not-found")
    # A member of both operations reads B's report: for them it is not elsewhere.
    both = await make_member(client, Role.OFFICER, with_key=True)
    await add_member(client, w.admin, w.group_a, both)
    await add_member(client, w.admin, w.group_b, both)
    await assert_problem(await w.ask(both, w.ids["a"]), 422, "no-match-elsewhere")
    # The hidden report's group moderator may see it, but a hidden report never takes part;
    # its members get 404 as for the `related` reads.
    resp = await client.post(
        f"{API}/messages/{w.ids['a']}/hide", json={"reason": "test"}, headers=w.a_moderator.auth
    )
    assert resp.status == 200
    await assert_problem(await w.ask(w.officer, w.ids["a"]), 404, "not-found")
    # Its moderator's pending request is still answered as a repeat; a new one is refused.
    await w.report(w.b_officer, w.group_b, containers=[CONTAINER])
    assert (await w.ask(w.a_moderator, w.ids["a"])).status == 200
    await assert_problem(
        await w.ask(w.a_moderator, w.ids["a"], "container", CONTAINER), 422, "no-match-elsewhere"
    )


async def test_who_may_list_and_decide(client: TestClient[Any, Any]) -> None:
    w = await build_world(client)
    request_id = (await (await w.ask(w.officer, w.ids["a"])).json())["id"]
    listing = f"{API}/groups/{w.group_b['id']}/share-requests"
    for who, status in (
        (w.b_moderator, 200),
        (w.admin, 200),
        (w.staff_moderator, 200),
        (w.b_officer, 403),  # a member of B: sees the group, not its requests
        (w.officer, 404),
        (w.a_moderator, 404),
        (w.stranger, 404),
        (w.observer, 404),
    ):
        resp = await client.get(listing, headers=who.auth)
        assert resp.status == status, (who.user.username, await resp.text())
    # Members of B, the requester, A's moderator and strangers do not learn of the request.
    for who in (w.b_officer, w.officer, w.a_moderator, w.stranger, w.observer, w.analyst):
        await assert_problem(await w.decide(who, request_id, w.group_b, "approve"), 404)
    # Staff may decide for any target group.
    resp = await w.decide(w.staff_moderator, request_id, w.group_b, "approve")
    assert resp.status == 200, await resp.text()
    # Own requests: each caller sees only theirs.
    for who in (w.b_moderator, w.stranger, w.observer, w.admin):
        resp = await client.get(f"{API}/share-requests", headers=who.auth)
        assert (await resp.json()) == {"share_requests": [], "next": None}


async def test_pages_of_own_and_group_requests(client: TestClient[Any, Any]) -> None:
    w = await build_world(client)
    made = []
    for index in range(3):
        party = {**CONSIGNEE, "name": f"Paged Trading {index}"}
        mine = await w.report(w.officer, w.group_a, parties=[party])
        await w.report(w.b_officer, w.group_b, parties=[party])
        resp = await w.ask(w.officer, mine, value=f"paged trading {index}")
        made.append((await resp.json())["id"])
    for path, who in (
        (f"{API}/share-requests", w.officer),
        (f"{API}/groups/{w.group_b['id']}/share-requests", w.b_moderator),
    ):
        seen: list[str] = []
        params = {"limit": "2"}
        while True:
            page = await (await client.get(path, params=params, headers=who.auth)).json()
            seen += [r["id"] for r in page["share_requests"]]
            if page["next"] is None:
                break
            params = {"limit": "2", "after": page["next"]}
        assert seen == list(reversed(made))


async def test_live_frames_to_target_moderators_and_the_requester(
    client: TestClient[Any, Any],
) -> None:
    w = await build_world(client)
    await w.report(w.c_moderator, w.group_c, parties=[CONSIGNEE])
    b_socket = await connect(client, w.b_moderator)
    c_socket = await connect(client, w.c_moderator)
    requester_socket = await connect(client, w.officer)
    try:
        request_id = (await (await w.ask(w.officer, w.ids["a"])).json())["id"]
        # Each target group's moderators hear of it, naming their own group only.
        for socket, group in ((b_socket, w.group_b), (c_socket, w.group_c)):
            assert await next_of(socket, "share_request") == {
                "type": "share_request",
                "share_request_id": request_id,
                "group_id": group["id"],
                "status": "pending",
            }
        # C refuses: the overall status does not change, so the requester hears nothing; then
        # B consents and the requester's first frame says approved, naming no group.
        assert (await w.decide(w.c_moderator, request_id, w.group_c, "reject")).status == 200
        assert (await w.decide(w.b_moderator, request_id, w.group_b, "approve")).status == 200
        assert await next_of(requester_socket, "share_request") == {
            "type": "share_request",
            "share_request_id": request_id,
            "group_id": None,
            "status": "approved",
        }
    finally:
        for socket in (b_socket, c_socket, requester_socket):
            await socket.close()


async def test_a_requester_has_a_bounded_number_of_pending_requests(
    client: TestClient[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("cencomm.services.share_requests.MAX_PENDING_PER_REQUESTER", 2)
    w = await build_world(client)
    await w.report(w.b_officer, w.group_b, containers=[CONTAINER])
    third = {**CONSIGNEE, "name": "Third Party"}
    mine = await w.report(w.officer, w.group_a, parties=[third])
    await w.report(w.b_officer, w.group_b, parties=[third])
    assert (await w.ask(w.officer, w.ids["a"])).status == 202
    assert (await w.ask(w.officer, w.ids["a"], "container", CONTAINER)).status == 202
    await assert_problem(
        await w.ask(w.officer, mine, value="third party"), 409, "too-many-share-requests"
    )
    # A repeat of a pending one is still answered; a decision frees a place.
    assert (await w.ask(w.officer, w.ids["a"])).status == 200
    own = await (await client.get(f"{API}/share-requests", headers=w.officer.auth)).json()
    first = own["share_requests"][-1]["id"]
    assert (await w.decide(w.b_moderator, first, w.group_b, "reject")).status == 200
    assert (await w.ask(w.officer, mine, value="third party")).status == 202


async def test_the_elsewhere_rule_lists_only_identifiers_matched_in_unreadable_operations(
    client: TestClient[Any, Any],
) -> None:
    """`ShareRequestStore.elsewhere`: what `related` shows as `elsewhere` (no group, no id)."""
    w = await build_world(client)
    db = client.app[SERVICES].db

    async def elsewhere(who: Member, message_id: str) -> list[tuple[str, str]]:
        found = await db.read(
            lambda unit: unit.share_requests.elsewhere(
                uuid.UUID(message_id),
                uuid.UUID(w.group_a["id"]),
                who.user.id,
                who.organization.id,
            )
        )
        return [(i.kind.value, i.value) for i in found]

    assert await elsewhere(w.officer, w.ids["a"]) == [("party", "muller pharma")]
    # The container only in a TLP:RED report of C, then only in a hidden one: never elsewhere.
    await w.report(w.c_moderator, w.group_c, hc="TLP:RED", containers=[CONTAINER])
    hidden = await w.report(w.c_moderator, w.group_c, containers=[CONTAINER])
    resp = await client.post(
        f"{API}/messages/{hidden}/hide", json={"reason": "test"}, headers=w.c_moderator.auth
    )
    assert resp.status == 200
    assert await elsewhere(w.officer, w.ids["a"]) == [("party", "muller pharma")]
    await w.report(w.c_moderator, w.group_c, containers=[CONTAINER])
    assert await elsewhere(w.officer, w.ids["a"]) == [
        ("container", CONTAINER),
        ("party", "muller pharma"),
    ]
    # A reader of B and C finds nothing elsewhere; a RED report of A has nothing elsewhere.
    await add_member(client, w.admin, w.group_b, w.analyst)
    await add_member(client, w.admin, w.group_c, w.analyst)
    assert await elsewhere(w.analyst, w.ids["a"]) == []
    red = await w.report(w.officer, w.group_a, hc="TLP:RED", parties=[CONSIGNEE])
    assert await elsewhere(w.officer, red) == []
