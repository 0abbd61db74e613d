"""`cencomm demo-seed`: a small Operation STOP to explore, created once."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from cencomm.domain.users import Caller, OrganizationKind, Region, Role
from cencomm.services.container import Services
from cencomm.services.directory import NewUser
from cencomm.storage.users import OrganizationStore, UserStore

logger = logging.getLogger(__name__)

# Demo accounts only: printed by the command, never used outside a demo data directory.
DEMO_PASSWORD = "operation-stop-2020"  # noqa: S105


@dataclass(frozen=True, slots=True)
class DemoOrganization:
    name: str
    kind: OrganizationKind
    country: str | None
    region: Region | None
    users: tuple[tuple[str, str, Role], ...]


DEMO_ORGANIZATIONS = (
    DemoOrganization(
        "WCO Secretariat",
        OrganizationKind.SECRETARIAT,
        None,
        None,
        (
            ("secretariat.admin", "Secretariat administrator", Role.ADMIN),
            ("stop.moderator", "Operation STOP moderator", Role.MODERATOR),
        ),
    ),
    DemoOrganization(
        "RILO Western Europe",
        OrganizationKind.RILO,
        None,
        Region.EUROPE,
        (("rilo.weu", "RILO Western Europe analyst", Role.ANALYST),),
    ),
    DemoOrganization(
        "RILO West Africa",
        OrganizationKind.RILO,
        None,
        Region.WEST_CENTRAL_AFRICA,
        (("rilo.wa", "RILO West Africa analyst", Role.ANALYST),),
    ),
    DemoOrganization(
        "Douane française",
        OrganizationKind.ADMINISTRATION,
        "FR",
        Region.EUROPE,
        (("officer.fr", "Officier des douanes (FR)", Role.OFFICER),),
    ),
    DemoOrganization(
        "Zoll Deutschland",
        OrganizationKind.ADMINISTRATION,
        "DE",
        Region.EUROPE,
        (("officer.de", "Zollbeamtin (DE)", Role.OFFICER),),
    ),
    DemoOrganization(
        "Nigeria Customs Service",
        OrganizationKind.ADMINISTRATION,
        "NG",
        Region.WEST_CENTRAL_AFRICA,
        (("officer.ng", "Customs officer (NG)", Role.OFFICER),),
    ),
    DemoOrganization(
        "Partner pharmaceutical security",
        OrganizationKind.PARTNER,
        None,
        None,
        (("partner.observer", "Partner analyst (read-only)", Role.OBSERVER),),
    ),
)


async def seed_demo(services: Services) -> list[str]:
    """Create whatever of the demo operation is missing; returns the usernames created."""
    system = Caller.system()
    created: list[str] = []
    for spec in DEMO_ORGANIZATIONS:
        async with services.db.read() as session:
            org = await OrganizationStore(session).find_by_name(spec.name)
        if org is None:
            org = await services.directory.create_organization(
                system, spec.name, spec.kind, spec.country, spec.region
            )
        for username, display_name, role in spec.users:
            async with services.db.read() as session:
                exists = await UserStore(session).find_credentials(username) is not None
            if exists:
                continue
            await services.directory.create_user(
                system,
                NewUser(
                    username=username,
                    display_name=display_name,
                    organization_id=org.id,
                    role=role,
                    password=DEMO_PASSWORD,
                ),
            )
            created.append(username)
    return created
