"""Reading, mapping and validating seizure spreadsheets in-process (no server)."""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from cencomm.client.seizure_map import MapError, load_map, parse_map
from cencomm.client.seizure_rows import parse_sheet
from cencomm.client.seizure_sheet import Limits, SheetError, read_csv_bytes, read_sheet

DOCS = Path(__file__).resolve().parents[2] / "docs"
TODAY = date(2026, 1, 1)
TEMPLATE = (DOCS / "seizure-import-template.csv").read_text(encoding="utf-8").strip()
# The original 18 columns: a file without the standard form's columns stays valid.
HEADER = ",".join(TEMPLATE.split(",")[:18])


def _csv(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join((header, *rows)) + "\n").encode()


ROW = "R1,2020-04-14,FR,CDG,air,CN,AE;NL,FR,masks,FFP2,12000,units,6307.90,counterfeit,xray,none,,"


def test_the_example_file_is_valid_and_groups_items_by_report_ref() -> None:
    parsed = parse_sheet(read_sheet(DOCS / "seizure-import-example.csv"), today=TODAY)
    assert parsed.errors == ()
    assert parsed.rows == 6
    reports = {r.report_ref: r for r in parsed.reports}
    assert len(reports) == 4
    first = reports["FR-2020-0412"]
    assert first.rows == (2, 3)
    assert [item["category"] for item in first.body["items"]] == ["masks", "medicines"]
    assert first.body["route"] == {"origin": "CN", "transit": ["AE"], "destination": "FR"}
    assert reports["FR-2020-0414"].body["route"]["transit"] == ["NL", "BE"]
    assert reports["FR-2020-0415"].hc == "TLP:CLEAR"
    assert "notes" not in reports["FR-2020-0414"].body
    template = parse_sheet(read_sheet(DOCS / "seizure-import-template.csv"), today=TODAY)
    assert (template.reports, template.errors, template.rows) == ((), (), 0)


def test_semicolons_a_bom_and_blank_rows_are_read() -> None:
    comma = read_csv_bytes(_csv(ROW))
    semicolon_header = HEADER.replace(",", ";")
    semicolon_row = ROW.replace(",", ";").replace("AE;NL", '"AE;NL"')
    data = b"\xef\xbb\xbf" + _csv("", semicolon_row, header=semicolon_header)
    semicolon = read_csv_bytes(data)
    assert semicolon.header == comma.header
    assert semicolon.rows[0][0] == 3  # header 1, a blank row 2
    a = parse_sheet(comma, today=TODAY).reports[0]
    b = parse_sheet(semicolon, today=TODAY).reports[0]
    assert a.body == b.body and a.digest() == b.digest()


def test_every_bad_cell_is_named_with_the_servers_message() -> None:
    rows = (
        ROW,
        ROW.replace(",12000,", ",-3,").replace("R1,", "R2,"),
        ROW.replace(",units,", ",litres,").replace("R1,", "R3,").replace(",CN,", ",XX,"),
        ROW.replace(",2020-04-14,", ",2020-04-15,").replace("masks,FFP2", "gloves,nitrile"),
        ROW.replace("R1,", "R4,").replace(",air,", ",plane,").replace(",,", ",,TLP:BLUE"),
        ROW.replace("R1,", ","),
    )
    parsed = parse_sheet(read_csv_bytes(_csv(*rows)), today=TODAY)
    assert parsed.reports == ()
    found = [(e.row, e.column, e.message) for e in parsed.errors]
    assert found == [
        (3, "quantity", "must be greater than zero"),
        (4, "origin", "must be an ISO 3166-1 alpha-2 country code (upper case)"),
        (4, "unit", "masks is counted in units or kg"),
        (
            5,
            "occurred_on",
            "differs from row 2 of report R1 (2020-04-14): the cells of one report must agree",
        ),
        (6, "transport_mode", "must be one of air | sea | road | rail | postal | express_courier"),
        (
            6,
            "hc",
            "must be one of TLP:CLEAR | TLP:GREEN | TLP:AMBER | TLP:AMBER+STRICT | TLP:RED",
        ),
        (7, "report_ref", "is required"),
    ]
    assert parsed.errors[0].value == "-3"


def test_reporting_country_and_dates_are_checked_like_the_server() -> None:
    rows = (ROW.replace(",2020-04-14,", ",2030-01-01,"), ROW.replace("R1,", "R2,"))
    parsed = parse_sheet(read_csv_bytes(_csv(*rows)), today=TODAY, org_country="DE")
    assert [(e.row, e.column, e.message) for e in parsed.errors] == [
        (2, "occurred_on", "must lie between 2000-01-01 and 2026-01-01"),
        (3, "country", "must be your organisation's country (DE)"),
    ]


def test_more_than_fifty_items_in_a_report_is_refused() -> None:
    parsed = parse_sheet(read_csv_bytes(_csv(*([ROW] * 51))), today=TODAY)
    assert [(e.row, e.column) for e in parsed.errors] == [(52, "report_ref")]


FRENCH_MAP = """
date_format = "%d/%m/%Y"
decimal_comma = true
[columns]
"N° dossier" = "report_ref"
"Date" = "occurred_on"
"Mode" = "transport_mode"
"Quantité" = "quantity"
[values.transport_mode]
"Aérien" = "air"
"""


def test_a_map_renames_columns_translates_values_and_reads_dates(tmp_path: Path) -> None:
    (tmp_path / "fr.toml").write_text(FRENCH_MAP, encoding="utf-8")
    column_map = load_map(tmp_path / "fr.toml")
    header = HEADER.replace("report_ref", "N° dossier").replace("occurred_on", "Date")
    header = header.replace("transport_mode", "Mode").replace("quantity", "Quantité")
    french = ROW.replace("2020-04-14", "14/04/2020").replace(",air,", ",AÉRIEN,")
    french = french.replace(",12000,", ',"12 000,0",')
    parsed = parse_sheet(
        read_csv_bytes(_csv(french, header=header)), today=TODAY, column_map=column_map
    )
    english = parse_sheet(read_csv_bytes(_csv(ROW)), today=TODAY)
    assert parsed.errors == ()
    assert parsed.reports[0].digest() == english.reports[0].digest()
    bad = french.replace("14/04/2020", "2020-04-14").replace(",AÉRIEN,", ",Bateau,")
    errors = parse_sheet(
        read_csv_bytes(_csv(bad, header=header)), today=TODAY, column_map=column_map
    ).errors
    assert [(e.column, e.message) for e in errors] == [
        ("Date", "must be a date written %d/%m/%Y"),
        ("Mode", "must be one of air | sea | road | rail | postal | express_courier"),
    ]
    as_json = parse_map({"columns": {"Date": "occurred_on"}})
    assert as_json.field_of("Date") == "occurred_on"


@pytest.mark.parametrize(
    ("text", "suffix", "message"),
    [
        ("[columns]\nA = 'nope'", ".toml", "'nope' is not a template field"),
        ("colums = {}", ".toml", "unknown key colums"),
        ("[columns\n", ".toml", "is not valid TOML"),
        ('{"columns": [1]}', ".json", "columns must be a table"),
        ("date_format = 'dd/mm/yyyy'", ".toml", "is not a strptime date format"),
        ("[columns]\nA = 'notes'\nB = 'notes'", ".toml", "both map to notes"),
        ("[values.unit]\nkilo = 1", ".toml", "must be text"),
    ],
)
def test_a_bad_map_is_refused(tmp_path: Path, text: str, suffix: str, message: str) -> None:
    path = tmp_path / f"map{suffix}"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MapError, match=message):
        load_map(path)


@pytest.mark.parametrize(
    ("data", "limits", "message"),
    [
        (b"", Limits(), "is empty"),
        (b"\n\n", Limits(), "row 1 must be the header"),
        (_csv(ROW, ROW), Limits(max_rows=1), "more than 1 rows"),
        (_csv(ROW), Limits(max_bytes=100), "over the limit of 100 bytes"),
        (_csv(ROW), Limits(max_columns=5), "18 columns, over the limit of 5"),
        (_csv(ROW.replace("CDG", "x" * 50)), Limits(max_cell_chars=40), "column location: over 40"),
        (_csv(ROW + ",extra"), Limits(), "row 2 has 19 cells"),
        (b"report_ref\xff\n", Limits(), "is not UTF-8"),
    ],
)
def test_limits_and_unreadable_files(
    tmp_path: Path, data: bytes, limits: Limits, message: str
) -> None:
    path = tmp_path / "s.csv"
    path.write_bytes(data)
    with pytest.raises(SheetError, match=message):
        read_sheet(path, limits)


def test_bad_headers_name_every_problem() -> None:
    header = HEADER.replace("hs_code", "HS").replace("unit,", "").replace(",notes", ",notes,notes")
    with pytest.raises(SheetError) as caught:
        parse_sheet(read_csv_bytes(_csv(header=header)), today=TODAY)
    assert str(caught.value) == (
        "bad header: unknown column 'HS' (rename it to a template field with --map); "
        "column 'notes' repeats notes; missing required column unit"
    )


def test_xlsx_cells_keep_their_types_and_match_the_csv(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER.split(","))
    cells: list[object] = list(ROW.split(","))
    cells[1] = datetime(2020, 4, 14)
    cells[10] = 12000.0
    sheet.append([])  # a blank row 2: the data row stays row 3, as the spreadsheet shows it
    sheet.append(cells)
    buffer = io.BytesIO()
    book.save(buffer)
    (tmp_path / "s.xlsx").write_bytes(buffer.getvalue())
    from_xlsx = parse_sheet(read_sheet(tmp_path / "s.xlsx"), today=TODAY)
    from_csv = parse_sheet(read_csv_bytes(_csv(ROW)), today=TODAY)
    assert from_xlsx.errors == ()
    assert from_xlsx.reports[0].rows == (3,)
    assert from_xlsx.reports[0].digest() == from_csv.reports[0].digest()
    with pytest.raises(SheetError, match=r"unpacks to .* over the limit of 1000 bytes"):
        read_sheet(tmp_path / "s.xlsx", Limits(max_unzipped_bytes=1000))
    (tmp_path / "bad.xlsx").write_bytes(b"PK not a zip")
    with pytest.raises(SheetError, match="not a readable XLSX"):
        read_sheet(tmp_path / "bad.xlsx")


def test_the_shipped_example_map_reads_a_french_layout() -> None:
    column_map = load_map(DOCS / "seizure-import-map.example.toml")
    header = (
        "N° dossier;Date;Pays;Lieu;Mode de transport;Provenance;Transit;Destination;Catégorie;"
        "Désignation;Quantité;Unité;Code SH;Infraction;Détection;Dissimulation;Observations;"
        "Diffusion"
    )
    row = (
        "R1;14/04/2020;fr;CDG;Aérien;CN;AE;FR;Masques;FFP2;12 000;unités;6307.90;"
        "Contrefaçon;Ciblage;Fausse déclaration;Déclaré comme textiles;TLP:AMBER"
    )
    parsed = parse_sheet(
        read_csv_bytes(_csv(row, header=header)), today=TODAY, column_map=column_map
    )
    assert parsed.errors == ()
    assert parsed.reports[0].body == {
        "occurred_on": "2020-04-14",
        "country": "FR",
        "location": "CDG",
        "transport_mode": "air",
        "route": {"origin": "CN", "transit": ["AE"], "destination": "FR"},
        "items": [
            {
                "category": "masks",
                "description": "FFP2",
                "quantity": 12000,
                "unit": "units",
                "hs_code": "6307.90",
            }
        ],
        "infringement": "counterfeit",
        "detection": "risk_profiling",
        "concealment": "mis_declaration",
        "notes": "Déclaré comme textiles",
    }


def test_the_standard_form_columns_become_the_body_and_bad_cells_are_named() -> None:
    parsed = parse_sheet(read_sheet(DOCS / "seizure-import-example.csv"), today=TODAY)
    reports = {r.report_ref: r for r in parsed.reports}
    air, sea = reports["FR-2020-0412"].body, reports["FR-2020-0413"].body
    assert air["conveyance"] == {"mode": "flight", "flight_number": "AF 0197"}
    assert air["documents"] == [{"type": "awb", "number": "057-12345675"}]
    assert air["parties"] == [
        {"role": "consignor", "name": "Shenzhen Kangda Medical Co., Ltd", "country": "CN"},
        {
            "role": "consignee",
            "name": "EuroMed Supplies SARL",
            "country": "FR",
            "identifier": "FR12345678901",
        },
    ]
    assert sea["conveyance"] == {
        "mode": "vessel",
        "vessel_name": "MSC Aurora",
        "imo": "IMO 9074729",
        "voyage": "042W",
    }
    assert sea["documents"] == [
        {"type": "bl", "number": "MEDU447122"},
        {"type": "invoice", "number": "INV-2020-118"},
    ]
    assert sea["containers"] == ["MSCU1234566", "CSQU 305438 3"]
    assert sea["parties"][1]["address"] == "Havenweg 1, Rotterdam"
    assert not {"conveyance", "documents", "containers", "parties"} & set(
        reports["FR-2020-0414"].body
    )

    header = TEMPLATE.split(",")

    def row(ref: str, **cells: str) -> str:
        values = dict(zip(header, ROW.replace("R1,", f"{ref},").split(","), strict=False))
        values.update(cells)
        return ",".join(values.get(name, "") for name in header)

    rows = (
        row("S1", conveyance_mode="flight", flight_number="LH400", imo="9074729",
            documents="awb:020-12345670", containers="CSQU3054384"),
        row("S2", conveyance_mode="boat", documents="bill 42", consignee_name="Acme Ltd",
            consignee_country="Narnia"),
        row("S3", conveyance_mode="vessel", vessel_name="Aurora", documents="bl:MEDU1;cmr:X"),
    )  # fmt: skip
    parsed = parse_sheet(read_csv_bytes(_csv(*rows, header=TEMPLATE)), today=TODAY)
    assert parsed.reports == ()
    found = [(e.row, e.column, e.message) for e in parsed.errors]
    assert found == [
        (2, "imo", "unknown field"),
        (
            2,
            "documents",
            "must be an air waybill number: a 3-digit prefix and 8 digits whose last is the "
            "first 7 modulo 7",
        ),
        (
            2,
            "containers",
            "must be an ISO 6346 container number (owner code, U/J/Z, six digits and a valid "
            "check digit)",
        ),
        (3, "conveyance_mode", "must be one of vessel | flight | vehicle | courier"),
        (
            3,
            "documents",
            "each document must be written type:number, separated by ; "
            "(awb:020-12345675; bl:MEDU447122): 'bill 42' is not",
        ),
        (3, "consignee_country", "must be an ISO 3166-1 alpha-2 country code (upper case)"),
        (4, "conveyance_mode", "a vessel suits transport_mode sea"),
        (4, "documents", "must hold 2 to 40 letters or digits"),  # cmr:X
    ]
