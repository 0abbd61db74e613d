"""`cencomm client analytics`, `seizures-csv` and `report`: an operation's seizure figures
for people, its CSV export and its printable report, written to files."""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cencomm.client.api import CencommClient
from cencomm.client.cli_support import (
    EXIT_OK,
    Context,
    Handler,
    UsageError,
    add_action,
    cell,
    save_whole,
    table,
)

TOP = 10  # rows of each ranked list shown to people (--json has them all)


def _add_dates(parser: Any) -> None:
    parser.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD", help="first day")
    parser.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", help="last day")


def add_parsers(actions: Any) -> None:
    analytics = add_action(
        actions,
        "analytics",
        help="an operation's seizure figures: totals, products, routes, countries, weeks",
        description="One group: GET /groups/{id}/analytics (its readers). Several groups "
        "(--group repeated): GET /analytics over all of them (admins, moderators, analysts). "
        "Dates are inclusive, on the day each seizure occurred.",
        example=[
            "cencomm client analytics STOP-2020 --from 2020-03-01 --to 2020-06-30",
            "cencomm client analytics --group STOP-2020 --group SHIELD-2021",
        ],
    )
    analytics.add_argument("group", nargs="?", help="the group's code (STOP-2020) or id")
    analytics.add_argument(
        "--group",
        dest="groups",
        action="append",
        default=[],
        metavar="GROUP",
        help="a group's code or id (repeat for several groups)",
    )
    _add_dates(analytics)

    export = add_action(
        actions,
        "seizures-csv",
        help="save a group's seizures as CSV, one row per item (never TLP:RED)",
        example="cencomm client seizures-csv STOP-2020 --out stop-2020.csv --from 2020-05-01",
    )
    export.add_argument("group", help="the group's code (STOP-2020) or id")
    export.add_argument("--out", required=True, type=Path, metavar="FILE", help="'-': stdout")
    _add_dates(export)

    report = add_action(
        actions,
        "report",
        help="save a group's printable HTML operation report (never TLP:RED)",
        example="cencomm client report STOP-2020 --out stop-2020.html",
    )
    report.add_argument("group", help="the group's code (STOP-2020) or id")
    report.add_argument("--out", required=True, type=Path, metavar="FILE", help="'-': stdout")


def write_output(path: Path, data: bytes) -> str:
    """Write `data` to `path` (`-`: stdout) whole or not at all: a temporary file beside it,
    renamed into place. Returns the path written, as text.

    Raises:
        UsageError: the file cannot be written.
    """
    if str(path) == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return "-"
    target = path.expanduser()
    save_whole(target, data, overwrite=True)
    return str(target)


async def _analytics(api: CencommClient, ctx: Context) -> int:
    args = ctx.args
    names = ([args.group] if args.group else []) + list(args.groups)
    if not names:
        raise UsageError("name a group (analytics STOP-2020) or several (--group A --group B)")
    ids = list(dict.fromkeys([await api.resolve_group(name) for name in names]))
    if len(ids) == 1:
        figures = await api.group_analytics(ids[0], date_from=args.date_from, date_to=args.date_to)
    else:
        figures = await api.analytics(ids, date_from=args.date_from, date_to=args.date_to)
    ctx.out.result(figures, analytics_text)
    return EXIT_OK


def _section(title: str, rows: Sequence[Mapping[str, Any]], columns: Any) -> list[str]:
    shown = list(rows)[:TOP]
    heading = title + (f" (top {TOP} of {len(rows)})" if len(rows) > TOP else "")
    return ["", heading, table(shown, columns).rstrip("\n")]


def _count(number: Any, one: str, many: str | None = None) -> str:
    return f"{number} {one if number == 1 else many or one + 's'}"


def analytics_text(figures: Mapping[str, Any]) -> str:
    """The figures for people: headline totals, then each ranked list as a short table."""
    totals = figures.get("totals") or {}
    lines = [
        f"{_count(figures.get('interceptions'), 'interception')} reported by "
        f"{_count(figures.get('reporting_countries'), 'country', 'countries')}, "
        f"{cell(figures.get('first_report_at')) or '-'} to "
        f"{cell(figures.get('last_report_at')) or '-'}",
        f"medicines: {totals.get('medicines_units')} units; medical supplies: "
        f"{totals.get('medical_supplies_units')} units; sanitizer: "
        f"{totals.get('sanitizer_litres')} litres",
    ]
    lines += _section(
        "Products",
        figures.get("top_products") or figures.get("by_category") or [],
        (("category", "CATEGORY"), ("unit", "UNIT"), ("quantity", "QUANTITY"),
         ("interceptions", "INTERCEPTIONS")),
    )  # fmt: skip
    lines += _section(
        "Routes",
        figures.get("routes") or [],
        (("origin", "ORIGIN"), ("destination", "DESTINATION"), ("interceptions", "INTERCEPTIONS")),
    )
    lines += _section(
        "By country",
        figures.get("by_country") or [],
        (("country", "COUNTRY"), ("interceptions", "INTERCEPTIONS"),
         ("medicines_units", "MEDICINES"), ("medical_supplies_units", "SUPPLIES"),
         ("sanitizer_litres", "SANITIZER L")),
    )  # fmt: skip
    named = (("name", "NAME"), ("interceptions", "INTERCEPTIONS"))
    for key, title in (
        ("transport_modes", "Transport modes"),
        ("detection", "Detection"),
        ("concealment", "Concealment"),
        ("infringement", "Infringement"),
    ):
        lines += _section(title, figures.get(key) or [], named)
    lines += _section(
        "By region", figures.get("by_region") or [],
        (("region", "REGION"), ("interceptions", "INTERCEPTIONS")),
    )  # fmt: skip
    weeks = list(figures.get("by_week") or [])
    lines += [
        "",
        "Weeks",
        table(weeks, (("week_start", "WEEK OF"), ("interceptions", "INTERCEPTIONS"))).rstrip("\n"),
    ]
    return "\n".join(lines)


async def _seizures_csv(api: CencommClient, ctx: Context) -> int:
    args = ctx.args
    group_id = await api.resolve_group(args.group)
    data = await api.seizures_csv(group_id, date_from=args.date_from, date_to=args.date_to)
    rows = max(len(list(csv.reader(io.StringIO(data.decode("utf-8", "replace"))))) - 1, 0)
    written = write_output(args.out, data)
    _report_written(ctx, {"file": written, "bytes": len(data), "rows": rows}, f"{rows} rows")
    return EXIT_OK


async def _report(api: CencommClient, ctx: Context) -> int:
    args = ctx.args
    group_id = await api.resolve_group(args.group)
    data = await api.group_report(group_id)
    written = write_output(args.out, data)
    _report_written(ctx, {"file": written, "bytes": len(data)}, "the report")
    return EXIT_OK


def _report_written(ctx: Context, done: dict[str, Any], what: str) -> None:
    if done["file"] == "-":
        return  # stdout holds the file itself
    ctx.out.result(done, lambda d: f"Wrote {what} ({d['bytes']} bytes) to {d['file']}.")


HANDLERS: dict[str, Handler] = {
    "analytics": _analytics,
    "seizures-csv": _seizures_csv,
    "report": _report,
}
