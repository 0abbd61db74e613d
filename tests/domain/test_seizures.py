"""Seizure report bodies: every field rule, all errors collected, the reporting country."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest

from cencomm.domain.countries import COUNTRY_CODES, WCO_REGIONS, is_country_code
from cencomm.domain.errors import Invalid
from cencomm.domain.seizures import (
    Category,
    Concealment,
    Detection,
    Family,
    Infringement,
    Route,
    SeizureItem,
    SeizureReport,
    TransportMode,
    Unit,
    check_reporting_country,
    family_of,
    parse_seizure_report,
)

TODAY = date(2024, 6, 15)


def make_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "occurred_on": "2024-06-10",
        "country": "BE",
        "location": "Port of Antwerp",
        "transport_mode": "sea",
        "route": {"origin": "CN", "transit": ["AE"], "destination": "BE"},
        "items": [
            {"category": "masks", "quantity": 40000, "unit": "units", "hs_code": "6307.90"},
            {"category": "sanitizer", "quantity": 120.5, "unit": "litres"},
            {"category": "medicines", "description": "chloroquine", "quantity": 3, "unit": "kg"},
        ],
        "infringement": "counterfeit",
        "detection": "risk_profiling",
        "concealment": "mis_declaration",
        "notes": "Container MSKU1234567",
    }
    body.update(changes)
    return body


def errors_of(body: Any) -> dict[str, str]:
    with pytest.raises(Invalid) as info:
        parse_seizure_report(body, today=TODAY)
    assert info.value.slug == "invalid-body"
    assert info.value.errors
    return {error.field: error.message for error in info.value.errors}


def item_errors(**item: Any) -> dict[str, str]:
    return errors_of(make_body(items=[item]))


def test_valid_report_parses() -> None:
    report = parse_seizure_report(make_body(), today=TODAY)
    assert report.occurred_on == date(2024, 6, 10)
    assert report.country == "BE"
    assert report.transport_mode is TransportMode.SEA
    assert report.route == Route(origin="CN", transit=("AE",), destination="BE")
    assert report.items[0] == SeizureItem(
        category=Category.MASKS,
        description=None,
        quantity=40000,
        unit=Unit.UNITS,
        hs_code="6307.90",
    )
    assert report.items[1].quantity == 120.5
    assert report.infringement is Infringement.COUNTERFEIT
    assert report.detection is Detection.RISK_PROFILING
    assert report.concealment is Concealment.MIS_DECLARATION
    assert report.notes == "Container MSKU1234567"


def test_minimal_report_parses() -> None:
    body = make_body(route={"origin": "CN", "destination": "BE"})
    for key in ("location", "notes"):
        del body[key]
    report = parse_seizure_report(body, today=TODAY)
    assert report.location is None
    assert report.notes is None
    assert report.route.transit == ()


def test_to_json_is_normalised_and_round_trips() -> None:
    body = make_body(location="  Antwerp  ")
    report = parse_seizure_report(body, today=TODAY)
    normal = report.to_json()
    assert normal["location"] == "Antwerp"
    assert normal["items"][1] == {
        "category": "sanitizer",
        "description": None,
        "quantity": 120.5,
        "unit": "litres",
        "hs_code": None,
    }
    assert parse_seizure_report(normal, today=TODAY) == report
    assert isinstance(report, SeizureReport)


def test_family_mapping() -> None:
    assert family_of("medicines") is Family.MEDICINES
    assert family_of("sanitizer") is Family.SANITIZER
    for category in ("masks", "gloves", "test_kits", "thermometers", "gowns", "goggles"):
        assert family_of(category) == "medical_supplies"
    assert family_of(Category.OTHER_SUPPLIES) == "medical_supplies"
    with pytest.raises(ValueError):
        family_of("weapons")


def test_item_family_property() -> None:
    report = parse_seizure_report(make_body(), today=TODAY)
    assert [item.family for item in report.items] == ["medical_supplies", "sanitizer", "medicines"]


# --- collecting errors --------------------------------------------------------------------------


def test_all_field_errors_are_collected() -> None:
    errors = errors_of(
        make_body(
            occurred_on="2024-13-01",
            country="XX",
            transport_mode="boat",
            items=[{"category": "masks", "quantity": 0, "unit": "litres"}],
            detection="luck",
        )
    )
    assert set(errors) == {
        "body.occurred_on",
        "body.country",
        "body.transport_mode",
        "body.items[0].quantity",
        "body.items[0].unit",
        "body.detection",
    }


def test_body_that_is_not_an_object_is_refused() -> None:
    assert errors_of(["items"]) == {"body": "must be an object"}


def test_unknown_fields_are_refused() -> None:
    body = make_body(weight=3)
    body["route"]["via"] = "FR"
    body["items"][0]["colour"] = "blue"
    assert set(errors_of(body)) == {"body.weight", "body.route.via", "body.items[0].colour"}


@pytest.mark.parametrize(
    "field",
    [
        "occurred_on",
        "country",
        "transport_mode",
        "route",
        "items",
        "infringement",
        "detection",
        "concealment",
    ],
)
def test_required_fields(field: str) -> None:
    body = make_body()
    del body[field]
    assert f"body.{field}" in errors_of(body)


# --- dates ------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["2000-01-01", "2024-06-15"])
def test_occurred_on_bounds_are_inclusive(value: str) -> None:
    assert parse_seizure_report(
        make_body(occurred_on=value), today=TODAY
    ).occurred_on.isoformat() == (value)


@pytest.mark.parametrize(
    "value",
    ["1999-12-31", "2024-06-16", "2024-02-30", "24-06-10", "2024-6-1", "20240610", "", 20240610],
)
def test_bad_occurred_on_is_refused(value: Any) -> None:
    assert "body.occurred_on" in errors_of(make_body(occurred_on=value))


# --- countries and route --------------------------------------------------------------------


def test_country_list_is_complete() -> None:
    assert len(COUNTRY_CODES) == 249
    for code in ("BE", "CN", "US", "SS", "BQ", "CW", "SX", "AX", "AQ", "EH", "PS", "TW"):
        assert is_country_code(code)
    for code in ("XK", "EU", "UK", "AN", "YU", "CS", "be", "ZZ"):
        assert not is_country_code(code)
    assert len(WCO_REGIONS) == 6


@pytest.mark.parametrize("value", ["be", "BEL", "XK", "UK", "", 56, None])
def test_bad_country_is_refused(value: Any) -> None:
    assert "body.country" in errors_of(make_body(country=value))


def test_bad_route_codes_are_refused() -> None:
    errors = errors_of(make_body(route={"origin": "cn", "transit": ["AE", "XX"], "destination": 1}))
    assert set(errors) == {"body.route.origin", "body.route.transit[1]", "body.route.destination"}


def test_transit_of_ten_is_accepted_and_eleven_refused() -> None:
    ten = make_body(route={"origin": "CN", "transit": ["AE"] * 10, "destination": "BE"})
    assert len(parse_seizure_report(ten, today=TODAY).route.transit) == 10
    eleven = make_body(route={"origin": "CN", "transit": ["AE"] * 11, "destination": "BE"})
    assert "body.route.transit" in errors_of(eleven)


def test_route_that_is_not_an_object_is_refused() -> None:
    assert "body.route" in errors_of(make_body(route="CN-BE"))


# --- items ------------------------------------------------------------------------------------


def test_no_items_is_refused() -> None:
    assert "body.items" in errors_of(make_body(items=[]))


def test_fifty_items_accepted_fifty_one_refused() -> None:
    item = {"category": "gloves", "quantity": 1, "unit": "units"}
    report = parse_seizure_report(make_body(items=[item] * 50), today=TODAY)
    assert len(report.items) == 50
    assert "body.items" in errors_of(make_body(items=[item] * 51))


def test_item_that_is_not_an_object_is_refused() -> None:
    assert "body.items[0]" in errors_of(make_body(items=["masks"]))


def test_unknown_category_is_refused() -> None:
    assert "body.items[0].category" in item_errors(category="weapons", quantity=1, unit="units")


@pytest.mark.parametrize("quantity", [0, -1, -0.5, True, False, "5", None, 1e13, 10**13])
def test_bad_quantity_is_refused(quantity: Any) -> None:
    assert "body.items[0].quantity" in item_errors(
        category="masks", quantity=quantity, unit="units"
    )


@pytest.mark.parametrize("quantity", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_quantity_is_refused(quantity: float) -> None:
    assert "body.items[0].quantity" in item_errors(
        category="masks", quantity=quantity, unit="units"
    )


@pytest.mark.parametrize("quantity", [1, 0.001, 1e12, 10**12])
def test_good_quantity_is_accepted(quantity: int | float) -> None:
    body = make_body(items=[{"category": "masks", "quantity": quantity, "unit": "kg"}])
    assert parse_seizure_report(body, today=TODAY).items[0].quantity == quantity


@pytest.mark.parametrize("unit", ["units", "kg"])
def test_sanitizer_only_in_litres(unit: str) -> None:
    errors = item_errors(category="sanitizer", quantity=1, unit=unit)
    assert errors == {"body.items[0].unit": "sanitizer is counted in litres"}


@pytest.mark.parametrize("category", [c.value for c in Category if c is not Category.SANITIZER])
def test_other_categories_never_in_litres(category: str) -> None:
    assert "body.items[0].unit" in item_errors(category=category, quantity=1, unit="litres")
    for unit in ("units", "kg"):
        body = make_body(items=[{"category": category, "quantity": 1, "unit": unit}])
        assert parse_seizure_report(body, today=TODAY).items[0].unit == unit


def test_unknown_unit_is_refused() -> None:
    assert "body.items[0].unit" in item_errors(category="masks", quantity=1, unit="boxes")


@pytest.mark.parametrize(
    "hs_code", ["300490", "3004.90", "3004.90.00", "3004.90.0000", "3004900000"]
)
def test_good_hs_codes(hs_code: str) -> None:
    body = make_body(
        items=[{"category": "medicines", "quantity": 1, "unit": "kg", "hs_code": hs_code}]
    )
    assert parse_seizure_report(body, today=TODAY).items[0].hs_code == hs_code


@pytest.mark.parametrize(
    "hs_code",
    ["30049", "3004.9", "30049000001", ".300490", "300490.", "3004..90", "3004-90", 300490, ""],
)
def test_bad_hs_codes(hs_code: Any) -> None:
    errors = item_errors(category="medicines", quantity=1, unit="kg", hs_code=hs_code)
    assert "body.items[0].hs_code" in errors


def test_long_description_is_refused() -> None:
    errors = item_errors(category="masks", quantity=1, unit="units", description="d" * 501)
    assert "body.items[0].description" in errors


def test_errors_name_the_item_index() -> None:
    good = {"category": "masks", "quantity": 1, "unit": "units"}
    bad = {"category": "masks", "quantity": 1, "unit": "litres"}
    assert set(errors_of(make_body(items=[good, good, bad]))) == {"body.items[2].unit"}


# --- enums and free text --------------------------------------------------------------------


@pytest.mark.parametrize("field", ["transport_mode", "infringement", "detection", "concealment"])
def test_bad_enum_values_are_refused(field: str) -> None:
    assert f"body.{field}" in errors_of(make_body(**{field: "SEA"}))


def test_every_enum_value_is_accepted() -> None:
    for mode in TransportMode:
        parse_seizure_report(make_body(transport_mode=mode.value), today=TODAY)
    for infringement in Infringement:
        parse_seizure_report(make_body(infringement=infringement.value), today=TODAY)
    for detection in Detection:
        parse_seizure_report(make_body(detection=detection.value), today=TODAY)
    for concealment in Concealment:
        parse_seizure_report(make_body(concealment=concealment.value), today=TODAY)


def test_text_limits() -> None:
    parse_seizure_report(make_body(location="l" * 200, notes="n" * 5000), today=TODAY)
    assert "body.location" in errors_of(make_body(location="l" * 201))
    assert "body.notes" in errors_of(make_body(notes="n" * 5001))
    assert "body.location" in errors_of(make_body(location="   "))
    assert "body.notes" in errors_of(make_body(notes=5))


# --- reporting country ----------------------------------------------------------------------


def test_reporting_country_must_match_organisation() -> None:
    report = parse_seizure_report(make_body(), today=TODAY)
    check_reporting_country(report, "BE")
    with pytest.raises(Invalid) as info:
        check_reporting_country(report, "NL")
    assert info.value.slug == "invalid-body"
    assert [e.field for e in info.value.errors] == ["body.country"]


def test_organisation_without_country_cannot_report() -> None:
    report = parse_seizure_report(make_body(), today=TODAY)
    with pytest.raises(Invalid) as info:
        check_reporting_country(report, None)
    assert info.value.errors[0].field == "body.country"


def test_input_is_not_mutated() -> None:
    body = make_body(location="  Antwerp ")
    before = copy.deepcopy(body)
    parse_seizure_report(body, today=TODAY)
    assert body == before
