"""A small hand-computed operation: five seizure reports from three countries (see `Dataset`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp.test_utils import TestClient

from cencomm.domain.users import Region, Role
from tests.factories import (
    Member,
    add_member,
    make_group,
    make_member,
    make_organization,
    post_message,
)

API = "/api/v1"


def report(
    country: str,
    occurred_on: str,
    mode: str,
    route: tuple[str, list[str], str],
    items: list[tuple[str, float, str]],
    infringement: str,
    detection: str,
    concealment: str,
) -> dict[str, Any]:
    origin, transit, destination = route
    return {
        "occurred_on": occurred_on,
        "country": country,
        "transport_mode": mode,
        "route": {"origin": origin, "transit": transit, "destination": destination},
        "items": [{"category": c, "quantity": q, "unit": u} for c, q, u in items],
        "infringement": infringement,
        "detection": detection,
        "concealment": concealment,
    }


# (sender, handling code, body): R1 .. R5 in posting order.
REPORTS: list[tuple[str, str, dict[str, Any]]] = [
    (
        "fr",
        "TLP:AMBER",
        report(
            "FR", "2020-05-11", "air", ("CN", ["AE"], "FR"),
            [("masks", 1000, "units"), ("medicines", 200, "units")],
            "counterfeit", "risk_profiling", "mis_declaration",
        ),
    ),
    (
        "fr",
        "TLP:GREEN",
        report(
            "FR", "2020-05-17", "sea", ("CN", ["AE", "NL"], "FR"),
            [("sanitizer", 50, "litres"), ("masks", 10, "kg")],
            "counterfeit", "xray", "hidden_in_cargo",
        ),
    ),
    (
        "de",
        "TLP:AMBER+STRICT",
        report(
            "DE", "2020-05-26", "road", ("IN", [], "DE"),
            [("medicines", 300, "units"), ("gloves", 400, "units")],
            "falsified", "intelligence", "mis_declaration",
        ),
    ),
    (
        "ng",
        "TLP:RED",
        report(
            "NG", "2020-06-10", "air", ("IN", ["AE"], "NG"),
            [("medicines", 1000, "units")],
            "substandard", "risk_profiling", "luggage",
        ),
    ),
    (
        "de",
        "TLP:CLEAR",
        report(
            "DE", "2020-05-12", "postal", ("CN", [], "DE"),
            [("test_kits", 20, "units")],
            "counterfeit", "documentary", "mis_declaration",
        ),
    ),
]  # fmt: skip


@dataclass
class Dataset:
    owner: Member
    group: dict[str, Any]
    senders: dict[str, Member]
    observer: Member
    analyst: Member
    messages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"{API}/groups/{self.group['id']}"


async def build_dataset(client: TestClient[Any, Any]) -> Dataset:
    owner = await make_member(client, Role.ADMIN)
    group = await make_group(client, owner)
    senders = {}
    for name, country, region in (
        ("fr", "FR", Region.EUROPE),
        ("de", "DE", Region.EUROPE),
        ("ng", "NG", Region.WEST_CENTRAL_AFRICA),
    ):
        org = await make_organization(
            client, country=country, region=region, name=f"Customs {country} {group['code']}"
        )
        senders[name] = await make_member(client, Role.OFFICER, organization=org, with_key=True)
        await add_member(client, owner, group, senders[name])
    observer = await make_member(client, Role.OBSERVER)
    await add_member(client, owner, group, observer, role="observer")
    analyst = await make_member(client, Role.ANALYST)
    await add_member(client, owner, group, analyst)
    data = Dataset(owner, group, senders, observer, analyst)
    for sender, hc, body in REPORTS:
        data.messages.append(
            await post_message(client, senders[sender], group, "seizure", hc=hc, body=body)
        )
    return data


async def get_json(client: TestClient[Any, Any], path: str, member: Member, **params: Any) -> Any:
    resp = await client.get(path, headers=member.auth, params=params)
    assert resp.status == 200, await resp.text()
    return await resp.json()
