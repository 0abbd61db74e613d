"""GET /messages/{id}/related and GET /groups/{id}/correlations: reports that share an
identifier, end to end through signed posts; hidden reports, observers, other operations
(`elsewhere`, with nothing of them leaking) and every role."""

from __future__ import annotations

import json
import uuid
from typing import Any

from aiohttp.test_utils import TestClient

from cencomm.appkeys import SERVICES
from cencomm.domain.correlations import Readership
from cencomm.domain.ids import GroupId
from cencomm.domain.users import Role
from tests.factories import (
    Member,
    add_member,
    make_group,
    make_member,
    make_organization,
    post_message,
)
from tests.problems import assert_problem
from tests.query_plans import plans
from tests.web.correlation_helpers import (
    API,
    AWB,
    CONTAINER,
    MULLER,
    OTHER_CONTAINER,
    operation,
    report,
)


async def related(
    client: TestClient[Any, Any], member: Member, message_id: str, **query: Any
) -> dict[str, Any]:
    resp = await client.get(
        f"{API}/messages/{message_id}/related", params=query, headers=member.auth
    )
    assert resp.status == 200, await resp.text()
    answer: dict[str, Any] = await resp.json()
    return answer


async def correlations(
    client: TestClient[Any, Any], member: Member, group: dict[str, Any], **query: Any
) -> dict[str, Any]:
    resp = await client.get(
        f"{API}/groups/{group['id']}/correlations", params=query, headers=member.auth
    )
    assert resp.status == 200, await resp.text()
    answer: dict[str, Any] = await resp.json()
    return answer


def ids(answer: dict[str, Any]) -> list[str]:
    return [r["message_id"] for r in answer["related"]]


async def test_the_same_company_written_five_ways_links_and_similar_names_do_not(
    client: TestClient[Any, Any],
) -> None:
    op = await operation(client)
    first = await report(
        client, op.fr, op.group, parties=(MULLER[0],), containers=(CONTAINER,), documents=(AWB,)
    )
    both = await report(
        client, op.de, op.group, hc="TLP:AMBER", parties=(MULLER[1],),
        containers=("csqu 305438-3",), occurred_on="2020-05-22",
    )  # fmt: skip
    others = [
        await report(client, op.fr, op.group, parties=(name,), occurred_on="2020-05-23")
        for name in MULLER[2:]
    ]
    pharmacy = await report(client, op.de, op.group, parties=("Müller Pharmacy GmbH",))
    miller = await report(client, op.de, op.group, parties=("Miller Pharma GmbH",))
    await post_message(client, op.fr, op.group, "text")

    answer = await related(client, op.fr, first)
    assert answer["message_id"] == first
    assert answer["identifiers"] == [
        {"kind": "container", "value": CONTAINER, "label": CONTAINER},
        {"kind": "document", "value": "02012345675", "label": AWB},
        {"kind": "party", "value": "muller pharma", "label": MULLER[0]},
    ]
    # Most shared first (two identifiers), then newest first; the shared identifiers as that
    # report wrote them.
    assert ids(answer) == [both, *reversed(others)]
    assert answer["related"][0]["shared"] == [
        {"kind": "container", "value": CONTAINER, "label": CONTAINER},  # stored canonical
        {"kind": "party", "value": "muller pharma", "label": MULLER[1]},
    ]
    top = answer["related"][0]
    fields = ("group_id", "group_code", "seq", "country", "occurred_on", "hc")
    assert {k: top[k] for k in fields} == {
        "group_id": op.group["id"], "group_code": op.group["code"], "seq": 2, "country": "DE",
        "occurred_on": "2020-05-22", "hc": "TLP:AMBER",
    }  # fmt: skip
    assert answer["elsewhere"] == []
    assert ids(await related(client, op.fr, first, limit=1)) == [both]
    # Two different companies with similar names link to nothing, not even to each other.
    for lonely in (pharmacy, miller):
        assert (await related(client, op.fr, lonely))["related"] == []

    listed = await correlations(client, op.analyst, op.group)
    assert listed == {
        "correlations": [
            {"kind": "party", "value": "muller pharma", "label": listed["correlations"][0]["label"],
             "reports": 5, "countries": ["DE", "FR"], "first_seen": "2020-05-20",
             "last_seen": "2020-05-23"},
            {"kind": "container", "value": CONTAINER, "label": listed["correlations"][1]["label"],
             "reports": 2, "countries": ["DE", "FR"], "first_seen": "2020-05-20",
             "last_seen": "2020-05-22"},
        ],
        "next": None,
    }  # fmt: skip
    assert listed["correlations"][0]["label"] in MULLER
    page = await correlations(client, op.analyst, op.group, limit=1)
    assert [c["value"] for c in page["correlations"]] == ["muller pharma"]
    rest = await correlations(client, op.analyst, op.group, limit=1, after=page["next"])
    assert [c["value"] for c in rest["correlations"]] == [CONTAINER]
    assert rest["next"] is None


async def test_bad_queries_are_refused(client: TestClient[Any, Any]) -> None:
    op = await operation(client)
    first = await report(client, op.fr, op.group, containers=(CONTAINER,))
    for limit in ("0", "201", "x"):
        resp = await client.get(f"{API}/messages/{first}/related?limit={limit}", headers=op.fr.auth)
        await assert_problem(resp, 422, "validation-failed")
    base = f"{API}/groups/{op.group['id']}/correlations"
    for query in ("limit=0", "limit=501", "after=%21%21", "after=MXxub3BlfHg", "x=1"):
        resp = await client.get(f"{base}?{query}", headers=op.fr.auth)
        await assert_problem(resp, 422, "validation-failed")
    resp = await client.get(f"{API}/messages/{first}/related")
    await assert_problem(resp, 401, "unauthenticated")


async def test_hidden_reports_drop_out(client: TestClient[Any, Any]) -> None:
    op = await operation(client)
    first = await report(client, op.fr, op.group, containers=(CONTAINER,))
    second = await report(client, op.de, op.group, containers=(CONTAINER,))
    third = await report(client, op.de, op.group, containers=(CONTAINER,))
    resp = await client.post(
        f"{API}/messages/{second}/hide", json={"reason": "duplicate"}, headers=op.admin.auth
    )
    assert resp.status == 200
    assert ids(await related(client, op.fr, first)) == [third]
    listed = await correlations(client, op.fr, op.group)
    assert [c["reports"] for c in listed["correlations"]] == [2]
    # A hidden report is gone for everyone: 404 but for moderators, who see empty lists.
    resp = await client.get(f"{API}/messages/{second}/related", headers=op.de.auth)
    await assert_problem(resp, 404, "not-found")
    assert await related(client, op.admin, second) == {
        "message_id": second, "identifiers": [], "related": [], "elsewhere": [],
    }  # fmt: skip
    resp = await client.post(
        f"{API}/messages/{third}/hide", json={"reason": "x"}, headers=op.admin.auth
    )
    assert resp.status == 200
    assert await related(client, op.fr, first) == {
        "message_id": first,
        "identifiers": [{"kind": "container", "value": CONTAINER, "label": CONTAINER}],
        "related": [],
        "elsewhere": [],
    }
    assert (await correlations(client, op.fr, op.group))["correlations"] == []


async def test_observers_never_see_amber_strict_or_red(client: TestClient[Any, Any]) -> None:
    op = await operation(client)
    green = await report(client, op.fr, op.group, containers=(CONTAINER,))
    strict = await report(client, op.de, op.group, hc="TLP:AMBER+STRICT", containers=(CONTAINER,))
    red = await report(client, op.de, op.group, hc="TLP:RED", containers=(CONTAINER,))
    assert ids(await related(client, op.fr, green)) == [red, strict]
    assert (await related(client, op.observer, green))["related"] == []
    for withheld in (strict, red):
        resp = await client.get(f"{API}/messages/{withheld}/related", headers=op.observer.auth)
        await assert_problem(resp, 404, "not-found")
    # Only one report the observer may read carries it: no correlation for them.
    assert (await correlations(client, op.observer, op.group))["correlations"] == []
    assert [
        c["reports"] for c in (await correlations(client, op.fr, op.group))["correlations"]
    ] == [3]
    # An analyst admitted as the group's observer reads as an observer.
    analyst = await make_member(client, Role.ANALYST)
    await add_member(client, op.admin, op.group, analyst, role="observer")
    assert (await related(client, analyst, green))["related"] == []


async def test_elsewhere_says_only_that_another_operation_has_it(
    client: TestClient[Any, Any],
) -> None:
    op = await operation(client)
    other = await make_group(client, op.admin)
    spain = await make_organization(client, country="ES")
    es = await make_member(client, Role.OFFICER, organization=spain, with_key=True)
    await add_member(client, op.admin, other, es)
    mine = await report(
        client, op.fr, op.group, parties=(MULLER[0],), containers=(CONTAINER, OTHER_CONTAINER),
        documents=(AWB,),
    )  # fmt: skip
    theirs = await report(client, es, other, hc="TLP:AMBER", containers=(CONTAINER,))
    # RED: never counts across operations (nor the hidden one).
    their_red = await report(client, es, other, hc="TLP:RED", parties=(MULLER[3],))
    hidden = await report(client, es, other, documents=(AWB,))
    resp = await client.post(
        f"{API}/messages/{hidden}/hide", json={"reason": "wrong"}, headers=op.admin.auth
    )
    assert resp.status == 200

    for member in (op.fr, op.analyst, op.observer):
        resp = await client.get(f"{API}/messages/{mine}/related", headers=member.auth)
        assert resp.status == 200
        text = await resp.text()
        # The whole answer: the match, and nothing of the other report or its operation.
        assert json.loads(text) == {
            "message_id": mine,
            "identifiers": [
                {"kind": "container", "value": CONTAINER, "label": CONTAINER},
                {"kind": "container", "value": OTHER_CONTAINER, "label": OTHER_CONTAINER},
                {"kind": "document", "value": "02012345675", "label": AWB},
                {"kind": "party", "value": "muller pharma", "label": MULLER[0]},
            ],
            "related": [],
            "elsewhere": [{"kind": "container", "value": CONTAINER, "label": CONTAINER}],
        }
        for secret in (other["id"], other["code"], theirs, their_red, hidden, "ES", "TLP:RED"):
            assert secret not in text
    # Staff read every operation: what they may read is related, nothing is elsewhere.
    staff = await related(client, op.admin, mine)
    assert ids(staff) == [their_red, theirs]
    assert staff["related"][1]["group_code"] == other["code"]
    assert staff["elsewhere"] == []
    # A TLP:RED report has nothing elsewhere, ever.
    red = await report(client, op.fr, op.group, hc="TLP:RED", containers=(CONTAINER,))
    answer = await related(client, op.fr, red)
    assert answer["elsewhere"] == []
    assert ids(answer) == [mine]
    # The other side: their report's match in our operation (a RED one besides) is elsewhere
    # for them, as the identifier only.
    assert (await related(client, es, theirs))["elsewhere"] == [
        {"kind": "container", "value": CONTAINER, "label": CONTAINER}
    ]


async def test_every_role_on_both_endpoints(client: TestClient[Any, Any]) -> None:
    op = await operation(client)
    first = await report(client, op.fr, op.group, containers=(CONTAINER,))
    second = await report(client, op.de, op.group, containers=(CONTAINER,))
    text = await post_message(client, op.fr, op.group, "text")
    moderator = await make_member(client, Role.MODERATOR)
    readers = (op.admin, moderator, op.analyst, op.fr, op.de, op.observer)
    for member in readers:
        assert ids(await related(client, member, first)) == [second], member.user.role
        listed = await correlations(client, member, op.group)
        assert [c["value"] for c in listed["correlations"]] == [CONTAINER]
    # A message that is no seizure report: empty lists.
    assert await related(client, op.fr, text["id"]) == {
        "message_id": text["id"], "identifiers": [], "related": [], "elsewhere": [],
    }  # fmt: skip
    # Non-members of every role learn nothing: the same 404 as for what does not exist.
    missing_message = await client.get(f"{API}/messages/{uuid.uuid4()}/related", headers=op.fr.auth)
    missing = await assert_problem(missing_message, 404, "not-found")
    missing_group = await client.get(
        f"{API}/groups/{uuid.uuid4()}/correlations", headers=op.fr.auth
    )
    absent = await assert_problem(missing_group, 404, "not-found")
    for role in (Role.ANALYST, Role.OFFICER, Role.OBSERVER):
        outsider = await make_member(client, role)
        resp = await client.get(f"{API}/messages/{first}/related", headers=outsider.auth)
        assert (await assert_problem(resp, 404, "not-found"))["detail"] == missing["detail"]
        resp = await client.get(
            f"{API}/groups/{op.group['id']}/correlations", headers=outsider.auth
        )
        assert (await assert_problem(resp, 404, "not-found"))["detail"] == absent["detail"]
    resp = await client.get(f"{API}/messages/not-a-uuid/related", headers=op.fr.auth)
    await assert_problem(resp, 404, "not-found")


def assert_indexed(db: Any, plan: list[str], index: str) -> None:
    """`plan` reads identifiers through `index` and scans no table whole."""
    text = "\n".join(plan)
    if db.dialect == "sqlite":
        assert f"INDEX {index} (" in text, text
        assert not any(
            line.startswith(f"SCAN {table}")
            for line in plan
            for table in ("mine", "other", "report_identifier", "seizure_report", "op_group")
        ), text
        return
    assert "Seq Scan" not in text, text
    assert index in text, text


async def identifier_plans(db: Any, work: Any) -> list[list[str]]:
    """The plans of `work`'s statements (not those a background job ran meanwhile)."""
    found = await plans(db, work)
    names = ("report_identifier", "SEARCH mine", "SEARCH other", "SCAN mine", "SCAN other")
    return [plan for plan in found if any(name in line for line in plan for name in names)]


async def test_lookups_go_through_the_identifier_indexes(client: TestClient[Any, Any]) -> None:
    db = client.app[SERVICES].db
    op = await operation(client)
    first = uuid.UUID(await report(client, op.fr, op.group, containers=(CONTAINER,)))
    await report(client, op.de, op.group, containers=(CONTAINER,), parties=(MULLER[0],))
    group = GroupId(uuid.UUID(op.group["id"]))
    observer = Readership(False, (), (group,), frozenset({"TLP:RED"}))
    for readership in (Readership(False, (group,)), observer, Readership(True)):
        found = await identifier_plans(
            db, lambda unit, r=readership: unit.correlations.related(first, r, 50)
        )
        assert len(found) == 2
        assert_indexed(db, found[0], "ix_report_identifier_kind_value")
        # Then through the primary key: the shared identifiers of the page's reports.
        primary = "sqlite_autoindex_report_identifier_1" if db.dialect == "sqlite" else "pk_"
        assert_indexed(db, found[1], primary)
    [plan] = await identifier_plans(db, lambda unit: unit.correlations.elsewhere(first, (group,)))
    assert_indexed(db, plan, "ix_report_identifier_kind_value")
    found = await identifier_plans(
        db, lambda unit: unit.correlations.in_group(group, frozenset(), None, 51)
    )
    assert len(found) == 2
    for plan in found:
        assert_indexed(db, plan, "ix_report_identifier_group")
