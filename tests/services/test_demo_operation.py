"""The demo is the full Operation STOP: who takes part, 1,683 reports with the exact totals,
every report signed by its sender's registered key, alerts, moderation; deterministic and
idempotent."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from jwcrypto import jwk, jws
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from cencomm.crypto.keys import b64url_encode
from cencomm.demo import seed_demo
from cencomm.demo_conveyance import (
    NETWORK_CONSIGNEES,
    NETWORK_CONSIGNORS,
    SHARED_AWBS,
    SHARED_CONTAINERS,
)
from cencomm.demo_directory import ADMINISTRATIONS, REGION_OF
from cencomm.demo_operation import GROUP_CODE, IncompleteDemo, seed_operation
from cencomm.demo_reports import (
    ENDS_ON,
    MEDICAL_SUPPLIES_UNITS,
    MEDICINES_UNITS,
    REPORTS,
    SANITIZER_LITRES,
    STARTS_ON,
    generate_reports,
)
from cencomm.domain.clock import SystemClock
from cencomm.domain.countries import is_country_code
from cencomm.domain.groups import NewGroup
from cencomm.domain.identifiers import normal_party_name
from cencomm.domain.ids import SessionId, new_id
from cencomm.domain.seizure_standard import identifiers_of
from cencomm.domain.seizures import parse_seizure_report
from cencomm.domain.users import Caller, Principal
from cencomm.services.background import running
from cencomm.services.container import Services, build_services
from cencomm.settings import Settings
from cencomm.storage.db import Database
from cencomm.storage.keyring import load_or_create_server_keys
from cencomm.storage.tables import (
    AlertAckRow,
    AlertOrganizationRow,
    AlertRow,
    AuditEntryRow,
    GroupRow,
    JoinRequestRow,
    MessageRow,
    OrganizationRow,
    ReportIdentifierRow,
    SeizureItemRow,
    SeizureReportRow,
    SigningKeyRow,
    UserRow,
)

LOGINS = (
    "secretariat.admin",
    "stop.moderator",
    "rilo.weu",
    "rilo.wa",
    "officer.fr",
    "officer.de",
    "officer.ng",
    "partner.observer",
)


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    settings.data.dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.database_url, settings.database)
    try:
        built = build_services(
            settings, db, SystemClock(), load_or_create_server_keys(settings.data.dir)
        )
        async with running(built.messaging.writer.job()):
            yield built
    finally:
        await db.dispose()


async def _scalars(services: Services, query: Any) -> list[Any]:
    """Rows of an ad hoc query, on a connection of the test's own (units run stores only)."""
    engine = create_async_engine(services.db.url)
    try:
        async with engine.connect() as connection:
            return list((await connection.execute(query)).all())
    finally:
        await engine.dispose()


async def _counts(services: Services) -> dict[str, int]:
    counts = {}
    for name, table in (
        ("messages", MessageRow),
        ("users", UserRow),
        ("organizations", OrganizationRow),
        ("audit", AuditEntryRow),
        ("alerts", AlertRow),
        ("acks", AlertAckRow),
        ("keys", SigningKeyRow),
    ):
        [(count,)] = await _scalars(services, select(func.count()).select_from(table))
        counts[name] = count
    return counts


def test_reports_are_deterministic_and_hit_the_published_totals() -> None:
    first, again = generate_reports(), generate_reports()
    assert [r.body for r in first] == [r.body for r in again]
    assert len(first) == REPORTS == 1683
    assert MEDICINES_UNITS > 300_000_000 and MEDICAL_SUPPLIES_UNITS > 47_000_000
    assert 2_750_000 <= SANITIZER_LITRES <= 2_850_000  # "approximately 2.8 million litres"
    weeks = Counter(
        (date.fromisoformat(r.body["occurred_on"]) - STARTS_ON).days // 7 for r in first
    )
    assert sorted(weeks) == list(range(9))

    # The story: medicines take over from masks and sanitizer as the weeks go by.
    def share(week: int, category: str) -> float:
        in_week = [
            r
            for r in first
            if (date.fromisoformat(r.body["occurred_on"]) - STARTS_ON).days // 7 == week
        ]
        hits = sum(1 for r in in_week if r.body["items"][0]["category"] == category)
        return hits / len(in_week)

    assert share(0, "medicines") < share(8, "medicines")
    assert share(0, "masks") > share(8, "masks")


def test_a_share_of_reports_carry_the_standard_form_with_a_recurring_network() -> None:
    reports = generate_reports()
    standard = [r for r in reports if "conveyance" in r.body]
    assert 0.25 <= len(standard) / len(reports) <= 0.35
    assert all(r.body["documents"] and r.body["parties"] for r in standard)
    countries: dict[tuple[str, str], set[str]] = {}
    spellings: dict[str, set[str]] = {}
    for r in reports:
        parsed = parse_seizure_report(r.body, today=ENDS_ON)  # every body valid
        for identifier in identifiers_of(parsed.standard):
            key = (identifier.kind.value, identifier.value)
            countries.setdefault(key, set()).add(r.country)
            spellings.setdefault(identifier.value, set()).add(identifier.label)
    # Each network consignee recurs in reports from many countries, written several ways.
    for _, names in NETWORK_CONSIGNEES:
        value = normal_party_name(names[0])
        assert len(countries[("party", value)]) >= 10
        assert {normal_party_name(name) for name in names} == {value}
    assert len(spellings["euromed supplies"]) == 3
    for container in SHARED_CONTAINERS:
        assert len(countries[("container", container)]) >= 2
    for awb in SHARED_AWBS:
        assert len(countries[("document", awb.replace("-", ""))]) >= 2
    # Other parties are each a different company: only the network's names recur.
    recurring = {v for (kind, v), seen in countries.items() if kind == "party" and len(seen) > 1}
    network = {normal_party_name(n[0]) for _, n in (*NETWORK_CONSIGNEES, *NETWORK_CONSIGNORS)}
    assert recurring == network


async def test_demo_seed_is_the_full_operation_stop_and_idempotent(services: Services) -> None:
    created = await seed_demo(services)
    assert await seed_operation(services, services.settings.data.dir) is True
    assert set(LOGINS) <= set(created)

    orgs = await _scalars(
        services, select(OrganizationRow.kind, OrganizationRow.country, OrganizationRow.region)
    )
    kinds = Counter(kind for kind, _, _ in orgs)
    assert kinds == {"secretariat": 1, "rilo": 6, "administration": 99, "partner": 2}
    administrations = [(c, r) for kind, c, r in orgs if kind == "administration"]
    assert len({c for c, _ in administrations}) == 99
    assert all(is_country_code(c) and REGION_OF[c].value == r for c, r in administrations)
    assert {r for kind, _, r in orgs if kind == "rilo"} == {r.value for r in ADMINISTRATIONS}
    officers = await _scalars(
        services,
        select(OrganizationRow.country, func.count())
        .join(UserRow, UserRow.organization_id == OrganizationRow.id)
        .where(UserRow.role == "officer")
        .group_by(OrganizationRow.country),
    )
    assert len(officers) == 99
    observers = await _scalars(services, select(UserRow.id).where(UserRow.role == "observer"))
    assert len(observers) == 2

    [(group_id, starts_at, ends_at, status)] = await _scalars(
        services,
        select(GroupRow.id, GroupRow.starts_at, GroupRow.ends_at, GroupRow.status).where(
            GroupRow.code == GROUP_CODE
        ),
    )
    assert starts_at == datetime(2020, 5, 11, tzinfo=UTC) and status == "active"
    assert ends_at.date() == ENDS_ON == date(2020, 7, 12)

    # Totals computed from the stored seizure rows.
    totals = await _scalars(
        services,
        select(SeizureItemRow.family, SeizureItemRow.unit, func.sum(SeizureItemRow.quantity))
        .join(SeizureReportRow, SeizureReportRow.message_id == SeizureItemRow.message_id)
        .where(SeizureReportRow.group_id == group_id)
        .group_by(SeizureItemRow.family, SeizureItemRow.unit),
    )
    assert {(f, u): q for f, u, q in totals} == {
        ("medicines", "units"): MEDICINES_UNITS,
        ("medical_supplies", "units"): MEDICAL_SUPPLIES_UNITS,
        ("sanitizer", "litres"): SANITIZER_LITRES,
    }
    reports = await _scalars(
        services, select(SeizureReportRow.occurred_on, SeizureReportRow.country)
    )
    assert len(reports) == REPORTS
    assert all(STARTS_ON <= day <= ENDS_ON for day, _ in reports)
    assert len({country for _, country in reports}) == 99
    # The standard form's identifiers were indexed with the posts: the network links countries.
    linked = await _scalars(
        services,
        select(func.count(func.distinct(SeizureReportRow.country)))
        .select_from(ReportIdentifierRow)
        .join(SeizureReportRow, SeizureReportRow.message_id == ReportIdentifierRow.message_id)
        .where(
            ReportIdentifierRow.kind == "party", ReportIdentifierRow.value == "euromed supplies"
        ),
    )
    assert linked[0][0] >= 10

    # Every report verifies, offline and with an independent JOSE library, against a key
    # registered to its sender; its body is the generated one.
    keys = {
        kid: (user_id, jwk.JWK(kty="OKP", crv="Ed25519", x=b64url_encode(public)))
        for kid, user_id, public in await _scalars(
            services, select(SigningKeyRow.kid, SigningKeyRow.user_id, SigningKeyRow.public_key)
        )
    }
    messages = await _scalars(
        services,
        select(MessageRow.jws, MessageRow.kid, MessageRow.sender_id).where(
            MessageRow.typ == "seizure"
        ),
    )
    bodies = []
    for token, kid, sender_id in messages:
        owner, key = keys[kid]
        assert owner == sender_id
        verifier = jws.JWS()
        verifier.deserialize(token)
        verifier.allowed_algs = ["Ed25519", "EdDSA"]
        verifier.verify(key)
        bodies.append(json.dumps(json.loads(verifier.payload)["body"], sort_keys=True))
    assert sorted(bodies) == sorted(json.dumps(r.body, sort_keys=True) for r in generate_reports())

    # Alerts with acknowledgements and outcomes, one overdue; hidden posts; join requests.
    outcomes = Counter(o for (o,) in await _scalars(services, select(AlertAckRow.outcome)))
    assert {"received", "controlled", "nil_find", "seized"} <= set(outcomes)
    overdue = await _scalars(
        services,
        select(AlertOrganizationRow.alert_id).where(AlertOrganizationRow.overdue_at.is_not(None)),
    )
    assert len({alert_id for (alert_id,) in overdue}) == 1
    hidden = await _scalars(services, select(MessageRow.id).where(MessageRow.hidden.is_(True)))
    assert len(hidden) == 2
    requests = Counter(s for (s,) in await _scalars(services, select(JoinRequestRow.status)))
    assert requests == {"approved": 1, "pending": 1}

    before = await _counts(services)
    assert before["alerts"] == 4 and before["messages"] == REPORTS + 7
    assert await seed_demo(services) == []
    assert await seed_operation(services, services.settings.data.dir) is False
    assert await _counts(services) == before


async def test_an_interrupted_demo_is_reported_not_taken_for_complete(services: Services) -> None:
    await seed_demo(services)
    credentials = await services.db.read(lambda unit: unit.users.find_credentials("stop.moderator"))
    assert credentials is not None
    user = credentials.user
    moderator = Caller(Principal(user.id, user.organization_id, user.role, SessionId(new_id())))
    await services.groups.create_group(moderator, NewGroup(code=GROUP_CODE, name="STOP"))
    with pytest.raises(IncompleteDemo, match=GROUP_CODE):
        await seed_operation(services, services.settings.data.dir)
