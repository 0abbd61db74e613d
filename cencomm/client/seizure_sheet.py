"""Reading a seizure spreadsheet (CSV or XLSX) into header + cells, within limits.

The first row is the header; row numbers are those a spreadsheet user sees (header = row 1).
Cells come back as `str`, or for XLSX as the cell's own value (`int`, `float`, `datetime`,
`bool`); an empty cell is None. `seizure_rows.parse_sheet` turns them into reports.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from cencomm.client.errors import ClientError

Cell = str | int | float | bool | date | datetime | None


class SheetError(ClientError):
    """The file as a whole cannot be imported (unreadable, over a limit, bad header...)."""


@dataclass(frozen=True, slots=True)
class Limits:
    """What an import file may hold; each exceeded one is a `SheetError` naming it."""

    max_bytes: int = 50 * 1024 * 1024
    max_rows: int = 100_000
    max_columns: int = 100
    max_cell_chars: int = 10_000
    max_unzipped_bytes: int = 256 * 1024 * 1024  # an XLSX's parts, unpacked (zip bombs)


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True, slots=True)
class Sheet:
    """A file's header and its data rows as `(row number, cells)`, blank rows left out."""

    header: tuple[str, ...]
    rows: tuple[tuple[int, tuple[Cell, ...]], ...]


def read_sheet(path: Path, limits: Limits = DEFAULT_LIMITS) -> Sheet:
    """Read `path`: `.xlsx` with openpyxl (its first worksheet), anything else as CSV.

    Raises:
        SheetError: unreadable, empty, or over one of `limits`.
    """
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise SheetError(f"cannot read {path}: {exc.strerror}") from None
    if size > limits.max_bytes:
        raise SheetError(
            f"{path} is {size} bytes, over the limit of {limits.max_bytes} bytes "
            "(split it into several files)"
        )
    if size == 0:
        raise SheetError(f"{path} is empty: the first row must be the header")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SheetError(f"cannot read {path}: {exc.strerror}") from None
    if path.suffix.lower() == ".xlsx":
        return sheet_from_rows(_xlsx_rows(data, path, limits), limits, str(path))
    return read_csv_bytes(data, limits, str(path))


def read_csv_bytes(data: bytes, limits: Limits = DEFAULT_LIMITS, name: str = "CSV") -> Sheet:
    """CSV in UTF-8 (a BOM is allowed), `,` or `;` delimited (sniffed from the header)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SheetError(
            f"{name} is not UTF-8 (byte {exc.start}): save it as 'CSV UTF-8'"
        ) from None
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows = ((tuple(cells) if cells else ()) for cells in reader)
    try:
        return sheet_from_rows(rows, limits, name)
    except csv.Error as exc:
        raise SheetError(f"{name} is not valid CSV (record {reader.line_num}): {exc}") from None


def _xlsx_rows(data: bytes, path: Path, limits: Limits) -> Iterator[tuple[Any, ...]]:
    import openpyxl  # imported here: only XLSX imports pay for it

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unzipped = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise SheetError(f"{path} is not a readable XLSX workbook: {exc}") from None
    if unzipped > limits.max_unzipped_bytes:
        raise SheetError(
            f"{path} unpacks to {unzipped} bytes, over the limit of "
            f"{limits.max_unzipped_bytes} bytes (split it into several files)"
        )
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise SheetError(f"{path} is not a readable XLSX workbook: {exc}") from None
    try:
        if not book.worksheets:
            raise SheetError(f"{path} has no worksheet")
        sheet = book.worksheets[0]
        # The stored dimension may be wrong (some writers never update it): read what is there.
        sheet.reset_dimensions()
        yield from sheet.iter_rows(values_only=True)
    finally:
        book.close()


def sheet_from_rows(rows: Iterator[tuple[Any, ...]] | Any, limits: Limits, name: str) -> Sheet:
    """Header and data rows out of raw rows, checking every limit on the way."""
    header: tuple[str, ...] | None = None
    body: list[tuple[int, tuple[Cell, ...]]] = []
    for number, raw in enumerate(rows, start=1):
        cells = tuple(_cell(value) for value in raw)
        # XLSX rows are padded to the sheet's width; trailing empties are not columns.
        while cells and cells[-1] is None:
            cells = cells[:-1]
        if header is None:
            if not cells:
                raise SheetError(f"{name}: row 1 must be the header (it is blank)")
            if len(cells) > limits.max_columns:
                raise SheetError(
                    f"{name}: {len(cells)} columns, over the limit of {limits.max_columns}"
                )
            header = tuple("" if c is None else str(c).strip() for c in cells)
            continue
        if not cells:
            continue
        if len(cells) > len(header):
            raise SheetError(
                f"{name}: row {number} has {len(cells)} cells but the header only {len(header)}"
            )
        for index, value in enumerate(cells):
            if isinstance(value, str) and len(value) > limits.max_cell_chars:
                raise SheetError(
                    f"{name}: row {number}, column {header[index]}: over "
                    f"{limits.max_cell_chars} characters"
                )
        if len(body) >= limits.max_rows:
            raise SheetError(
                f"{name}: more than {limits.max_rows} rows (split it into several files)"
            )
        body.append((number, cells + (None,) * (len(header) - len(cells))))
    if header is None:
        raise SheetError(f"{name} is empty: the first row must be the header")
    return Sheet(header, tuple(body))


def _cell(value: Any) -> Cell:
    if value is None:
        return None
    if isinstance(value, str):
        stripped = value.strip()
        return stripped or None
    if isinstance(value, bool | int | float | date | datetime):
        return value
    return str(value)  # e.g. a time or a timedelta: shown as text, then refused by validation
