"""The web client's copy of the standard form's rules is the server's: the same conveyance modes,
document types, party roles and report forms, the same transport modes per conveyance, the same
limits, and words for every choice in the catalogue."""

from __future__ import annotations

import enum
import json
import re

import pytest

from cencomm.domain import seizure_standard as standard
from tests.web.test_web_client_rules import APP, _array, _constant, _js

SOURCE = "seizure_standard_rules.js"


@pytest.mark.parametrize(
    ("name", "enum"),
    [
        ("CONVEYANCE_MODES", standard.ConveyanceMode),
        ("DOCUMENT_TYPES", standard.DocumentType),
        ("PARTY_ROLES", standard.PartyRole),
        ("REPORT_FORMS", standard.ReportForm),
    ],
)
def test_every_choice_is_the_servers(name: str, enum: type[enum.StrEnum]) -> None:
    assert _array(_js(SOURCE), name) == [member.value for member in enum]


def test_the_limits_are_the_servers() -> None:
    source = _js(SOURCE)
    for name in (
        "MAX_DOCUMENTS",
        "MAX_CONTAINERS",
        "MAX_PARTIES",
        "MAX_NAME_CHARS",
        "MAX_ADDRESS_CHARS",
        "MAX_VOYAGE_CHARS",
        "MAX_NUMBER_CHARS",
        "MIN_COMPACT",
        "MAX_COMPACT",
    ):
        assert int(_constant(source, name)) == getattr(standard, name), name


def _object(source: str, name: str) -> str:
    match = re.search(rf"export const {name} = \{{(.*?)\n\}};", source, re.S)
    assert match, f"{name} not found"
    return match.group(1)


def test_conveyance_fields_and_transport_modes_are_the_servers() -> None:
    source = _js(SOURCE)
    fields = _object(source, "CONVEYANCE_FIELDS")
    transport = _object(source, "CONVEYANCE_TRANSPORT")
    for mode in standard.ConveyanceMode:
        line = re.search(rf"^\s*{mode.value}: \[(.*)\],$", fields, re.M)
        assert line, mode
        pairs = re.findall(r'\["(\w+)", (true|false)\]', line.group(1))
        assert [(n, r == "true") for n, r in pairs] == list(standard._CONVEYANCE_FIELDS[mode])
        suits = re.search(rf"^\s*{mode.value}: \[(.*)\],$", transport, re.M)
        assert suits, mode
        assert set(re.findall(r'"(\w+)"', suits.group(1))) == standard.CONVEYANCE_TRANSPORT[mode]


def test_every_choice_and_field_has_words_in_the_catalogue() -> None:
    catalogue = json.loads((APP.parent / "i18n" / "en.json").read_text(encoding="utf-8"))
    wanted = [
        *(f"standard.mode.{m.value}" for m in standard.ConveyanceMode),
        *(f"standard.document.{d.value}" for d in standard.DocumentType),
        *(f"standard.role.{r.value}" for r in standard.PartyRole),
        *(f"reportForm.{f.value}" for f in standard.ReportForm),
        *(
            f"standard.field.{name}"
            for fields in standard._CONVEYANCE_FIELDS.values()
            for name, _ in fields
        ),
        *(f"standard.field.{name}" for name in ("type", "number", "role", "name", "country")),
        *(f"standard.field.{name}" for name in ("address", "identifier", "mode")),
    ]
    assert [key for key in wanted if key not in catalogue] == []
