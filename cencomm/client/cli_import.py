"""`cencomm client import-seizures`: a spreadsheet of seizures → signed seizure reports."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cencomm.client.api import CencommClient
from cencomm.client.cli_support import (
    EXIT_FAILURE,
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
from cencomm.client.seizure_import import DEFAULT_CONCURRENCY, ImportSummary, import_reports
from cencomm.client.seizure_map import IDENTITY, load_map
from cencomm.client.seizure_rows import CellError, parse_sheet
from cencomm.client.seizure_sheet import read_sheet

DESCRIPTION = """\
Import seizures from a CSV (UTF-8, ',' or ';') or XLSX file laid out like
docs/seizure-import-template.csv: one row per item, the rows sharing a report_ref forming one
report. Every row is checked first, with the server's own rules; any bad cell is listed with
its row and column and nothing is sent. Then each report is signed with your key and posted.
A re-run (after a crash, or of the same file) posts nothing twice: each report's cid is
derived from the group, the --source name and the report's content. --map adapts a national
layout (column names, values, date format): see docs/seizure-import-map.example.toml.
The standard form's columns are optional, one value per report: conveyance_mode and its
fields (vessel_name, imo, voyage, flight_number, registration, registration_country, courier,
tracking_number), documents ("awb:020-12345675; bl:MEDU447122"), containers (";" between
numbers), consignor_* and consignee_* (name, country, address, identifier)."""


def add_parsers(actions: Any) -> None:
    parser = add_action(
        actions,
        "import-seizures",
        help="validate a CSV/XLSX of seizures, then sign and post one report per report_ref",
        description=DESCRIPTION,
        example=[
            "cencomm client import-seizures seizures.csv --group STOP-2020 --dry-run",
            "cencomm client import-seizures douane.xlsx --group STOP-2020 --map douane.toml",
        ],
    )
    parser.add_argument("file", type=Path, metavar="FILE", help="the .csv or .xlsx file")
    parser.add_argument("--group", required=True, help="the group's code (STOP-2020) or id")
    parser.add_argument(
        "--map", type=Path, metavar="MAP", help="a .toml or .json map of a national layout"
    )
    parser.add_argument(
        "--hc",
        default="TLP:AMBER",
        choices=HANDLING_CODES,
        help="handling code of reports whose hc cell is blank (default TLP:AMBER)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="check every row and stop: send nothing"
    )
    parser.add_argument(
        "--source",
        help="the name report cids derive from (default: the file name without extension; "
        "keep it when re-importing a renamed copy)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=DEFAULT_CONCURRENCY,
        help=f"reports in flight at once (1-32, default {DEFAULT_CONCURRENCY})",
    )
    add_key_options(parser)


def _org_country(me: dict[str, Any]) -> str:
    organization = me.get("organization") or {}
    country = organization.get("country")
    if not country:
        raise ClientError("your organisation has no country, so it cannot file seizure reports")
    return str(country)


def _bad_cells(ctx: Context, errors: tuple[CellError, ...], path: Path) -> int:
    if ctx.out.as_json:
        ctx.out.json_line([error.to_json() for error in errors])
    else:
        ctx.out.stream.write("".join(f"{error}\n" for error in errors))
        ctx.out.stream.flush()
    count = len(errors)
    ctx.out.note(
        f"cencomm client: {count} bad cell{'s' * (count != 1)} in {path}; nothing was sent"
    )
    return EXIT_FAILURE


def _summary_text(done: dict[str, Any]) -> str:
    lines = [
        f"Imported {done['reports']} reports from {done['rows']} rows in {done['seconds']} s "
        f"({done['rows_per_second'] or '-'} rows/s): {done['posted']} posted, "
        f"{done['already_present']} already present, {len(done['failed'])} refused."
    ]
    for failure in done["failed"]:
        rows = ", ".join(str(row) for row in failure["rows"])
        errors = "; ".join(f"{e.get('field')}: {e.get('message')}" for e in failure["errors"])
        lines.append(
            f"  report {failure['report_ref']} (rows {rows}): {failure['status']} "
            f"{failure['problem']}: {errors or failure['detail']}"
        )
    return "\n".join(lines)


async def _import(api: CencommClient, ctx: Context) -> int:
    args = ctx.args
    if not 1 <= args.concurrency <= 32:
        raise UsageError("--concurrency must be between 1 and 32")
    column_map = load_map(args.map) if args.map is not None else IDENTITY
    sheet = read_sheet(args.file)
    group_id = await api.resolve_group(args.group)
    country = _org_country(await api.me())
    parsed = parse_sheet(
        sheet,
        today=datetime.now(UTC).date(),
        column_map=column_map,
        default_hc=args.hc,
        org_country=country,
    )
    if parsed.errors:
        return _bad_cells(ctx, parsed.errors, args.file)
    if args.dry_run:
        ctx.out.result(
            {"dry_run": True, "reports": len(parsed.reports), "rows": parsed.rows},
            lambda d: (
                f"{d['rows']} rows are valid: {d['reports']} reports would be posted "
                "(dry run: nothing was sent)."
            ),
        )
        return EXIT_OK
    api.use_key(load_key(ctx))
    progress = Progress("Importing", len(parsed.reports))
    summary = ImportSummary()
    try:
        await import_reports(
            api,
            group_id,
            parsed.reports,
            source=args.source or args.file.stem,
            rows=parsed.rows,
            concurrency=args.concurrency,
            on_report=progress.advance,
            summary=summary,
        )
    except ClientError:
        progress.done()
        ctx.out.note(
            f"stopped after {summary.posted} reports posted and {summary.present} already "
            f"present of {len(parsed.reports)}; the same command again posts only the rest"
        )
        raise
    progress.done()
    done = summary.to_json()
    ctx.out.result(done, _summary_text)
    return EXIT_FAILURE if summary.failed else EXIT_OK


HANDLERS: dict[str, Handler] = {"import-seizures": _import}
