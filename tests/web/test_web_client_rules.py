"""The web client's copy of the seizure report rules is the server's: the same 249 country codes,
the same choices for every enumerated field, the same limits and the same units per category."""

from __future__ import annotations

import enum
import json
import re
from pathlib import Path

import pytest

from cencomm.domain import seizures
from cencomm.domain.countries import COUNTRY_CODES
from cencomm.domain.users import Region

APP = Path(seizures.__file__).parents[1] / "web" / "static" / "app"


def _js(name: str) -> str:
    return (APP / name).read_text(encoding="utf-8")


def _array(source: str, name: str) -> list[str]:
    match = re.search(rf"export const {name} = (?:Object\.freeze\()?\[(.*?)\]", source, re.S)
    assert match, f"{name} not found"
    return re.findall(r'"([^"]*)"', match.group(1))


def _constant(source: str, name: str) -> str:
    match = re.search(rf"export const {name} = ([^;]+);", source)
    assert match, f"{name} not found"
    return match.group(1).strip().strip('"')


def test_the_country_list_is_the_servers() -> None:
    codes = _array(_js("countries.js"), "COUNTRY_CODES")
    assert len(codes) == len(set(codes)) == 249
    assert set(codes) == COUNTRY_CODES
    assert codes == sorted(codes)


def test_the_regions_are_the_servers() -> None:
    assert _array(_js("countries.js"), "REGIONS") == sorted(region.value for region in Region)


@pytest.mark.parametrize(
    ("name", "enum"),
    [
        ("TRANSPORT_MODES", seizures.TransportMode),
        ("CATEGORIES", seizures.Category),
        ("UNITS", seizures.Unit),
        ("INFRINGEMENTS", seizures.Infringement),
        ("DETECTIONS", seizures.Detection),
        ("CONCEALMENTS", seizures.Concealment),
    ],
)
def test_every_choice_is_the_servers(name: str, enum: type[enum.StrEnum]) -> None:
    assert _array(_js("seizure_rules.js"), name) == [member.value for member in enum]


def test_the_limits_are_the_servers() -> None:
    source = _js("seizure_rules.js")
    assert _constant(source, "EARLIEST_OCCURRED_ON") == seizures.EARLIEST_OCCURRED_ON.isoformat()
    for name in (
        "MAX_ITEMS",
        "MAX_TRANSIT",
        "MAX_LOCATION_CHARS",
        "MAX_DESCRIPTION_CHARS",
        "MAX_NOTES_CHARS",
        "MAX_QUANTITY",
        "HS_CODE_MIN_DIGITS",
        "HS_CODE_MAX_DIGITS",
    ):
        assert float(_constant(source, name).replace("_", "")) == getattr(seizures, name), name


def test_units_per_category_are_the_servers() -> None:
    # unitsFor(category): litres for sanitizer, units or kg for everything else.
    source = _js("seizure_rules.js")
    assert 'category === "sanitizer" ? ["litres"] : ["units", "kg"]' in source
    for category in seizures.Category:
        expected = {"litres"} if category is seizures.Category.SANITIZER else {"units", "kg"}
        assert {unit.value for unit in seizures.allowed_units(category)} == expected


def test_every_choice_has_words_in_the_catalogue() -> None:
    catalogue = json.loads((APP.parent / "i18n" / "en.json").read_text(encoding="utf-8"))
    prefixes = {
        "seizure.mode": seizures.TransportMode,
        "seizure.category": seizures.Category,
        "seizure.unit": seizures.Unit,
        "seizure.infringement": seizures.Infringement,
        "seizure.detection": seizures.Detection,
        "seizure.concealment": seizures.Concealment,
    }
    missing = [
        f"{prefix}.{member.value}"
        for prefix, enum in prefixes.items()
        for member in enum
        if f"{prefix}.{member.value}" not in catalogue
    ]
    assert missing == []
