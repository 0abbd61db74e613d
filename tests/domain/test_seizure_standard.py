"""The standard form of a seizure report: conveyance, documents, containers and parties; the
check digits; the report form a group asks for; the identifiers a report yields."""

from __future__ import annotations

from typing import Any

import pytest

from cencomm.domain.errors import Invalid
from cencomm.domain.identifiers import Identifier, IdentifierKind
from cencomm.domain.seizure_standard import (
    MAX_CONTAINERS,
    MAX_DOCUMENTS,
    MAX_PARTIES,
    ReportForm,
    check_report_form,
    identifiers_of,
)
from cencomm.domain.seizures import parse_seizure_report
from tests.domain.test_seizures import TODAY, errors_of, make_body

VESSEL = {"mode": "vessel", "vessel_name": "MSC Aurora", "imo": "IMO 9074729", "voyage": "024W"}
CONSIGNEE = {
    "role": "consignee",
    "name": "Müller Pharma GmbH",
    "country": "DE",
    "address": "Hafenstraße 1, Hamburg",
    "identifier": "DE 123456789012345",
}


def standard(**changes: Any) -> dict[str, Any]:
    body = make_body(
        conveyance=VESSEL,
        documents=[
            {"type": "bl", "number": "MEDU 1234567"},
            {"type": "awb", "number": "020-12345675"},
        ],
        containers=["CSQU 305438 3", "msku-907032-3"],
        parties=[
            CONSIGNEE,
            {"role": "consignor", "name": "Kangda Medical Co., Ltd.", "country": "CN"},
        ],
    )
    body.update(changes)
    return body


def test_a_full_standard_report_parses_into_its_canonical_form() -> None:
    report = parse_seizure_report(standard(), today=TODAY)
    parts = report.standard
    assert parts.conveyance is not None
    assert parts.conveyance.imo == "IMO9074729"
    assert parts.containers == ("CSQU3054383", "MSKU9070323")
    assert [d.number for d in parts.documents] == ["MEDU 1234567", "020-12345675"]
    body = report.to_json()
    assert body["conveyance"] == {
        "mode": "vessel",
        "vessel_name": "MSC Aurora",
        "imo": "IMO9074729",
        "voyage": "024W",
    }
    assert body["parties"][0]["identifier"] == "DE 123456789012345"
    # The canonical form parses back to the same report.
    assert parse_seizure_report(body, today=TODAY) == report


def test_a_simplified_report_has_no_standard_parts_and_says_so() -> None:
    body = parse_seizure_report(make_body(), today=TODAY).to_json()
    assert body["conveyance"] is None
    assert body["documents"] == body["containers"] == body["parties"] == []


@pytest.mark.parametrize(
    ("container", "ok"),
    [
        ("CSQU3054383", True),
        ("csqu 305438-3", True),
        ("CSQU3054384", False),  # wrong check digit
        ("CSQX3054383", False),  # category must be U, J or Z
        ("CSQU305438", False),  # too short
        ("C5QU3054383", False),  # owner code is letters
    ],
)
def test_containers_follow_iso_6346_with_the_check_digit(container: str, ok: bool) -> None:
    body = standard(containers=[container])
    if ok:
        parse_seizure_report(body, today=TODAY)
    else:
        assert "ISO 6346" in errors_of(body)["body.containers[0]"]


def test_a_container_may_not_be_listed_twice() -> None:
    errors = errors_of(standard(containers=["CSQU3054383", "csqu 3054383"]))
    assert errors["body.containers[1]"] == "repeats an earlier container"


@pytest.mark.parametrize(
    ("imo", "ok"),
    [("IMO 9074729", True), ("9074729", True), ("imo9074729", True), ("IMO 9074728", False),
     ("IMO 907472", False), ("IMO 90747290", False)],
)  # fmt: skip
def test_imo_numbers_carry_a_valid_check_digit(imo: str, ok: bool) -> None:
    body = standard(conveyance={**VESSEL, "imo": imo})
    if ok:
        parse_seizure_report(body, today=TODAY)
    else:
        assert "IMO number" in errors_of(body)["body.conveyance.imo"]


@pytest.mark.parametrize(
    ("number", "ok"),
    [
        ("020-12345675", True),
        ("02012345675", True),
        ("020 1234 5676", False),
        ("0201234567", False),
    ],
)
def test_air_waybills_carry_the_modulo_7_check_digit(number: str, ok: bool) -> None:
    body = standard(documents=[{"type": "awb", "number": number}])
    if ok:
        parse_seizure_report(body, today=TODAY)
    else:
        assert "air waybill" in errors_of(body)["body.documents[0].number"]


def test_document_types_are_a_closed_list() -> None:
    errors = errors_of(standard(documents=[{"type": "passport", "number": "X1"}]))
    assert errors["body.documents[0].type"].startswith("must be one of awb | bl | cmr")
    # "X1" is too short to be a reference number once punctuation is gone? It has 2: accepted.
    assert "body.documents[0].number" not in errors


def test_every_error_of_the_standard_parts_is_reported_at_once() -> None:
    errors = errors_of(
        standard(
            conveyance={"mode": "flight", "flight_number": "12"},
            documents=[{"type": "bl"}, "BL1", {"type": "bl", "number": "X", "extra": 1}],
            containers="CSQU3054383",
            parties=[{"role": "buyer", "name": " ", "country": "XX", "address": ""}],
        )
    )
    assert errors == {
        # a flight does not suit the sea transport of this report, and the number is malformed
        "body.conveyance.mode": "a flight suits transport_mode air",
        "body.conveyance.flight_number": "must be an airline designator and 1 to 4 digits (LH400)",
        "body.documents[0].number": "is required",
        "body.documents[1]": "must be an object {type, number}",
        "body.documents[2].extra": "unknown field",
        "body.documents[2].number": "must hold 2 to 40 letters or digits",
        "body.containers": "must be a list",
        "body.parties[0].role": (
            "must be one of consignor | consignee | declarant | carrier | notify"
        ),
        "body.parties[0].name": "must not be blank",
        "body.parties[0].country": "must be an ISO 3166-1 alpha-2 country code (upper case)",
        "body.parties[0].address": "must not be blank",
    }


@pytest.mark.parametrize(
    ("conveyance", "field", "message"),
    [
        (
            {"mode": "ship"},
            "body.conveyance.mode",
            "must be one of vessel | flight | vehicle | courier",
        ),
        ({"mode": "vessel"}, "body.conveyance.vessel_name", "is required"),
        ({**VESSEL, "flight_number": "LH400"}, "body.conveyance.flight_number", "unknown field"),
        ({**VESSEL, "voyage": "V" * 33}, "body.conveyance.voyage", "must be at most 32 characters"),
        ("vessel", "body.conveyance", "must be an object {mode, …}"),
    ],
)
def test_conveyance_rules(conveyance: Any, field: str, message: str) -> None:
    assert errors_of(standard(conveyance=conveyance))[field] == message


def test_conveyance_modes_and_transport_modes_agree() -> None:
    flight = {"mode": "flight", "flight_number": "lh 0400"}
    report = parse_seizure_report(standard(transport_mode="air", conveyance=flight), today=TODAY)
    assert report.standard.conveyance is not None
    assert report.standard.conveyance.flight_number == "LH400"
    truck = {"mode": "vehicle", "registration": "AB-123-CD", "registration_country": "FR"}
    parse_seizure_report(standard(transport_mode="road", conveyance=truck), today=TODAY)
    parse_seizure_report(standard(transport_mode="rail", conveyance=truck), today=TODAY)
    courier = {"mode": "courier", "courier": "DHL", "tracking_number": "JD0146 0000 1234"}
    parse_seizure_report(standard(transport_mode="postal", conveyance=courier), today=TODAY)
    assert errors_of(standard(transport_mode="air", conveyance=truck)) == {
        "body.conveyance.mode": "a vehicle suits transport_mode rail or road"
    }


@pytest.mark.parametrize(
    ("field", "limit", "entry"),
    [
        ("documents", MAX_DOCUMENTS, {"type": "invoice", "number": "INV-1"}),
        ("parties", MAX_PARTIES, CONSIGNEE),
    ],
)
def test_lists_are_bounded(field: str, limit: int, entry: Any) -> None:
    errors = errors_of(standard(**{field: [entry] * (limit + 1)}))
    assert errors[f"body.{field}"] == f"must have at most {limit} entries"


def test_containers_are_bounded() -> None:
    errors = errors_of(standard(containers=["CSQU3054383"] * (MAX_CONTAINERS + 1)))
    assert errors["body.containers"] == f"must have at most {MAX_CONTAINERS} entries"


def test_a_party_name_must_hold_letters_or_digits() -> None:
    party = {**CONSIGNEE, "name": "&.,"}
    assert errors_of(standard(parties=[party]))["body.parties[0].name"] == (
        "must contain letters or digits"
    )


def test_the_standard_form_requires_a_conveyance_and_a_document() -> None:
    simplified = parse_seizure_report(make_body(), today=TODAY)
    check_report_form(simplified.standard, ReportForm.SIMPLIFIED)
    with pytest.raises(Invalid) as info:
        check_report_form(simplified.standard, ReportForm.STANDARD)
    assert {e.field for e in info.value.errors} == {"body.conveyance", "body.documents"}
    full = parse_seizure_report(standard(), today=TODAY)
    check_report_form(full.standard, ReportForm.STANDARD)


def test_a_report_yields_each_identifier_once_in_normal_form() -> None:
    report = parse_seizure_report(
        standard(
            documents=[
                {"type": "bl", "number": "MEDU 1234567"},
                {"type": "invoice", "number": "medu-1234567"},
                {"type": "courier_tracking", "number": "JD 0146"},
            ]
        ),
        today=TODAY,
    )
    found = identifiers_of(report.standard)
    assert found == tuple(
        sorted(
            [
                Identifier(IdentifierKind.VESSEL, "IMO9074729", "IMO9074729"),
                Identifier(IdentifierKind.DOCUMENT, "MEDU1234567", "MEDU 1234567"),
                Identifier(IdentifierKind.TRACKING, "JD0146", "JD 0146"),
                Identifier(IdentifierKind.CONTAINER, "CSQU3054383", "CSQU3054383"),
                Identifier(IdentifierKind.CONTAINER, "MSKU9070323", "MSKU9070323"),
                Identifier(IdentifierKind.PARTY, "muller pharma", "Müller Pharma GmbH"),
                Identifier(IdentifierKind.PARTY_ID, "DE123456789012345", "DE 123456789012345"),
                Identifier(IdentifierKind.PARTY, "kangda medical", "Kangda Medical Co., Ltd."),
            ]
        )
    )
