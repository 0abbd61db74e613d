"""The `cencomm` command line: serve, migrate, create-admin, demo-seed, audit, attachments sweep,
keys rotate, backup, restore."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from cencomm import __version__
from cencomm.client.cli import add_client_parser, run_client
from cencomm.exits import EXIT_FAILURE, EXIT_USAGE, CommandError
from cencomm.logs import configure_logging
from cencomm.settings import Settings, SettingsError, load_settings, validate
from cencomm.witness.cli import add_witness_options, add_witness_parser, run_witness
from cencomm.workers import WorkerFds

logger = logging.getLogger("cencomm.cli")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cencomm",
        description="Secure intelligence exchange for customs enforcement operations.",
    )
    parser.add_argument("--version", action="version", version=f"cencomm {__version__}")
    parser.add_argument(
        "--config",
        type=Path,
        help="TOML settings file (default: $CENCOMM_CONFIG or config/cencomm.toml)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="upgrade the schema to head, then serve HTTP")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8080)")
    serve.add_argument(
        "--no-migrate", action="store_true", help="do not upgrade the schema before serving"
    )
    serve.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="server processes sharing the port (default 1; more needs PostgreSQL and Redis)",
    )
    # Internal: how a supervising `serve --workers N` starts its children (cencomm.workers).
    serve.add_argument("--worker-fds", type=WorkerFds.parse, help=argparse.SUPPRESS)

    commands.add_parser("migrate", help="upgrade the database schema to head and exit")

    admin = commands.add_parser(
        "create-admin",
        help="create the first Secretariat administrator (password from stdin or "
        "CENCOMM_ADMIN_PASSWORD)",
    )
    admin.add_argument("--username", required=True)
    admin.add_argument("--display-name", help="shown to other users (default: the username)")
    admin.add_argument(
        "--organization", default="WCO Secretariat", help="name of the Secretariat organisation"
    )

    commands.add_parser(
        "demo-seed", help="load a demo Operation STOP (once; a repeat does nothing)"
    )

    audit = commands.add_parser("audit", help="audit log tools")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    verify = audit_commands.add_parser(
        "verify", help="check the audit log; exit 0 when intact, else name the first bad entry"
    )
    verify.add_argument(
        "--since-tree-head",
        type=Path,
        metavar="FILE",
        help="a tree head saved earlier (GET /audit/tree-head): the log must still contain it",
    )
    analytics = commands.add_parser("analytics", help="seizure analytics tools")
    analytics_commands = analytics.add_subparsers(
        dest="analytics_command", required=True, metavar="ACTION"
    )
    analytics_commands.add_parser(
        "rebuild",
        help="recreate the analytic tables from the stored JWS (the source of truth)",
    )
    attachments = commands.add_parser("attachments", help="attachment storage tools")
    attachment_commands = attachments.add_subparsers(
        dest="attachments_command", required=True, metavar="ACTION"
    )
    sweep = attachment_commands.add_parser(
        "sweep",
        help="remove blob files no database row names, and leftover temporary upload files",
    )
    sweep.add_argument(
        "--grace",
        type=float,
        metavar="SECONDS",
        help="spare files younger than this (default: the attachments.orphan_grace setting; "
        "0 only while no server is running)",
    )
    keys = commands.add_parser("keys", help="server key tools")
    key_commands = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    key_commands.add_parser(
        "rotate",
        help="add a new attachment master key and re-wrap every blob key (blobs untouched)",
    )
    backup = commands.add_parser(
        "backup",
        help="copy the database (one consistent snapshot), keys, attachment blobs and audit "
        "checkpoint file into the new directory DEST, while the server keeps running",
    )
    backup.add_argument("dest", type=Path, metavar="DEST", help="a new (or empty) directory")
    restore = commands.add_parser(
        "restore",
        help="restore a backup into an empty data directory and an empty database "
        "(the configured ones)",
    )
    restore.add_argument("source", type=Path, metavar="SRC", help="a directory `backup` wrote")
    export = commands.add_parser(
        "verify-export",
        help="check an evidence bundle (GET /groups/{id}/export) offline; exit 0 when it "
        "verifies, else name the first thing that fails",
    )
    export.add_argument("file", type=Path, metavar="FILE", help="the bundle (zip)")
    export.add_argument(
        "--audit-key",
        type=Path,
        metavar="FILE",
        help="the server's audit key, saved independently from GET /audit/key (without it a "
        "bundle forged whole with another key would verify against itself)",
    )
    export.add_argument(
        "--tree-head",
        type=Path,
        metavar="FILE",
        help="a tree head saved independently (GET /audit/tree-head): the bundle's must be it "
        "or be consistent with it",
    )
    export.add_argument(
        "--consistency-proof",
        type=Path,
        metavar="FILE",
        help="GET /audit/proof/consistency between the saved and the bundle's tree sizes, "
        "when they differ",
    )
    add_witness_options(export)
    add_client_parser(commands)
    add_witness_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "client":  # a user's tool: it needs no server settings
        return run_client(args)
    if args.command == "witness":  # another party's service: no server settings either
        return run_witness(args)
    if args.command == "verify-export":  # offline: no settings, no database, no keys
        from cencomm.commands import verify_export

        try:
            return verify_export(
                args.file,
                args.audit_key,
                args.tree_head,
                args.consistency_proof,
                args.witness,
                args.quorum,
            )
        except CommandError as exc:
            print(f"cencomm: {exc}", file=sys.stderr)
            return EXIT_FAILURE
    try:
        settings = load_settings(args.config)
        if args.command == "serve":
            server = replace(
                settings.server,
                host=args.host or settings.server.host,
                port=args.port if args.port is not None else settings.server.port,
                workers=args.workers if args.workers is not None else settings.server.workers,
            )
            if args.worker_fds is not None:
                server = replace(server, workers=1)  # a child serves; it supervises nobody
            settings = replace(settings, server=server)
            validate(settings)
    except SettingsError as exc:
        print(f"cencomm: invalid setting: {exc}", file=sys.stderr)
        return EXIT_USAGE
    configure_logging(settings.logging)
    try:
        return _run(args, settings)
    except CommandError as exc:
        print(f"cencomm: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "audit" and args.audit_command == "verify":
        # Imported on its own: `commands` loads the whole server, which this does not need.
        from cencomm.audit_command import audit_verify

        return asyncio.run(audit_verify(settings, args.since_tree_head))
    if args.command in ("backup", "restore"):
        from cencomm.backup import command as backup_command  # only what these two need

        if args.command == "backup":
            return asyncio.run(backup_command.backup(settings, args.dest))
        return asyncio.run(backup_command.restore(settings, args.source))
    from cencomm import commands  # imported late: keeps `--help` fast and free of heavy imports

    if args.command == "serve":
        # `--no-migrate` (scripts/run migrates first) or `database.migrate_on_start = false`.
        migrate = settings.database.migrate_on_start and not args.no_migrate
        # A child re-reads the same settings (same file, same environment); the parent has
        # migrated already.
        child_args = [] if args.config is None else ["--config", str(args.config)]
        return commands.serve(
            settings,
            run_migrations=migrate,
            child_args=child_args,
            worker_fds=args.worker_fds,
        )
    if args.command == "migrate":
        return asyncio.run(commands.migrate(settings))
    if args.command == "create-admin":
        return asyncio.run(
            commands.create_admin(settings, args.username, args.display_name, args.organization)
        )
    if args.command == "demo-seed":
        return asyncio.run(commands.demo_seed(settings))
    if args.command == "analytics" and args.analytics_command == "rebuild":
        return asyncio.run(commands.analytics_rebuild(settings))
    if args.command == "attachments" and args.attachments_command == "sweep":
        if args.grace is not None and args.grace < 0:
            raise CommandError("--grace: must not be negative")
        return asyncio.run(commands.attachments_sweep(settings, args.grace))
    if args.command == "keys" and args.keys_command == "rotate":
        return asyncio.run(commands.keys_rotate(settings))
    raise CommandError(f"unknown command {args.command}")  # argparse prevents this
