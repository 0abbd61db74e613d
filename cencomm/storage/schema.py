"""SchemaStore: the schema revision Alembic stamped in the database."""

from __future__ import annotations

from alembic.runtime.migration import MigrationContext
from sqlalchemy.orm import Session


class SchemaStore:
    def __init__(self, session: Session) -> None:
        self._session = session

    def revision(self) -> str | None:
        """The stamped revision (None before the first migration), read on the unit's own
        connection, so a readiness check goes through the same pool and thread as every read."""
        context = MigrationContext.configure(
            self._session.connection(), opts={"version_table": "alembic_version"}
        )
        return context.get_current_revision()
