"""The seizures CSV: one row per item, RFC 4180, with spreadsheet formulas neutralised.

The standard form's columns (conveyance, documents, containers, parties) come after the
original sixteen, so a consumer that reads columns by position keeps working; they are empty
for a report without them.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from cencomm.domain.analytics import number
from cencomm.domain.field_collector import FieldCollector
from cencomm.domain.seizure_standard import (
    CONVEYANCE_TRANSPORT,
    NO_STANDARD_PARTS,
    ConveyanceMode,
    PartyRole,
    StandardParts,
    parse_standard_parts,
)

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
    # The standard form (appended: earlier columns keep their positions).
    "conveyance_mode",
    "vessel_name",
    "imo",
    "voyage",
    "flight_number",
    "registration",
    "registration_country",
    "courier",
    "tracking_number",
    "documents",
    "containers",
    "consignor_name",
    "consignor_country",
    "consignee_name",
    "consignee_country",
    "parties",
)
_CONVEYANCE_COLUMNS = (
    "vessel_name",
    "imo",
    "voyage",
    "flight_number",
    "registration",
    "registration_country",
    "courier",
    "tracking_number",
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
    # The report's standard-form fields (read from its stored JWS; empty when it has none).
    standard: StandardParts = NO_STANDARD_PARTS


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
        *standard_cells(line.standard),
    ]


# A stored body carries the standard form only when its JSON names one of these keys.
STANDARD_KEYS = (b'"conveyance"', b'"documents"', b'"containers"', b'"parties"')
# A report with standard-form fields has at least one identifier in `report_identifier`, except
# a vessel named without its IMO number (and nothing else): only a sea report can be that
# (`CONVEYANCE_TRANSPORT`). So the CSV reads the JWS only of reports with an identifier or of
# these transport modes (tests/domain/test_standard_form_exports.py checks the rule).
MODES_WITHOUT_IDENTIFIERS = CONVEYANCE_TRANSPORT[ConveyanceMode.VESSEL]


def stored_standard_parts(body: Any) -> StandardParts:
    """The standard-form fields of a stored (already validated) report body."""
    if not isinstance(body, dict):
        return NO_STANDARD_PARTS
    return parse_standard_parts(FieldCollector(), body, None, "body")


def _first_party(parts: StandardParts, role: PartyRole) -> tuple[str, str]:
    party = next((p for p in parts.parties if p.role is role), None)
    return (party.name, party.country) if party else ("", "")


_NO_STANDARD_CELLS = ("",) * 16  # most reports: built once, not per row


def standard_cells(parts: StandardParts) -> Sequence[str]:
    """The standard form's cells: the conveyance by field, documents as `type:number` and
    containers and parties joined by `; ` (every party as `role:name (country)`), the first
    consignor and consignee also in columns of their own."""
    if parts is NO_STANDARD_PARTS:
        return _NO_STANDARD_CELLS
    conveyance = parts.conveyance
    conveyance_cells = [
        (getattr(conveyance, name) or "") if conveyance else "" for name in _CONVEYANCE_COLUMNS
    ]
    return [
        conveyance.mode.value if conveyance else "",
        *conveyance_cells,
        "; ".join(f"{d.type.value}:{d.number}" for d in parts.documents),
        "; ".join(parts.containers),
        *_first_party(parts, PartyRole.CONSIGNOR),
        *_first_party(parts, PartyRole.CONSIGNEE),
        "; ".join(f"{p.role.value}:{p.name} ({p.country})" for p in parts.parties),
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
