"""Services: every use case object, built once per app from its resources."""

from __future__ import annotations

from dataclasses import dataclass

from cencomm.domain.clock import Clock
from cencomm.services.audit import AuditTrail
from cencomm.services.health import HealthService
from cencomm.settings import Settings
from cencomm.storage.db import Database
from cencomm.storage.keyring import ServerKeys


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    db: Database
    clock: Clock
    keys: ServerKeys
    audit: AuditTrail
    health: HealthService


def build_services(settings: Settings, db: Database, clock: Clock, keys: ServerKeys) -> Services:
    audit = AuditTrail(clock)
    return Services(
        settings=settings, db=db, clock=clock, keys=keys, audit=audit, health=HealthService(db)
    )
