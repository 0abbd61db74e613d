"""Plain rules of seizure analytics: ISO weeks, the period, rounding, CSV cells."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from cencomm.domain.analytics import Period, number, parse_period, ranked, week_start
from cencomm.domain.errors import Invalid
from cencomm.domain.seizure_csv import encode_rows, neutralise


def test_weeks_start_on_monday() -> None:
    assert week_start(date(2020, 5, 11)) == date(2020, 5, 11)  # a Monday
    assert week_start(date(2020, 5, 17)) == date(2020, 5, 11)  # the Sunday after
    assert week_start(date(2021, 1, 1)) == date(2020, 12, 28)  # ISO week 53 of 2020


def test_period_errors_come_together() -> None:
    assert parse_period(None, None) == Period()
    assert parse_period("2020-05-01", "2020-05-01") == Period(date(2020, 5, 1), date(2020, 5, 1))
    with pytest.raises(Invalid) as caught:
        parse_period("2020-02-30", "\uff11\uff12\uff13\uff14-05-01")  # no such day; wide digits
    assert [e.field for e in caught.value.errors] == ["query.from", "query.to"]


def test_sums_are_rounded_and_integral_ones_are_integers() -> None:
    assert number(0.1 + 0.2) == 0.3
    assert number(1500.0) == 1500 and isinstance(number(1500.0), int)


def test_ties_are_broken_by_name() -> None:
    assert [c.name for c in ranked({"sea": 1, "air": 2, "road": 1})] == ["air", "road", "sea"]


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@A1", "\tx", "\rx"])
def test_formula_starts_get_a_quote(cell: str) -> None:
    assert neutralise(cell) == "'" + cell


def test_other_cells_are_left_alone_and_quoted_per_rfc_4180() -> None:
    assert neutralise("Customs FR") == "Customs FR"
    raw = encode_rows([["a,b", 'say "hi"', "two\nlines", "x=1", "\rcr"]]).decode()
    assert raw == '"a,b","say ""hi""","two\nlines",x=1,"\'\rcr"\r\n'
    assert next(csv.reader(io.StringIO(raw, newline=""))) == [
        "a,b",
        'say "hi"',
        "two\nlines",
        "x=1",
        "'\rcr",
    ]
