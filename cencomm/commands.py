"""What the command line does: each function returns an exit code or raises CommandError."""

from __future__ import annotations

import asyncio
import logging
import sys

from aiohttp import web
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from cencomm.app import create_app
from cencomm.cli import EXIT_OK, CommandError
from cencomm.services.audit import verify_entries
from cencomm.settings import Settings
from cencomm.storage.db import Database
from cencomm.storage.migrate import upgrade

logger = logging.getLogger("cencomm.cli")


def _safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _prepare_data_dir(settings: Settings) -> None:
    try:
        # Keys, blobs and the SQLite file live here: nobody else on the host may read it.
        settings.data.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise CommandError(f"data directory {settings.data.dir}: {exc.strerror}") from None


async def migrate(settings: Settings) -> int:
    """Upgrade the schema to head; several processes may do this at once on PostgreSQL."""
    _prepare_data_dir(settings)
    url = settings.database_url
    try:
        await upgrade(url)
    except (OSError, OperationalError, DBAPIError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise CommandError(f"database {_safe_url(url)} is unreachable: {reason}") from None
    except Exception as exc:
        # asyncpg raises its own error classes for refused logins and missing databases.
        if type(exc).__module__.startswith("asyncpg"):
            reason = str(exc).splitlines()[0]
            raise CommandError(f"database {_safe_url(url)} is unreachable: {reason}") from None
        raise
    logger.info("schema is at head", extra={"database": _safe_url(url)})
    return EXIT_OK


def serve(settings: Settings, *, run_migrations: bool = True) -> int:
    """Upgrade the schema (unless told not to), then serve until SIGINT or SIGTERM."""
    _prepare_data_dir(settings)
    if run_migrations:
        asyncio.run(migrate(settings))
    app = create_app(settings)
    web.run_app(
        app,
        host=settings.server.host,
        port=settings.server.port,
        shutdown_timeout=settings.server.shutdown_timeout,
        access_log=None,
        print=lambda message: logger.info(message.strip()),
        handle_signals=True,
    )
    return EXIT_OK


async def create_admin(
    settings: Settings, username: str, display_name: str | None, organization: str
) -> int:
    raise CommandError("create-admin needs the identity module, which is not installed yet")


async def demo_seed(settings: Settings) -> int:
    raise CommandError("demo-seed needs the operation modules, which are not installed yet")


async def audit_verify(settings: Settings) -> int:
    """Check the audit log; print a summary on stdout, or the first bad entry on stderr."""
    db = Database(settings.database_url, settings.database)
    try:
        report = await verify_entries(db)
    except (OSError, OperationalError, DBAPIError) as exc:
        raise CommandError(f"cannot read the audit log: {exc}") from None
    finally:
        await db.dispose()
    if not report.ok:
        raise CommandError(f"audit log is NOT intact: {report.problem}")
    sys.stdout.write(f"audit log intact: {report.checked} entries\n")
    return EXIT_OK
