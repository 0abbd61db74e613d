"""`cencomm demo-seed`: the full Operation STOP to explore, created once.

This module creates the directory (organisations and users, through the directory service:
audited like any admin's work); `demo_operation` creates the group, the keys and the signed
posts and alerts; `demo_reports` generates the 1,683 seizure reports; `demo_directory` says
who takes part.
"""

from __future__ import annotations

import logging

from cencomm.crypto.passwords import Passwords
from cencomm.demo_directory import DEMO_PASSWORD, demo_organizations
from cencomm.domain.users import Caller, Organization
from cencomm.services.container import Services
from cencomm.services.directory import DirectoryService, NewUser
from cencomm.storage.unit import Unit

logger = logging.getLogger(__name__)

__all__ = ["DEMO_LOGINS", "DEMO_PASSWORD", "seed_demo"]

# What demo-seed prints: who to log in as, and what each sees.
DEMO_LOGINS = (
    "secretariat.admin   platform administrator (WCO Secretariat)",
    "stop.moderator      Operation STOP moderator: every group, alerts, moderation",
    "rilo.weu, rilo.wa, rilo.esa, rilo.mena, rilo.ap, rilo.sa   RILO analysts",
    "officer.fr, officer.de, officer.ng, ... officer.<country code>   one officer per "
    "administration (99), signing keys in <data dir>/demo-keys/",
    "partner.observer, partner.interpol   partner observers (read-only)",
    "wco.research        Secretariat analyst with a pending join request",
)


class _HashedOnce(Passwords):
    """Every demo account has the same, printed password: hash it once (a memory-hard hash
    per account would make 110 accounts take a minute), store that hash for each."""

    def __init__(self, services: Services) -> None:
        auth = services.settings.auth
        super().__init__(auth.argon2_time_cost, auth.argon2_memory_kib, auth.argon2_parallelism)
        self._hashes: dict[str, str] = {}

    def hash(self, password: str) -> str:
        if password not in self._hashes:
            self._hashes[password] = super().hash(password)
        return self._hashes[password]


async def seed_demo(services: Services) -> list[str]:
    """Create whatever of the demo directory is missing; returns the usernames created."""
    system = Caller.system()
    directory = DirectoryService(services.db, services.clock, services.audit, _HashedOnce(services))

    def existing(unit: Unit) -> tuple[dict[str, Organization | None], set[str]]:
        orgs: dict[str, Organization | None] = {}
        users: set[str] = set()
        for spec in demo_organizations():
            orgs[spec.name] = unit.organizations.find_by_name(spec.name)
            for username, _, _ in spec.users:
                if unit.users.find_credentials(username) is not None:
                    users.add(username)
        return orgs, users

    existing_orgs, existing_users = await services.db.read(existing)
    created: list[str] = []
    for spec in demo_organizations():
        org = existing_orgs[spec.name]
        if org is None:
            org = await directory.create_organization(
                system, spec.name, spec.kind, spec.country, spec.region
            )
        for username, display_name, role in spec.users:
            if username in existing_users:
                continue
            await directory.create_user(
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
