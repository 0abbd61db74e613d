"""Helpers for correlation tests: an operation with its members, reports with identifiers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp.test_utils import TestClient

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

API = "/api/v1"
MULLER = ("Müller Pharma GmbH", "MULLER PHARMA LTD", "muller-pharma", "Müller  Pharma S.A.R.L.",
          "Muller Pharma Co.")  # fmt: skip
CONTAINER = "CSQU3054383"
OTHER_CONTAINER = "MSKU1234565"
AWB = "020-1234567 5"


def party(name: str, role: str = "consignee", country: str = "CN") -> dict[str, Any]:
    return {"role": role, "name": name, "country": country}


async def report(
    client: TestClient[Any, Any],
    member: Member,
    group: dict[str, Any],
    *,
    hc: str = "TLP:GREEN",
    parties: tuple[str, ...] = (),
    containers: tuple[str, ...] = (),
    documents: tuple[str, ...] = (),
    occurred_on: str = "2020-05-20",
) -> str:
    """A seizure report with these identifiers, posted and signed by `member`; its id."""
    body = seizure_body(member.organization.country or "FR", occurred_on=occurred_on)
    if parties:
        body["parties"] = [party(name) for name in parties]
    if containers:
        body["containers"] = list(containers)
    if documents:
        body["documents"] = [{"type": "awb", "number": number} for number in documents]
    posted = await post_message(client, member, group, "seizure", hc=hc, body=body)
    return str(posted["id"])


@dataclass
class Operation:
    admin: Member
    group: dict[str, Any]
    fr: Member  # officer, France
    de: Member  # officer, Germany
    analyst: Member
    observer: Member


async def operation(client: TestClient[Any, Any]) -> Operation:
    admin = await make_member(client, Role.ADMIN)
    group = await make_group(client, admin)
    fr = await make_member(client, Role.OFFICER, with_key=True)
    germany = await make_organization(client, country="DE")
    de = await make_member(client, Role.OFFICER, organization=germany, with_key=True)
    analyst = await make_member(client, Role.ANALYST)
    observer = await make_member(client, Role.OBSERVER)
    for member in (fr, de, analyst):
        await add_member(client, admin, group, member)
    await add_member(client, admin, group, observer, role="observer")
    return Operation(admin, group, fr, de, analyst, observer)
