"""What the command line does: each function returns an exit code or raises CommandError."""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import logging
import signal
import socket
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from aiohttp import web

from cencomm.app import create_app
from cencomm.crypto.blobcrypt import BlobCorrupted
from cencomm.demo import DEMO_LOGINS, DEMO_PASSWORD, seed_demo
from cencomm.demo_operation import GROUP_CODE, IncompleteDemo, seed_operation
from cencomm.domain.clock import SystemClock
from cencomm.domain.errors import CencommError
from cencomm.domain.users import Caller, OrganizationKind, Role
from cencomm.exits import EXIT_OK, CommandError
from cencomm.realtime.links import WorkerLinks
from cencomm.services.attachment_blobs import BlobVault
from cencomm.services.attachment_upkeep import rewrap_blob_keys
from cencomm.services.background import running
from cencomm.services.container import Services, build_services
from cencomm.services.directory import NewUser
from cencomm.settings import Settings, admin_password_from_environment
from cencomm.settings_sources import redact_url
from cencomm.storage.db import Database
from cencomm.storage.failures import DatabaseFailure, DatabaseUnavailable
from cencomm.storage.keyring import (
    load_or_create_name_key,
    load_or_create_server_keys,
    rotate_master_key,
)
from cencomm.storage.migrate import upgrade
from cencomm.workers import HUB, WorkerFds, supervise, watch_lifeline

logger = logging.getLogger("cencomm.cli")


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
    except (OSError, DatabaseFailure, DatabaseUnavailable) as exc:
        reason = str(getattr(exc, "orig", None) or exc.__cause__ or exc).splitlines()[0]
        raise CommandError(f"database {redact_url(url)} is unreachable: {reason}") from None
    except Exception as exc:
        # asyncpg raises its own error classes for refused logins and missing databases.
        if type(exc).__module__.startswith("asyncpg"):
            reason = str(exc).splitlines()[0]
            raise CommandError(f"database {redact_url(url)} is unreachable: {reason}") from None
        raise
    logger.info("schema is at head", extra={"database": redact_url(url)})
    return EXIT_OK


def serve(
    settings: Settings,
    *,
    run_migrations: bool = True,
    child_args: Sequence[str] = (),
    worker_fds: WorkerFds | None = None,
) -> int:
    """Upgrade the schema (unless told not to), then serve until SIGINT or SIGTERM.

    With `server.workers` above 1 this process supervises that many children, which serve
    (see `cencomm.workers`); `child_args` are the options before the command (`--config`).
    `worker_fds` is given in such a child: it serves the parent's socket and never migrates.
    """
    _prepare_data_dir(settings)
    if worker_fds is None and run_migrations:
        asyncio.run(migrate(settings))
    if worker_fds is None and settings.server.workers > 1:
        # Created here, once, before any child starts (O_EXCL would settle a race, but one
        # process creating them is simpler to reason about).
        load_or_create_server_keys(settings.data.dir)
        load_or_create_name_key(settings.data.dir)
        server = settings.server
        options = ["--no-migrate", "--host", server.host, "--port", str(server.port)]
        return supervise(settings, [*child_args, "serve", *options])
    links: WorkerLinks | None = None
    listen: dict[str, Any] = {"host": settings.server.host, "port": settings.server.port}
    if worker_fds is not None:
        try:
            listen = {"sock": socket.socket(fileno=worker_fds.listen)}
            if worker_fds.role is not None:
                links = WorkerLinks.from_fds(worker_fds.role == HUB, worker_fds.links)
        except OSError as exc:
            raise CommandError(f"--worker-fds: {exc.strerror}") from None
    app = create_app(settings, links=links)
    if worker_fds is not None:
        lifeline = worker_fds.lifeline

        async def as_worker(_: web.Application) -> None:
            # Runs after aiohttp installed its signal handlers: replace them with ones that act
            # once. The supervisor forwards SIGTERM, and a service manager that signals the whole
            # group (systemd's default KillMode) sends another; a second GracefulExit would cut
            # the graceful stop short.
            loop = asyncio.get_running_loop()
            stopping = False

            def stop_once() -> None:
                nonlocal stopping
                if not stopping:
                    stopping = True
                    raise web.GracefulExit

            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stop_once)
            watch_lifeline(lifeline)

        app.on_startup.append(as_worker)
    web.run_app(
        app,
        **listen,
        shutdown_timeout=settings.server.shutdown_timeout,
        access_log=None,
        print=lambda message: logger.info(message.strip()),
        handle_signals=True,
    )
    return EXIT_OK


@contextlib.asynccontextmanager
async def _services(settings: Settings) -> AsyncIterator[Services]:
    """The services without a web server, for commands that act on the database."""
    _prepare_data_dir(settings)
    db = Database(settings.database_url, settings.database)
    try:
        keys = load_or_create_server_keys(settings.data.dir)
        yield build_services(settings, db, SystemClock(), keys)
    except (OSError, DatabaseFailure, DatabaseUnavailable) as exc:
        reason = str(getattr(exc, "orig", None) or exc.__cause__ or exc).splitlines()[0]
        raise CommandError(f"database {redact_url(settings.database_url)}: {reason}") from None
    finally:
        await db.dispose()


def _read_password() -> str:
    from_env = admin_password_from_environment()
    if from_env is not None:
        return from_env.reveal()
    if sys.stdin.isatty():
        first = getpass.getpass("Password for the new administrator: ")
        if first != getpass.getpass("Repeat the password: "):
            raise CommandError("the passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


async def create_admin(
    settings: Settings, username: str, display_name: str | None, organization: str
) -> int:
    """Create a Secretariat administrator (and the Secretariat organisation if missing)."""
    password = _read_password()
    async with _services(settings) as services:
        try:
            org = await services.db.read(lambda unit: unit.organizations.find_by_name(organization))
            if org is None:
                org = await services.directory.create_organization(
                    Caller.system(), organization, OrganizationKind.SECRETARIAT, None, None
                )
            elif org.kind is not OrganizationKind.SECRETARIAT:
                raise CommandError(f"organisation {organization!r} is not the Secretariat")
            user = await services.directory.create_user(
                Caller.system(),
                NewUser(
                    username=username,
                    display_name=display_name or username,
                    organization_id=org.id,
                    role=Role.ADMIN,
                    password=password,
                ),
            )
        except CencommError as exc:
            raise CommandError(exc.detail or exc.title) from None
    sys.stdout.write(f"created administrator {user.username} ({user.id})\n")
    return EXIT_OK


async def demo_seed(settings: Settings) -> int:
    """Load the demo Operation STOP once; a repeat changes nothing."""
    async with _services(settings) as services, running(services.messaging.writer.job()):
        created = await seed_demo(services)
        try:
            operation = await seed_operation(services, settings.data.dir)
        except IncompleteDemo as exc:
            raise CommandError(
                f"{exc}: an earlier demo-seed was interrupted; run it on an empty database"
            ) from None
    if operation:
        sys.stdout.write(
            f"demo group {GROUP_CODE} created: 1,683 signed seizure reports from 99 "
            "administrations, alerts with acknowledgements, hidden posts, join requests\n"
        )
    if created:
        sys.stdout.write(f"demo accounts created ({len(created)}), password {DEMO_PASSWORD!r}:\n")
        for line in DEMO_LOGINS:
            sys.stdout.write(f"  {line}\n")
    elif not operation:
        sys.stdout.write("demo operation already present; nothing changed\n")
    return EXIT_OK


async def analytics_rebuild(settings: Settings) -> int:
    """Recreate the analytic tables from every stored seizure JWS, in one transaction."""
    async with _services(settings) as services:
        counts = await services.analytics.rebuild()
    sys.stdout.write(
        f"analytic tables rebuilt: {counts.reports} reports, {counts.items} items, "
        f"{counts.transit} transit countries\n"
    )
    return EXIT_OK


def verify_export(
    bundle: Path,
    audit_key: Path | None = None,
    tree_head: Path | None = None,
    consistency_proof: Path | None = None,
    witnesses: Sequence[str] = (),
    quorum: int | None = None,
) -> int:
    """Check an evidence bundle offline; a summary on stdout, or the first failure raised."""
    from cencomm.verification.bundle_check import (
        BundleInputError,
        BundleNotVerified,
        check_bundle_file,
        verified_sentence,
    )

    try:
        summary = check_bundle_file(
            bundle, audit_key, tree_head, consistency_proof, witnesses, quorum
        )
    except (BundleInputError, BundleNotVerified) as exc:
        raise CommandError(str(exc)) from None
    sys.stdout.write(verified_sentence(summary) + "\n")
    return EXIT_OK


async def attachments_sweep(settings: Settings, grace: float | None) -> int:
    """Remove orphan blob files and leftover temporary files now (the server does it too)."""
    async with _services(settings) as services:
        report = await services.attachments.sweep_orphans(grace)
    sys.stdout.write(
        f"removed {report.blobs_removed} orphan blob files and {report.temp_removed} temporary "
        f"files; kept {report.kept} old blob files that rows name\n"
    )
    return EXIT_OK


async def keys_rotate(settings: Settings) -> int:
    """Add a new attachment master key, then re-wrap every blob key under it.

    Blob files are not rewritten. Old master keys stay in keys/master/ (so a rotation that
    stopped half way can simply be run again); delete one only once no blob names it.
    """
    _prepare_data_dir(settings)
    kid = rotate_master_key(settings.data.dir)
    vault = BlobVault(settings.data.dir, load_or_create_name_key(settings.data.dir))
    db = Database(settings.database_url, settings.database)
    try:
        report = await rewrap_blob_keys(db, vault)
    except (OSError, DatabaseFailure, DatabaseUnavailable) as exc:
        raise CommandError(f"database {redact_url(settings.database_url)}: {exc}") from None
    except BlobCorrupted as exc:
        raise CommandError(f"cannot re-wrap a blob key: {exc}") from None
    finally:
        await db.dispose()
    sys.stdout.write(
        f"new attachment master key {kid}; re-wrapped {report.rewrapped} of {report.total} "
        "blob keys\n"
    )
    return EXIT_OK
