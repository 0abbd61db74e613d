"""Seizure spreadsheet rows → seizure reports, every bad cell named by its row and column.

One row per item; the rows sharing a `report_ref` form one report. Report-level cells must
agree across a report's rows (a blank one on a later row means "the same"). Each report body
is validated by `cencomm.domain.seizures.parse_seizure_report`, the very code the server runs,
so the messages are the server's; its field names are turned back into rows and columns.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from cencomm.client.envelopes import HANDLING_CODES
from cencomm.client.seizure_map import IDENTITY, TEMPLATE_FIELDS, ColumnMap
from cencomm.client.seizure_sheet import Cell, Sheet, SheetError
from cencomm.client.seizure_standard_cells import (
    COUNTRY_FIELDS,
    STANDARD_FIELDS,
    parse_documents,
    plain,
    split_list,
    standard_body,
    standard_column,
)
from cencomm.domain.errors import Invalid
from cencomm.domain.seizures import MAX_ITEMS, check_reporting_country, parse_seizure_report

REQUIRED: tuple[str, ...] = (
    "report_ref",
    "occurred_on",
    "country",
    "transport_mode",
    "origin",
    "destination",
    "category",
    "quantity",
    "unit",
    "infringement",
    "detection",
    "concealment",
)
REPORT_LEVEL: tuple[str, ...] = (
    "occurred_on",
    "country",
    "location",
    "transport_mode",
    "origin",
    "transit",
    "destination",
    "infringement",
    "detection",
    "concealment",
    "notes",
    "hc",
    *STANDARD_FIELDS,
)
_COUNTRIES = frozenset({"country", "origin", "destination", *COUNTRY_FIELDS})
_CHOICES = frozenset(
    {
        "transport_mode",
        "category",
        "unit",
        "infringement",
        "detection",
        "concealment",
        "conveyance_mode",
    }
)
_ITEM_FIELD = re.compile(r"items\[(\d+)\]\.(\w+)")
_SPACES = re.compile(r"[\s\u00a0\u202f']")


@dataclass(frozen=True, slots=True)
class CellError:
    """One bad cell: `row` as the spreadsheet shows it (header = 1), `column` its header."""

    row: int
    column: str
    message: str
    value: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "column": self.column,
            "message": self.message,
            "value": self.value,
        }

    def __str__(self) -> str:
        shown = "" if self.value is None else f" (value {self.value!r})"
        return f"row {self.row}, column {self.column}: {self.message}{shown}"


@dataclass(frozen=True, slots=True)
class SheetReport:
    """One valid report: its rows, handling code and the body to sign."""

    report_ref: str
    rows: tuple[int, ...]
    hc: str
    body: dict[str, Any]

    def digest(self) -> str:
        """SHA-256 of the report's canonical JSON: the same rows give the same digest,
        whatever the file format, layout or row order of other reports."""
        canonical = json.dumps(
            {"report_ref": self.report_ref, "hc": self.hc, "body": self.body},
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ParsedSheet:
    """Every report (when `errors` is empty), every bad cell, and the number of data rows."""

    reports: tuple[SheetReport, ...]
    errors: tuple[CellError, ...]
    rows: int


def header_fields(header: Sequence[str], column_map: ColumnMap = IDENTITY) -> dict[str, int]:
    """Our field → its column index.

    Raises:
        SheetError: naming every blank, unknown or repeated column and every missing one.
    """
    problems: list[str] = []
    index: dict[str, int] = {}
    for position, title in enumerate(header):
        name = column_map.field_of(title)
        if not title:
            problems.append(f"column {position + 1} has no header")
        elif name not in TEMPLATE_FIELDS:
            problems.append(f"unknown column {title!r} (rename it to a template field with --map)")
        elif name in index:
            problems.append(f"column {title!r} repeats {name}")
        else:
            index[name] = position
    missing = [name for name in REQUIRED if name not in index]
    if missing:
        problems.append(f"missing required column{'s' * (len(missing) > 1)} {', '.join(missing)}")
    if problems:
        raise SheetError("bad header: " + "; ".join(problems))
    return index


class _Row:
    """One data row's cells converted to the API's values (or kept raw for the validator)."""

    def __init__(self, number: int, values: dict[str, Any]) -> None:
        self.number = number
        self.values = values


def parse_sheet(
    sheet: Sheet,
    *,
    today: date,
    column_map: ColumnMap = IDENTITY,
    default_hc: str = "TLP:AMBER",
    org_country: str | None = None,
) -> ParsedSheet:
    """Validate every row and group them into reports.

    Args:
        sheet: from `seizure_sheet.read_sheet`.
        today: the latest acceptable `occurred_on` (UTC).
        column_map: the national layout (`--map`).
        default_hc: the handling code of reports whose `hc` cells are blank.
        org_country: the sender organisation's country, checked like the server does (None:
            not checked here, the server still does).

    Raises:
        SheetError: the header is unusable (see `header_fields`).
    """
    fields = header_fields(sheet.header, column_map)
    title = {name: sheet.header[i] for name, i in fields.items()}
    errors: list[CellError] = []
    groups: dict[str, list[_Row]] = {}
    for number, cells in sheet.rows:
        values: dict[str, Any] = {}
        for name, i in fields.items():
            value, problem = _convert(name, cells[i], column_map, default_hc)
            if problem is not None:
                errors.append(CellError(number, title[name], problem, _shown(cells[i])))
            values[name] = value
        if values.get("hc") is None:
            values["hc"] = default_hc
        ref = values.get("report_ref")
        if ref is None:
            errors.append(CellError(number, title["report_ref"], "is required"))
            continue
        groups.setdefault(str(ref), []).append(_Row(number, values))
    flagged = {(e.row, e.column) for e in errors}
    reports: list[SheetReport] = []
    for ref, rows in groups.items():
        report_errors = _agree(ref, rows, title)
        report = _report(ref, rows, title, today, org_country, report_errors)
        errors.extend(e for e in report_errors if (e.row, e.column) not in flagged)
        if report is not None and not report_errors:
            reports.append(report)
    order = {name: i for i, name in enumerate(TEMPLATE_FIELDS)}
    columns = {title[name]: order[name] for name in title}
    errors.sort(key=lambda e: (e.row, columns.get(e.column, 99)))
    return ParsedSheet(tuple(reports) if not errors else (), tuple(errors), len(sheet.rows))


def _shown(value: Cell) -> str | None:
    if value is None:
        return None
    text = value.isoformat() if isinstance(value, date) else str(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _text(value: Cell) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _convert(
    name: str, cell: Cell, column_map: ColumnMap, default_hc: str
) -> tuple[Any, str | None]:
    """A cell as the API value of field `name`, and a problem found before validation."""
    if cell is None:
        return None, None
    if name == "occurred_on":
        return _date(cell, column_map)
    if name == "quantity":
        return _number(cell, column_map.decimal_comma), None
    text = column_map.value(name, _text(cell)).strip()
    if name in _COUNTRIES:
        return text.upper(), None
    if name == "transit":
        return [code.strip().upper() for code in text.split(";") if code.strip()], None
    if name == "containers":
        return split_list(text) or None, None
    if name == "documents":
        documents, problem = parse_documents(text)
        return documents or None, problem
    if name in _CHOICES:
        return text.lower(), None
    if name == "hc":
        code = text.upper() or default_hc
        if code not in HANDLING_CODES:
            return code, f"must be one of {' | '.join(HANDLING_CODES)}"
        return code, None
    return text, None


def _date(cell: Cell, column_map: ColumnMap) -> tuple[Any, str | None]:
    if isinstance(cell, datetime):
        return cell.date().isoformat(), None
    if isinstance(cell, date):
        return cell.isoformat(), None
    text = column_map.value("occurred_on", _text(cell)).strip()
    if column_map.date_format is None:
        return text, None
    try:
        return datetime.strptime(text, column_map.date_format).date().isoformat(), None
    except ValueError:
        return text, f"must be a date written {column_map.date_format}"


def _number(cell: Cell, decimal_comma: bool) -> Any:
    """A number from a numeric cell or text (`12000`, `12 000`, `1.5`, or `1,5` with
    `decimal_comma`); other text is passed on for the validator to refuse."""
    if isinstance(cell, bool):
        return str(cell)
    if isinstance(cell, int):
        return cell
    if isinstance(cell, float):
        return int(cell) if math.isfinite(cell) and cell.is_integer() else cell
    text = _SPACES.sub("", _text(cell))
    if decimal_comma:
        text = text.replace(".", "").replace(",", ".")
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return _text(cell)
    if not math.isfinite(number):
        return _text(cell)
    return int(number) if number.is_integer() else number


def _agree(ref: str, rows: list[_Row], title: Mapping[str, str]) -> list[CellError]:
    """Report-level cells must agree across the report's rows (blank = the same)."""
    first = rows[0]
    errors: list[CellError] = []
    for row in rows[1:]:
        for name in REPORT_LEVEL:
            if name not in title or row.values.get(name) is None:
                continue
            theirs, ours = row.values[name], first.values.get(name)
            if theirs != ours:
                errors.append(
                    CellError(
                        row.number,
                        title[name],
                        f"differs from row {first.number} of report {ref} ({_plain(ours)}): "
                        "the cells of one report must agree",
                        _plain(theirs),
                    )
                )
        row.values.update({n: first.values.get(n) for n in REPORT_LEVEL})
    return errors


def _plain(value: Any) -> str:
    if value is None:
        return "blank"
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return plain(value)
    return ";".join(value) if isinstance(value, list) else str(value)


def _body(rows: list[_Row]) -> dict[str, Any]:
    first = rows[0].values
    route = {"origin": first.get("origin"), "destination": first.get("destination")}
    if first.get("transit"):
        route["transit"] = first["transit"]
    body: dict[str, Any] = {
        "occurred_on": first.get("occurred_on"),
        "country": first.get("country"),
        "location": first.get("location"),
        "transport_mode": first.get("transport_mode"),
        "route": route,
        "items": [
            {
                name: row.values.get(name)
                for name in ("category", "description", "quantity", "unit", "hs_code")
                if row.values.get(name) is not None or name in ("category", "quantity", "unit")
            }
            for row in rows
        ],
        "infringement": first.get("infringement"),
        "detection": first.get("detection"),
        "concealment": first.get("concealment"),
        "notes": first.get("notes"),
    }
    return {name: value for name, value in body.items() if value is not None} | standard_body(first)


def _report(
    ref: str,
    rows: list[_Row],
    title: Mapping[str, str],
    today: date,
    org_country: str | None,
    errors: list[CellError],
) -> SheetReport | None:
    if len(rows) > MAX_ITEMS:
        errors.append(
            CellError(
                rows[MAX_ITEMS].number,
                title["report_ref"],
                f"a report holds at most {MAX_ITEMS} items: report {ref} has {len(rows)} rows",
                ref,
            )
        )
        return None
    body = _body(rows)
    try:
        parsed = parse_seizure_report(body, today=today)
        if org_country is not None:
            check_reporting_country(parsed, org_country)
    except Invalid as exc:
        for problem in exc.errors:
            row, name = _locate(problem.field, rows, body)
            column = title.get(name, name)
            value = rows[0].values.get(name) if row == rows[0].number else None
            for candidate in rows:
                if candidate.number == row:
                    value = candidate.values.get(name)
            errors.append(
                CellError(row, column, problem.message, None if value is None else _plain(value))
            )
        return None
    return SheetReport(ref, tuple(r.number for r in rows), str(rows[0].values["hc"]), body)


def _locate(field: str, rows: list[_Row], body: Mapping[str, Any]) -> tuple[int, str]:
    """The (row, field) of a validator's `body.x.y` error."""
    path = field.removeprefix("body").lstrip(".")
    if (column := standard_column(path, body)) is not None:
        return rows[0].number, column
    if (match := _ITEM_FIELD.fullmatch(path)) is not None:
        return rows[int(match.group(1))].number, match.group(2)
    if path.startswith("route."):
        name = path.removeprefix("route.").split("[", 1)[0]
        return rows[0].number, name
    return rows[0].number, path.split(".", 1)[0].split("[", 1)[0] or "report_ref"
