"""`cencomm client` export (evidence bundle, MISP, STIX 2.1) and verify-export (offline).

Run once for both databases: tests/client/test_cli_exports.py drives these as a user would.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cencomm.client.api import CencommClient
from cencomm.client.cli_support import (
    EXIT_OK,
    HANDLING_CODES,
    Context,
    Handler,
    Progress,
    UsageError,
    add_action,
    add_key_options,
    load_key,
)
from cencomm.client.errors import ClientError
from cencomm.client.misp_import import reports_of
from cencomm.client.seizure_import import post_report_once

FORMATS = ("bundle", "misp", "stix")


def add_parsers(actions: Any) -> None:
    export = add_action(
        actions,
        "export",
        help="download a group's export: the evidence bundle (zip, moderators), or a MISP "
        "event or STIX 2.1 bundle of its seizure reports and alerts (never TLP:RED)",
        example=[
            "cencomm client export STOP-2020 --format bundle --out stop.zip --blobs",
            "cencomm client export STOP-2020 --format stix --out stop.stix.json --from 2020-05-01",
        ],
    )
    export.add_argument("group", metavar="GROUP", help="the group's code (STOP-2020) or id")
    export.add_argument("--format", required=True, choices=FORMATS, help="what to download")
    export.add_argument("--out", required=True, type=Path, metavar="FILE", help="where to save")
    export.add_argument(
        "--blobs", action="store_true", help="bundle only: include the attachments' bytes"
    )
    export.add_argument("--from", dest="start", metavar="YYYY-MM-DD", help="misp/stix only")
    export.add_argument("--to", dest="end", metavar="YYYY-MM-DD", help="misp/stix only")
    export.add_argument(
        "--force", action="store_true", help="replace FILE if it exists (else refused)"
    )

    misp = add_action(
        actions,
        "import-misp",
        help="sign and post the seizure reports of a MISP event (cencomm-seizure-report "
        "objects, as export.misp.json writes them); all are checked before any is sent, and "
        "a re-run posts nothing twice",
        example="cencomm client import-misp stop.misp.json --group STOP-2021",
    )
    misp.add_argument("file", type=Path, metavar="FILE", help="the MISP event (JSON)")
    misp.add_argument("--group", required=True, help="the group's code (STOP-2020) or id")
    misp.add_argument(
        "--hc",
        choices=HANDLING_CODES,
        help="handling code of reports that carry no tlp: tag (else those are refused)",
    )
    add_key_options(misp)

    verify = add_action(
        actions,
        "verify-export",
        help="check an evidence bundle offline, with no server (exit 0 verified, 1 not)",
        example="cencomm client verify-export stop.zip --audit-key audit-key.json",
    )
    verify.add_argument("file", type=Path, metavar="FILE", help="the bundle (zip)")
    verify.add_argument(
        "--audit-key", type=Path, metavar="FILE", help="the server's audit key, saved before"
    )
    verify.add_argument(
        "--tree-head", type=Path, metavar="FILE", help="a tree head saved independently"
    )
    verify.add_argument(
        "--consistency-proof",
        type=Path,
        metavar="FILE",
        help="a consistency proof from --tree-head's size to the bundle's",
    )


class _Bytes:
    """A byte counter on stderr while a download runs, drawn only on a terminal."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.enabled = sys.stderr.isatty()
        self._drawn_at = 0.0

    def __call__(self, size: int, total: int | None) -> None:
        now = time.monotonic()
        if not self.enabled or now - self._drawn_at < 0.1:
            return
        self._drawn_at = now
        of = f" of {_mib(total)}" if total else ""
        sys.stderr.write(f"\r{self.label}: {_mib(size)}{of}")
        sys.stderr.flush()

    def done(self) -> None:
        if self.enabled and self._drawn_at:
            sys.stderr.write("\n")
            sys.stderr.flush()


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"


def _destination(out: Path, force: bool) -> Path:
    if out.exists() and not force:
        raise UsageError(f"{out} exists (use --force to replace it)")
    if not out.parent.is_dir():
        raise UsageError(f"{out.parent} is not a directory")
    return out


async def _export(api: CencommClient, ctx: Context) -> int:
    args = ctx.args
    if args.blobs and args.format != "bundle":
        raise UsageError("--blobs is for --format bundle")
    if (args.start or args.end) and args.format == "bundle":
        raise UsageError("--from and --to are for --format misp or stix")
    out = _destination(args.out, args.force)
    group_id = await api.resolve_group(args.group)
    counter = _Bytes(f"downloading {out.name}")
    try:
        saved = await api.download_export(
            group_id,
            args.format,
            out,
            blobs=args.blobs,
            start=args.start,
            end=args.end,
            progress=counter,
        )
    finally:
        counter.done()
    ctx.out.result(
        {
            "format": args.format,
            "path": str(saved.path),
            "size": saved.size,
            "sha256": saved.sha256,
            "filename": saved.filename,
        },
        lambda s: (
            f"Saved the {s['format']} export to {s['path']} "
            f"({s['size']} bytes, sha256 {s['sha256']})."
        ),
    )
    return EXIT_OK


def _misp_event(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise UsageError(f"{path} is not JSON: {exc}") from None


async def _import_misp(api: CencommClient, ctx: Context) -> int:
    args = ctx.args
    document = _misp_event(args.file)
    group_id = await api.resolve_group(args.group)
    today = datetime.now(UTC).date() + timedelta(days=1)  # the server's "today" may be ahead
    reports, problems = reports_of(document, group_id, today=today, default_hc=args.hc)
    if problems:
        listed = "; ".join(f"object {p.where}: {p.field}: {p.message}" for p in problems)
        raise ClientError(f"nothing sent: {len(problems)} problems in {args.file}: {listed}")
    key = load_key(ctx)
    progress = Progress("importing", len(reports))
    posted = already = 0
    try:
        for report in reports:
            if await post_report_once(api, group_id, report.body, report.hc, report.cid, key):
                posted += 1
            else:
                already += 1
            progress.advance()
    finally:
        progress.done()
    ctx.out.result(
        {"reports": len(reports), "posted": posted, "already_posted": already},
        lambda s: (
            f"Imported {s['reports']} seizure reports: {s['posted']} posted, "
            f"{s['already_posted']} already posted before."
        ),
    )
    return EXIT_OK


def verify_export(ctx: Context) -> int:
    """Offline: no login, no server (the same checks as `cencomm verify-export`)."""
    from cencomm.verification.bundle_check import (
        BundleInputError,
        BundleNotVerified,
        check_bundle_file,
        verified_sentence,
    )

    args = ctx.args
    try:
        summary = check_bundle_file(
            args.file,
            args.audit_key,
            args.tree_head,
            args.consistency_proof,
            getattr(args, "witness", ()),
            getattr(args, "quorum", None),
        )
    except BundleInputError as exc:
        raise UsageError(str(exc)) from None
    except BundleNotVerified as exc:
        raise ClientError(str(exc)) from None
    ctx.out.result(
        {"verified": True, **dataclasses.asdict(summary)},
        lambda _: "E" + verified_sentence(summary)[1:] + ".",
    )
    return EXIT_OK


HANDLERS: dict[str, Handler] = {"export": _export, "import-misp": _import_misp}
# Commands that need no login and no server: `dispatch` runs them before connecting.
OFFLINE = {"verify-export": verify_export}
