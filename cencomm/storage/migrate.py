"""Schema migrations with Alembic: upgrade to head (under a PostgreSQL advisory lock) and checks."""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import create_async_engine

from cencomm.settings import DatabaseSettings
from cencomm.storage.db import is_sqlite, prepare_sqlite_file

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS_DIR = PROJECT_ROOT / "migrations"
# Any constant works: it only has to be the same in every cencomm process on one database.
ADVISORY_LOCK_KEY = 0x63656E636F6D6D  # "cencomm"


# Database objects that migrations create but no ORM model describes (full-text search).
UNMODELLED_PREFIXES = ("message_search", "ix_message_search")


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Autogenerate filter: leave the search structures of migration 0005 alone."""
    return not (name or "").startswith(UNMODELLED_PREFIXES)


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config pointing at our migrations, independent of the working directory."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@functools.cache
def head_revision() -> str | None:
    """The newest migration of this cencomm (read once per process: the scripts are part of
    the installed code; every app's health service asks)."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def known_revision(revision: str) -> bool:
    """Whether `revision` is one of our migrations (a database stamped with another one was
    migrated by a newer cencomm, which this one cannot run)."""
    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except Exception:  # alembic raises several classes for an unknown or malformed id
        return False


def _upgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def _downgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, revision)


async def upgrade(url: str, revision: str = "head") -> None:
    """Upgrade the database at `url`; concurrent callers on PostgreSQL take turns."""
    # A new SQLite file is born owner-only and in WAL mode, the mode every connection expects.
    prepare_sqlite_file(url, DatabaseSettings().sqlite_busy_timeout_ms)
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            if not is_sqlite(url):
                # Session-level lock: several processes starting together migrate one at a time.
                await conn.execute(
                    text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
                )
            try:
                await conn.run_sync(_upgrade, revision)
                await conn.commit()
            finally:
                if not is_sqlite(url):
                    await conn.execute(
                        text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY}
                    )
                    await conn.commit()
    finally:
        await engine.dispose()


async def downgrade(url: str, revision: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            await conn.run_sync(_downgrade, revision)
            await conn.commit()
    finally:
        await engine.dispose()
