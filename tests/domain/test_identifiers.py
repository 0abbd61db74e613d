"""Normal forms: the same identifier written several ways is one; different ones stay apart."""

from __future__ import annotations

import pytest

from cencomm.domain.identifiers import (
    awb_check_ok,
    compact,
    iso6346_check_digit,
    normal_container,
    normal_flight,
    normal_imo,
    normal_party_name,
)


@pytest.mark.parametrize(
    "name",
    [
        "Müller Pharma GmbH",
        "MULLER PHARMA G.m.b.H.",
        "Muller-Pharma GmbH & Co. KG",
        "  müller   pharma  ",
        "Müller Pharma Ltd.",
    ],
)
def test_one_company_written_five_ways_is_one_name(name: str) -> None:
    assert normal_party_name(name) == "muller pharma"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Müller Pharma GmbH", "Müller Pharmacy GmbH"),
        ("Global Med Supplies Ltd", "Global Med Supply Ltd"),
        ("Kangda Medical Co., Ltd.", "Kangda Medicals Co., Ltd."),
        ("Shenzhen Kangda Medical", "Kangda Medical"),
    ],
)
def test_similar_but_different_companies_stay_apart(first: str, second: str) -> None:
    assert normal_party_name(first) != normal_party_name(second)


def test_legal_forms_go_only_from_the_end() -> None:
    assert normal_party_name("Co-Op Medical Supplies SARL") == "co op medical supplies"
    assert normal_party_name("S.A.R.L. Dupont") == "sarl dupont"
    assert normal_party_name("Dupont S.A.R.L.") == "dupont"
    # A name that is nothing but a legal form keeps it, so it is not empty.
    assert normal_party_name("Co.") == "co"
    assert normal_party_name("Trading Company Ltd") == "trading"


def test_compact_drops_spaces_punctuation_and_accents() -> None:
    assert compact(" medu-123 456/7. ") == "MEDU1234567"
    assert compact("Ü-1") == "U1"


def test_iso6346_reference_number() -> None:
    # The standard's own example: CSQU 305438 3.
    assert iso6346_check_digit("CSQU305438") == 3
    assert normal_container("CSQU 305438 3") == "CSQU3054383"
    assert normal_container("CSQU 305438 4") is None


def test_imo_flight_and_awb_canonical_forms() -> None:
    assert normal_imo("imo 9074729") == normal_imo("9074729") == "IMO9074729"
    assert normal_imo("9074720") is None
    assert normal_flight("LH 0400") == normal_flight("lh400") == "LH400"
    assert normal_flight("AFR 006") == "AFR6"
    assert normal_flight("U2 1234a") == "U21234A"
    assert normal_flight("12 400") is None  # a designator is not two digits
    assert normal_flight("LH 12345") is None
    assert awb_check_ok("02012345675")
    assert not awb_check_ok("02012345676")
