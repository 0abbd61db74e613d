"""A `--map` file: how a national spreadsheet's layout becomes the seizure import template.

A map is TOML or JSON with up to four entries, all optional:

    date_format = "%d/%m/%Y"        # how `occurred_on` cells are written (strptime); default ISO
    decimal_comma = true            # quantities written `1,5` (a `.` or space groups thousands)

    [columns]                       # their header → our field (a template column name)
    "N° dossier" = "report_ref"
    "Date" = "occurred_on"

    [values.transport_mode]         # per field: their word → ours (matched case-insensitively)
    "Fret aérien" = "air"
    "Messagerie express" = "express_courier"

Columns not renamed keep their header, which must then be a template field itself.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cencomm.client.errors import ClientError
from cencomm.client.seizure_standard_cells import STANDARD_FIELDS

TEMPLATE_FIELDS: tuple[str, ...] = (
    "report_ref",
    "occurred_on",
    "country",
    "location",
    "transport_mode",
    "origin",
    "transit",
    "destination",
    "category",
    "description",
    "quantity",
    "unit",
    "hs_code",
    "infringement",
    "detection",
    "concealment",
    "notes",
    "hc",
    # The standard form (all optional, one value per report).
    *STANDARD_FIELDS,
)
MAX_MAP_BYTES = 1024 * 1024
MAX_MAP_ENTRIES = 10_000
_KEYS = frozenset({"columns", "values", "date_format", "decimal_comma"})


class MapError(ClientError):
    """The map file cannot be used (unreadable, not TOML/JSON, or naming unknown fields)."""


@dataclass(frozen=True, slots=True)
class ColumnMap:
    """How to read a national layout (see the module docstring).

    Attributes:
        columns: their header → our template field.
        values: our field → {their value (case-folded) → ours}.
        date_format: the `strptime` format of `occurred_on` text cells (None: `YYYY-MM-DD`).
        decimal_comma: quantities use `,` as the decimal mark.
    """

    columns: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    date_format: str | None = None
    decimal_comma: bool = False

    def field_of(self, header: str) -> str:
        """Our field for one of their headers (itself when not renamed)."""
        return self.columns.get(header.strip(), header.strip())

    def value(self, name: str, text: str) -> str:
        """Their value of field `name` translated to ours (unchanged when not in the map)."""
        table = self.values.get(name)
        if not table:
            return text
        return table.get(text.strip().casefold(), text)


IDENTITY = ColumnMap()


def load_map(path: Path) -> ColumnMap:
    """Read a map file: `.json` as JSON, anything else as TOML.

    Raises:
        MapError: naming what is wrong.
    """
    try:
        size = path.stat().st_size
        if size > MAX_MAP_BYTES:
            raise MapError(f"map file {path} is over {MAX_MAP_BYTES // 1024} KiB")
        raw = path.read_bytes()
    except OSError as exc:
        raise MapError(f"cannot read the map file {path}: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
        data: Any = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:
        kind = "JSON" if path.suffix.lower() == ".json" else "TOML"
        raise MapError(f"map file {path} is not valid {kind}: {exc}") from None
    return parse_map(data, str(path))


def parse_map(data: Any, where: str = "map") -> ColumnMap:
    """A `ColumnMap` from decoded TOML/JSON (a national system may build one in code).

    Raises:
        MapError: an unknown key, a target that is not a template field, a value that is
            not text, or a date format that formats no date.
    """
    if not isinstance(data, dict):
        raise MapError(f"{where}: must be a table/object")
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise MapError(
            f"{where}: unknown key {', '.join(unknown)} (known: {', '.join(sorted(_KEYS))})"
        )
    columns = _columns(data.get("columns", {}), where)
    values = _values(data.get("values", {}), where)
    date_format = data.get("date_format")
    if date_format is not None:
        _check_date_format(date_format, where)
    decimal_comma = data.get("decimal_comma", False)
    if not isinstance(decimal_comma, bool):
        raise MapError(f"{where}: decimal_comma must be true or false")
    return ColumnMap(columns, values, date_format, decimal_comma)


def _field(name: Any, where: str) -> str:
    if not isinstance(name, str) or name not in TEMPLATE_FIELDS:
        raise MapError(
            f"{where}: {name!r} is not a template field (one of {', '.join(TEMPLATE_FIELDS)})"
        )
    return name


def _columns(raw: Any, where: str) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise MapError(f"{where}: columns must be a table of their header = our field")
    if len(raw) > MAX_MAP_ENTRIES:
        raise MapError(f"{where}: columns has more than {MAX_MAP_ENTRIES} entries")
    columns: dict[str, str] = {}
    targets: dict[str, str] = {}
    for header, target in raw.items():
        name = _field(target, f"{where}: columns.{header!r}")
        if name in targets:
            raise MapError(f"{where}: columns {targets[name]!r} and {header!r} both map to {name}")
        targets[name] = header
        columns[str(header).strip()] = name
    return columns


def _values(raw: Any, where: str) -> dict[str, dict[str, str]]:
    if not isinstance(raw, dict):
        raise MapError(f"{where}: values must be a table of field → {{their value = ours}}")
    values: dict[str, dict[str, str]] = {}
    count = 0
    for name, table in raw.items():
        target = _field(name, f"{where}: values")
        if not isinstance(table, dict):
            raise MapError(f"{where}: values.{name} must be a table of their value = ours")
        translated: dict[str, str] = {}
        for theirs, ours in table.items():
            if not isinstance(ours, str):
                raise MapError(f"{where}: values.{name}.{theirs!r} must be text")
            translated[str(theirs).strip().casefold()] = ours
            count += 1
        values[target] = translated
    if count > MAX_MAP_ENTRIES:
        raise MapError(f"{where}: values has more than {MAX_MAP_ENTRIES} entries")
    return values


def _check_date_format(value: Any, where: str) -> None:
    sample = datetime(2020, 5, 20)
    try:
        ok = isinstance(value, str) and "%" in value
        ok = ok and datetime.strptime(sample.strftime(value), value).date() == sample.date()
    except ValueError:
        ok = False
    if not ok:
        raise MapError(f"{where}: date_format {value!r} is not a strptime date format (%d/%m/%Y)")
