"""A group on the standard form: reports must carry a conveyance and a document; a report's
identifiers are indexed in the post's own transaction; the form is a group setting."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import text

from cencomm.appkeys import SERVICES
from cencomm.domain.users import Role
from cencomm.storage.unit import Unit
from tests.factories import add_member, envelope, make_group, make_member, seizure_body, sign
from tests.problems import assert_problem

API = "/api/v1"
STANDARD_PARTS: dict[str, Any] = {
    "conveyance": {"mode": "flight", "flight_number": "AF 0187"},
    "documents": [{"type": "awb", "number": "057-12345675"}],
    "containers": ["CSQU 305438 3"],
    "parties": [{"role": "consignee", "name": "Müller Pharma GmbH", "country": "FR"}],
}


async def test_a_standard_form_group_takes_only_complete_reports(
    client: TestClient[Any, Any],
) -> None:
    moderator = await make_member(client, Role.MODERATOR)
    officer = await make_member(client, Role.OFFICER, with_key=True)
    group = await make_group(client, moderator)
    resp = await client.patch(
        f"{API}/groups/{group['id']}", json={"report_form": "standard"}, headers=moderator.auth
    )
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["report_form"] == "standard"
    await add_member(client, moderator, group, officer)
    country = officer.organization.country
    assert country is not None

    async def post(body: dict[str, Any]) -> Any:
        payload = envelope(officer, group["id"], "seizure", body=body)
        return await client.post(
            f"{API}/groups/{group['id']}/messages",
            json={"jws": sign(officer, payload)},
            headers=officer.auth,
        )

    refused = await post(seizure_body(country))
    problem = await assert_problem(refused, 422, "invalid-body")
    assert {e["field"] for e in problem["errors"]} == {"body.conveyance", "body.documents"}

    accepted = await post(seizure_body(country, **STANDARD_PARTS))
    assert accepted.status == 201, await accepted.text()
    message_id = (await accepted.json())["id"]

    def identifiers(unit: Unit) -> list[tuple[str, str, str]]:
        rows = unit._session.execute(  # raw SQL: what the writer stored, whatever reads it
            text(
                "SELECT kind, value, label FROM report_identifier WHERE message_id = :m "
                "ORDER BY 1, 2"
            ),
            {"m": message_id.replace("-", "") if unit.dialect == "sqlite" else message_id},
        )
        return [tuple(row) for row in rows]

    assert await client.app[SERVICES].db.read(identifiers) == [
        ("container", "CSQU3054383", "CSQU3054383"),
        ("document", "05712345675", "057-12345675"),
        ("flight", "AF187", "AF187"),
        ("party", "muller pharma", "Müller Pharma GmbH"),
    ]
    # The message's content is the report as signed: the standard parts as the officer wrote them.
    read = await client.get(f"{API}/messages/{message_id}", headers=officer.auth)
    content = (await read.json())["content"]["body"]
    assert content["conveyance"] == STANDARD_PARTS["conveyance"]
    # Numbers are found in their compact form, party names by their words.
    for words in ("CSQU3054383", "05712345675", "Müller Pharma", "AF187"):
        found = await client.get(f"{API}/search", params={"q": words}, headers=officer.auth)
        assert [m["id"] for m in (await found.json())["messages"]] == [message_id], words


async def test_the_report_form_is_chosen_at_creation_and_audited_when_changed(
    client: TestClient[Any, Any],
) -> None:
    moderator = await make_member(client, Role.MODERATOR)
    officer = await make_member(client, Role.OFFICER)
    resp = await client.post(
        f"{API}/groups",
        json={"code": "STD-FORM", "name": "Standard", "report_form": "standard"},
        headers=moderator.auth,
    )
    assert resp.status == 201, await resp.text()
    group = await resp.json()
    assert group["report_form"] == "standard"
    bad = await client.post(
        f"{API}/groups",
        json={"code": "BAD-FORM", "name": "Bad", "report_form": "long"},
        headers=moderator.auth,
    )
    await assert_problem(bad, 422)
    forbidden = await client.patch(
        f"{API}/groups/{group['id']}", json={"report_form": "simplified"}, headers=officer.auth
    )
    assert forbidden.status == 404  # an officer who is not a member does not see the group
    changed = await client.patch(
        f"{API}/groups/{group['id']}", json={"report_form": "simplified"}, headers=moderator.auth
    )
    assert (await changed.json())["report_form"] == "simplified"
    audit = await client.get(
        f"{API}/audit",
        params={"action": "group.update", "group_id": group["id"]},
        headers=moderator.auth,
    )
    entries = (await audit.json())["entries"]
    assert entries[-1]["details"]["report_form"] == {"from": "standard", "to": "simplified"}
