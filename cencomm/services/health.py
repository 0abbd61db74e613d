"""Readiness: does the database answer, and is its schema at the head revision?"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from cencomm.storage.db import Database
from cencomm.storage.migrate import head_revision

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Readiness:
    ready: bool
    revision: str | None
    problem: str | None = None  # "database-unavailable" or "schema-outdated"
    detail: str | None = None


class HealthService:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._head = head_revision()

    async def readiness(self) -> Readiness:
        try:
            revision = await self._db.read(lambda unit: unit.schema.revision())
        except Exception:  # any driver failure means "not ready", never a 500
            logger.warning("readiness check: database unreachable", exc_info=True)
            return Readiness(False, None, "database-unavailable", "the database does not answer")
        if revision != self._head:
            detail = (
                f"schema revision {revision} is not the head {self._head}; run `cencomm migrate`"
            )
            return Readiness(False, revision, "schema-outdated", detail)
        return Readiness(True, revision)
