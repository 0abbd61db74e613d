"""Seizure analytics: the analytic rows of a report, the scope of a query, and the answer.

Ordering of every list (the contract's "most interceptions first"):

- counted lists (`routes`, `transport_modes`, `detection`, `concealment`, `infringement`,
  `by_region`, `by_country`, `transit`, `top_products`): most interceptions first, ties by
  name ascending (for routes: origin, then destination; for products: category, then unit);
- `by_category`: category, then unit, in the contract's order of categories (`medicines`,
  `masks`, ... `other_supplies`), so a chart's colours stay put between answers;
- `by_week`: ascending, every ISO week (Monday) from the first to the last week with a report,
  weeks without one at 0 so charts keep their time axis.

Totals count `units` for medicines and medical supplies and `litres` for sanitizer; quantities
in `kg` appear in `by_category` and `top_products` only.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from cencomm.domain.envelopes import HandlingCode
from cencomm.domain.errors import FieldError, Invalid
from cencomm.domain.seizure_standard import identifiers_of
from cencomm.domain.seizures import Category, Family, SeizureReport, Unit, family_of

ROUTES_SHOWN = 20
TRANSIT_SHOWN = 20
# Groups one cross-group query may span: a RILO compares its region's operations, a handful.
MAX_GROUPS = 50
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_CATEGORY_ORDER = {c.value: n for n, c in enumerate(Category)}
# TLP:RED never leaves the platform in a file or a printed report.
NEVER_EXPORTED = frozenset({HandlingCode.RED.value})


def week_start(day: date) -> date:
    """The Monday that starts `day`'s ISO week."""
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True, slots=True)
class SeizureRows:
    """A seizure report as rows of the analytic tables (filled in by the writer or a rebuild)."""

    report: dict[str, Any]
    items: list[dict[str, Any]]
    transit: list[dict[str, Any]]
    # The report's identifiers in their normal form (correlations and watch lists).
    identifiers: list[dict[str, Any]] = field(default_factory=list)


def seizure_rows(
    *,
    message_id: uuid.UUID,
    group_id: uuid.UUID,
    hc: str,
    report: SeizureReport,
    region: str | None,
    sender_organization_id: uuid.UUID,
    seq: int | None = None,
    reported_at: datetime | None = None,
    hidden: bool = False,
) -> SeizureRows:
    """The rows the writer inserts with a post, and a rebuild recomputes from its JWS.

    A new post has no `seq` and time yet: the writer sets both on `report` when it commits.
    """
    common = {
        "message_id": message_id,
        "group_id": group_id,
        "occurred_on": report.occurred_on,
        "hc": hc,
        "hidden": hidden,
    }
    return SeizureRows(
        report={
            **common,
            "country": report.country,
            "region": region,
            "location": report.location,
            "transport_mode": report.transport_mode.value,
            "origin": report.route.origin,
            "transit": list(report.route.transit),
            "destination": report.route.destination,
            "infringement": report.infringement.value,
            "detection": report.detection.value,
            "concealment": report.concealment.value,
            "seq": seq,
            "sender_organization_id": sender_organization_id,
            "reported_at": reported_at,
            "week_start": week_start(report.occurred_on),
        },
        items=[
            {
                **common,
                "position": n,
                "country": report.country,
                "category": item.category.value,
                "family": item.family.value,
                "unit": item.unit.value,
                "quantity": float(item.quantity),
                "description": item.description,
                "hs_code": item.hs_code,
            }
            for n, item in enumerate(report.items)
        ],
        transit=[
            {**common, "position": n, "country": country}
            for n, country in enumerate(report.route.transit)
        ],
        identifiers=[
            {
                "message_id": message_id,
                "group_id": group_id,
                "kind": identifier.kind.value,
                "value": identifier.value,
                "label": identifier.label,
            }
            for identifier in identifiers_of(report.standard)
        ],
    )


# -- what a query covers ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Period:
    """Inclusive dates on `occurred_on`; either end may be open."""

    start: date | None = None
    end: date | None = None


def parse_period(start: str | None, end: str | None) -> Period:
    """`?from=&to=` as dates; every bad field is reported at once.

    Raises:
        Invalid: slug `validation-failed`, one error per bad field (`query.from`, `query.to`).
    """
    errors: list[FieldError] = []

    def one(raw: str | None, name: str) -> date | None:
        if raw is None:
            return None
        try:
            if not _DATE.fullmatch(raw):
                raise ValueError(raw)
            return date.fromisoformat(raw)
        except ValueError:
            errors.append(FieldError(f"query.{name}", "must be a date YYYY-MM-DD"))
            return None

    first, last = one(start, "from"), one(end, "to")
    if first is not None and last is not None and last < first:
        errors.append(FieldError("query.to", "must not be before from"))
    if errors:
        raise Invalid(
            f"{errors[0].field}: {errors[0].message}",
            slug="validation-failed",
            errors=tuple(errors),
        )
    return Period(first, last)


@dataclass(frozen=True, slots=True)
class Scope:
    """Which reports an answer counts: per group, the handling codes withheld from the caller.

    Hidden reports are never counted. `withheld` maps each group to the codes the caller may
    not read there (observers: TLP:AMBER+STRICT and TLP:RED); exports add TLP:RED for everyone.
    """

    withheld: Mapping[uuid.UUID, frozenset[str]]
    period: Period = field(default_factory=Period)

    @property
    def group_ids(self) -> list[uuid.UUID]:
        return list(self.withheld)

    def groups_by_withheld(self) -> dict[frozenset[str], list[uuid.UUID]]:
        """Groups sharing the same withheld codes, so one condition covers each set."""
        out: dict[frozenset[str], list[uuid.UUID]] = {}
        for group_id, codes in self.withheld.items():
            out.setdefault(codes, []).append(group_id)
        return out

    def for_export(self) -> Scope:
        return Scope({g: codes | NEVER_EXPORTED for g, codes in self.withheld.items()}, self.period)


# -- the answer ---------------------------------------------------------------------------------


def number(value: float) -> int | float:
    """Sums of floats, rounded so that the same reports always give the same figure (the order
    a database adds them in must not show), and integral values as integers."""
    rounded = round(value, 6)
    return int(rounded) if rounded.is_integer() else rounded


@dataclass(frozen=True, slots=True)
class Count:
    name: str
    interceptions: int


@dataclass(frozen=True, slots=True)
class RouteCount:
    origin: str
    destination: str
    interceptions: int


@dataclass(frozen=True, slots=True)
class Totals:
    medicines_units: int | float = 0
    medical_supplies_units: int | float = 0
    sanitizer_litres: int | float = 0


@dataclass(frozen=True, slots=True)
class CountryFigures:
    country: str
    interceptions: int
    totals: Totals


@dataclass(frozen=True, slots=True)
class CategoryQuantity:
    category: str
    unit: str
    quantity: int | float


@dataclass(frozen=True, slots=True)
class Product:
    """A category in one unit: how much, in how many interceptions, and its share of all the
    quantity seized in that unit (0 to 1, four decimals)."""

    category: str
    unit: str
    quantity: int | float
    interceptions: int
    share: float


@dataclass(frozen=True, slots=True)
class WeekCount:
    week_start: date
    interceptions: int


@dataclass(frozen=True, slots=True)
class Analytics:
    interceptions: int
    reporting_countries: int
    totals: Totals
    by_category: list[CategoryQuantity]
    routes: list[RouteCount]
    transport_modes: list[Count]
    detection: list[Count]
    concealment: list[Count]
    infringement: list[Count]
    by_week: list[WeekCount]
    by_region: list[Count]
    by_country: list[CountryFigures]
    transit: list[Count]
    top_products: list[Product]
    first_report_at: datetime | None
    last_report_at: datetime | None


@dataclass(frozen=True, slots=True)
class IdentifierCount:
    """An identifier (normal form) and the reports naming it, for the printed report's
    conveyance and parties section; `countries` are the reporting countries, sorted."""

    kind: str
    value: str
    label: str
    reports: int
    countries: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Reporter:
    """An organisation that reported: the operation's participants, in the printed report."""

    name: str
    country: str | None
    interceptions: int


@dataclass(frozen=True, slots=True)
class ItemSum:
    """One row of the item aggregate: a country's quantity of a category in a unit."""

    country: str
    category: str
    unit: str
    quantity: float
    interceptions: int


@dataclass(frozen=True, slots=True)
class ReportFigures:
    """What storage computes over the reports in scope, before ranking."""

    interceptions: int
    first_report_at: datetime | None
    last_report_at: datetime | None
    by_country: dict[str, int]
    routes: dict[tuple[str, str], int]
    transport_modes: dict[str, int]
    detection: dict[str, int]
    concealment: dict[str, int]
    infringement: dict[str, int]
    by_week: dict[date, int]
    by_region: dict[str, int]
    transit: dict[str, int]
    items: list[ItemSum]


def ranked(counts: Mapping[str, int], limit: int | None = None) -> list[Count]:
    """Most interceptions first, ties by name."""
    order = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [Count(name, n) for name, n in order[:limit]]


def _totals(sums: Mapping[tuple[str, str], float]) -> Totals:
    def total(family: Family, unit: Unit) -> int | float:
        return number(sums.get((family.value, unit.value), 0.0))

    return Totals(
        medicines_units=total(Family.MEDICINES, Unit.UNITS),
        medical_supplies_units=total(Family.MEDICAL_SUPPLIES, Unit.UNITS),
        sanitizer_litres=total(Family.SANITIZER, Unit.LITRES),
    )


def _weeks(by_week: Mapping[date, int]) -> list[WeekCount]:
    if not by_week:
        return []
    weeks, day, last = [], min(by_week), max(by_week)
    while day <= last:
        weeks.append(WeekCount(day, by_week.get(day, 0)))
        day += timedelta(days=7)
    return weeks


def _products(items: Sequence[ItemSum]) -> tuple[list[CategoryQuantity], list[Product]]:
    quantity: dict[tuple[str, str], float] = {}
    interceptions: dict[tuple[str, str], int] = {}
    per_unit: dict[str, float] = {}
    for row in items:
        key = (row.category, row.unit)
        quantity[key] = quantity.get(key, 0.0) + row.quantity
        # A report has one country: its distinct count per country adds up exactly.
        interceptions[key] = interceptions.get(key, 0) + row.interceptions
        per_unit[row.unit] = per_unit.get(row.unit, 0.0) + row.quantity
    by_category = [
        CategoryQuantity(category, unit, number(q))
        for (category, unit), q in sorted(
            quantity.items(), key=lambda kv: (_CATEGORY_ORDER.get(kv[0][0], 99), kv[0][1])
        )
    ]
    products = [
        Product(
            category,
            unit,
            number(q),
            interceptions[(category, unit)],
            round(q / per_unit[unit], 4) if per_unit[unit] else 0.0,
        )
        for (category, unit), q in quantity.items()
    ]
    products.sort(key=lambda p: (-p.interceptions, p.category, p.unit))
    return by_category, products


def assemble(figures: ReportFigures) -> Analytics:
    """Rank and total the raw figures into the answer (orders as in the module docstring)."""
    family_sums: dict[tuple[str, str], float] = {}
    country_sums: dict[str, dict[tuple[str, str], float]] = {}
    for row in figures.items:
        key = (family_of(row.category).value, row.unit)
        family_sums[key] = family_sums.get(key, 0.0) + row.quantity
        per_country = country_sums.setdefault(row.country, {})
        per_country[key] = per_country.get(key, 0.0) + row.quantity
    by_category, products = _products(figures.items)
    routes = sorted(figures.routes.items(), key=lambda kv: (-kv[1], kv[0]))[:ROUTES_SHOWN]
    return Analytics(
        interceptions=figures.interceptions,
        reporting_countries=len(figures.by_country),
        totals=_totals(family_sums),
        by_category=by_category,
        routes=[RouteCount(o, d, n) for (o, d), n in routes],
        transport_modes=ranked(figures.transport_modes),
        detection=ranked(figures.detection),
        concealment=ranked(figures.concealment),
        infringement=ranked(figures.infringement),
        by_week=_weeks(figures.by_week),
        by_region=ranked(figures.by_region),
        by_country=[
            CountryFigures(c.name, c.interceptions, _totals(country_sums.get(c.name, {})))
            for c in ranked(figures.by_country)
        ],
        transit=ranked(figures.transit, TRANSIT_SHOWN),
        top_products=products,
        first_report_at=figures.first_report_at,
        last_report_at=figures.last_report_at,
    )


def check_group_ids(raw: Iterable[uuid.UUID]) -> list[uuid.UUID]:
    """The groups of a cross-group query: 1 to MAX_GROUPS, each once (order kept).

    Raises:
        Invalid: slug `validation-failed`, field `query.group_id`.
    """
    ids = list(dict.fromkeys(raw))
    if not 1 <= len(ids) <= MAX_GROUPS:
        raise Invalid(
            f"query.group_id: give 1 to {MAX_GROUPS} groups",
            slug="validation-failed",
            errors=(FieldError("query.group_id", f"give 1 to {MAX_GROUPS} groups"),),
        )
    return ids
