"""The seizures CSV: one row per item, RFC 4180, with spreadsheet formulas neutralised."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from cencomm.domain.analytics import number

HEADER = (
    "message_id",
    "seq",
    "occurred_on",
    "country",
    "organization",
    "origin",
    "transit",
    "destination",
    "transport_mode",
    "detection",
    "concealment",
    "infringement",
    "category",
    "quantity",
    "unit",
    "hs_code",
)
# A spreadsheet reads a cell starting with one of these as a formula (OWASP "CSV injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class ItemLine:
    """One seizure item with its report, as a CSV row carries it."""

    message_id: uuid.UUID
    seq: int
    position: int
    occurred_on: date
    country: str
    organization: str
    origin: str
    transit: list[str]
    destination: str
    transport_mode: str
    detection: str
    concealment: str
    infringement: str
    category: str
    quantity: float
    unit: str
    hs_code: str | None


def neutralise(cell: str) -> str:
    """A leading `'` on a cell a spreadsheet would take for a formula."""
    return f"'{cell}" if cell.startswith(_FORMULA_STARTS) else cell


def cells(line: ItemLine) -> list[str]:
    return [
        str(line.message_id),
        str(line.seq),
        line.occurred_on.isoformat(),
        line.country,
        line.organization,
        line.origin,
        ";".join(line.transit),
        line.destination,
        line.transport_mode,
        line.detection,
        line.concealment,
        line.infringement,
        line.category,
        str(number(line.quantity)),
        line.unit,
        line.hs_code or "",
    ]


def encode_rows(rows: Iterable[Iterable[str]]) -> bytes:
    """RFC 4180: CRLF line ends; fields with a comma, quote, CR or LF quoted, quotes doubled.

    Every cell is neutralised, numbers included: they are ours and never start with a sign
    (quantities are positive), so only text a person typed can ever be changed.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
    return out.getvalue().encode("utf-8")


def header() -> bytes:
    return encode_rows([HEADER])


def encode_lines(lines: Iterable[ItemLine]) -> bytes:
    return encode_rows(cells(line) for line in lines)
