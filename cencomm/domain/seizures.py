"""The structured seizure report carried in a `seizure` message body, and its validation."""

from __future__ import annotations

import enum
import math
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from cencomm.domain.errors import FieldError, Invalid
from cencomm.domain.field_collector import FieldCollector
from cencomm.domain.seizure_standard import (
    NO_STANDARD_PARTS,
    StandardParts,
    parse_standard_parts,
)

EARLIEST_OCCURRED_ON = date(2000, 1, 1)
MAX_ITEMS = 50
MAX_TRANSIT = 10
MAX_LOCATION_CHARS = 200
MAX_DESCRIPTION_CHARS = 500
MAX_NOTES_CHARS = 5_000
MAX_QUANTITY = 1e12
HS_CODE_MIN_DIGITS = 6
HS_CODE_MAX_DIGITS = 10

_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_HS_CODE_RE = re.compile(r"\d+(?:\.\d+)*", re.ASCII)
_E = TypeVar("_E", bound=enum.StrEnum)


class TransportMode(enum.StrEnum):
    AIR = "air"
    SEA = "sea"
    ROAD = "road"
    RAIL = "rail"
    POSTAL = "postal"
    EXPRESS_COURIER = "express_courier"


class Category(enum.StrEnum):
    MEDICINES = "medicines"
    MASKS = "masks"
    GLOVES = "gloves"
    TEST_KITS = "test_kits"
    THERMOMETERS = "thermometers"
    GOWNS = "gowns"
    GOGGLES = "goggles"
    SANITIZER = "sanitizer"
    OTHER_SUPPLIES = "other_supplies"


class Family(enum.StrEnum):
    """How analytics totals group the categories."""

    MEDICINES = "medicines"
    MEDICAL_SUPPLIES = "medical_supplies"
    SANITIZER = "sanitizer"


class Unit(enum.StrEnum):
    UNITS = "units"
    LITRES = "litres"
    KG = "kg"


class Infringement(enum.StrEnum):
    COUNTERFEIT = "counterfeit"
    FALSIFIED = "falsified"
    UNAUTHORIZED = "unauthorized"
    SUBSTANDARD = "substandard"
    EXPIRED = "expired"
    NON_COMPLIANT = "non_compliant"
    UNDECLARED = "undeclared"
    OTHER = "other"


class Detection(enum.StrEnum):
    RISK_PROFILING = "risk_profiling"
    INTELLIGENCE = "intelligence"
    XRAY = "xray"
    CANINE = "canine"
    RANDOM = "random"
    DOCUMENTARY = "documentary"
    OTHER = "other"


class Concealment(enum.StrEnum):
    MIS_DECLARATION = "mis_declaration"
    HIDDEN_IN_CARGO = "hidden_in_cargo"
    LUGGAGE = "luggage"
    BODY = "body"
    FALSE_DOCUMENTS = "false_documents"
    NONE = "none"
    OTHER = "other"


def family_of(category: str) -> Family:
    """medicines → medicines; sanitizer → sanitizer; every other category → medical_supplies.

    Raises:
        ValueError: `category` is not one of the nine categories.
    """
    cat = Category(category)
    if cat is Category.MEDICINES:
        return Family.MEDICINES
    if cat is Category.SANITIZER:
        return Family.SANITIZER
    return Family.MEDICAL_SUPPLIES


def allowed_units(category: str) -> frozenset[Unit]:
    """Sanitizer is counted in litres; every other category in units or kg."""
    if Category(category) is Category.SANITIZER:
        return frozenset({Unit.LITRES})
    return frozenset({Unit.UNITS, Unit.KG})


@dataclass(frozen=True, slots=True)
class Route:
    origin: str
    transit: tuple[str, ...]
    destination: str

    def to_json(self) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "transit": list(self.transit),
            "destination": self.destination,
        }


@dataclass(frozen=True, slots=True)
class SeizureItem:
    category: Category
    description: str | None
    quantity: int | float
    unit: Unit
    hs_code: str | None

    @property
    def family(self) -> Family:
        return family_of(self.category)

    def to_json(self) -> dict[str, Any]:
        return {
            "category": self.category.value,
            "description": self.description,
            "quantity": self.quantity,
            "unit": self.unit.value,
            "hs_code": self.hs_code,
        }


@dataclass(frozen=True, slots=True)
class SeizureReport:
    occurred_on: date
    country: str
    location: str | None
    transport_mode: TransportMode
    route: Route
    items: tuple[SeizureItem, ...]
    infringement: Infringement
    detection: Detection
    concealment: Concealment
    notes: str | None
    # The standard form's conveyance, documents, containers and parties (empty when absent).
    standard: StandardParts = NO_STANDARD_PARTS

    def to_json(self) -> dict[str, Any]:
        """Normalised form: every key present (absent optionals as null), enums as strings.

        `parse_seizure_report(report.to_json(), today=...)` gives back an equal report.
        """
        return {
            "occurred_on": self.occurred_on.isoformat(),
            "country": self.country,
            "location": self.location,
            "transport_mode": self.transport_mode.value,
            "route": self.route.to_json(),
            "items": [item.to_json() for item in self.items],
            "infringement": self.infringement.value,
            "detection": self.detection.value,
            "concealment": self.concealment.value,
            "notes": self.notes,
            "conveyance": conveyance.to_json()
            if (conveyance := self.standard.conveyance)
            else None,
            "documents": [document.to_json() for document in self.standard.documents],
            "containers": list(self.standard.containers),
            "parties": [party.to_json() for party in self.standard.parties],
        }


_REPORT_FIELDS = frozenset(
    {
        "occurred_on",
        "country",
        "location",
        "transport_mode",
        "route",
        "items",
        "infringement",
        "detection",
        "concealment",
        "notes",
        "conveyance",
        "documents",
        "containers",
        "parties",
    }
)
_ROUTE_FIELDS = frozenset({"origin", "transit", "destination"})
_ITEM_FIELDS = frozenset({"category", "description", "quantity", "unit", "hs_code"})


def _occurred_on(c: FieldCollector, value: Any, today: date, field: str) -> date | None:
    if value is None:
        c.add(field, "is required")
        return None
    if not isinstance(value, str) or _DATE_RE.fullmatch(value) is None:
        c.add(field, "must be a date YYYY-MM-DD")
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        c.add(field, "must be a date YYYY-MM-DD")
        return None
    if day < EARLIEST_OCCURRED_ON or day > today:
        c.add(field, f"must lie between {EARLIEST_OCCURRED_ON.isoformat()} and {today.isoformat()}")
        return None
    return day


def _route(c: FieldCollector, value: Any, prefix: str) -> Route | None:
    field = f"{prefix}.route"
    if value is None:
        c.add(field, "is required")
        return None
    if not isinstance(value, dict):
        c.add(field, "must be an object {origin, transit?, destination}")
        return None
    before = len(c.errors)
    c.unknown(value, _ROUTE_FIELDS, field)
    origin = c.country(value.get("origin"), f"{field}.origin")
    destination = c.country(value.get("destination"), f"{field}.destination")
    transit: list[str] = []
    raw_transit = value.get("transit")
    if raw_transit is not None:
        if not isinstance(raw_transit, list):
            c.add(f"{field}.transit", "must be a list of country codes")
        elif len(raw_transit) > MAX_TRANSIT:
            c.add(f"{field}.transit", f"must have at most {MAX_TRANSIT} entries")
        else:
            for index, code in enumerate(raw_transit):
                if (checked := c.country(code, f"{field}.transit[{index}]")) is not None:
                    transit.append(checked)
    if len(c.errors) != before or origin is None or destination is None:
        return None
    return Route(origin=origin, transit=tuple(transit), destination=destination)


def _quantity(c: FieldCollector, value: Any, field: str) -> int | float | None:
    if value is None:
        c.add(field, "is required")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        c.add(field, "must be a number")
        return None
    if isinstance(value, float) and not math.isfinite(value):
        c.add(field, "must be a finite number")
        return None
    if value <= 0:
        c.add(field, "must be greater than zero")
        return None
    if value > MAX_QUANTITY:
        c.add(field, "must be at most 1e12")
        return None
    return value


def _hs_code(c: FieldCollector, value: Any, field: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, str) and _HS_CODE_RE.fullmatch(value) is not None:
        digits = sum(ch.isdigit() for ch in value)
        if HS_CODE_MIN_DIGITS <= digits <= HS_CODE_MAX_DIGITS:
            return value
    c.add(field, "must be 6 to 10 digits, dots allowed (3004.90)")
    return None


def _item(c: FieldCollector, value: Any, field: str) -> SeizureItem | None:
    if not isinstance(value, dict):
        c.add(field, "must be an object")
        return None
    before = len(c.errors)
    c.unknown(value, _ITEM_FIELDS, field)
    category = c.choice(value, "category", Category, field)
    description = c.text(value, "description", MAX_DESCRIPTION_CHARS, field)
    quantity = _quantity(c, value.get("quantity"), f"{field}.quantity")
    unit = c.choice(value, "unit", Unit, field)
    if category is not None and unit is not None and unit not in allowed_units(category):
        if category is Category.SANITIZER:
            c.add(f"{field}.unit", "sanitizer is counted in litres")
        else:
            c.add(f"{field}.unit", f"{category.value} is counted in units or kg")
    hs_code = _hs_code(c, value.get("hs_code"), f"{field}.hs_code")
    if len(c.errors) != before or category is None or unit is None or quantity is None:
        return None
    return SeizureItem(
        category=category, description=description, quantity=quantity, unit=unit, hs_code=hs_code
    )


def _items(c: FieldCollector, value: Any, prefix: str) -> tuple[SeizureItem, ...]:
    field = f"{prefix}.items"
    if value is None:
        c.add(field, "is required")
        return ()
    if not isinstance(value, list):
        c.add(field, "must be a list")
        return ()
    if not 1 <= len(value) <= MAX_ITEMS:
        c.add(field, f"must hold 1 to {MAX_ITEMS} items")
        return ()
    items = [_item(c, raw, f"{field}[{index}]") for index, raw in enumerate(value)]
    return tuple(item for item in items if item is not None)


def parse_seizure_report(body: Any, *, today: date, prefix: str = "body") -> SeizureReport:
    """Validate a seizure report body, collecting every field error.

    Args:
        body: the decoded JSON body.
        today: the latest acceptable `occurred_on` (the caller's clock, UTC).
        prefix: the path prefix for field names (`body.items[0].unit`).

    Raises:
        Invalid: slug `invalid-body`, with one FieldError per problem.
    """
    c = FieldCollector()
    if not isinstance(body, dict):
        c.add(prefix, "must be an object")
        raise c.error()
    c.unknown(body, _REPORT_FIELDS, prefix)
    occurred_on = _occurred_on(c, body.get("occurred_on"), today, f"{prefix}.occurred_on")
    country = c.country(body.get("country"), f"{prefix}.country")
    location = c.text(body, "location", MAX_LOCATION_CHARS, prefix)
    transport_mode = c.choice(body, "transport_mode", TransportMode, prefix)
    route = _route(c, body.get("route"), prefix)
    items = _items(c, body.get("items"), prefix)
    infringement = c.choice(body, "infringement", Infringement, prefix)
    detection = c.choice(body, "detection", Detection, prefix)
    concealment = c.choice(body, "concealment", Concealment, prefix)
    notes = c.text(body, "notes", MAX_NOTES_CHARS, prefix)
    standard = parse_standard_parts(
        c, body, transport_mode.value if transport_mode else None, prefix
    )
    if (
        c.errors
        or occurred_on is None
        or country is None
        or transport_mode is None
        or route is None
        or infringement is None
        or detection is None
        or concealment is None
    ):
        raise c.error()
    return SeizureReport(
        occurred_on=occurred_on,
        country=country,
        location=location,
        transport_mode=transport_mode,
        route=route,
        items=items,
        infringement=infringement,
        detection=detection,
        concealment=concealment,
        notes=notes,
        standard=standard,
    )


def stored_seizure_report(body: Any, posted_at: datetime) -> SeizureReport:
    """A report read back from a stored JWS: validated when it was posted, so `occurred_on`
    is bounded by the day after posting, whatever the poster's time zone was."""
    return parse_seizure_report(body, today=(posted_at + timedelta(days=1)).date())


def check_reporting_country(
    report: SeizureReport, org_country: str | None, *, prefix: str = "body"
) -> None:
    """A report's `country` must be its sender organisation's country.

    Raises:
        Invalid: slug `invalid-body`, field `body.country` (also when the organisation has
            no country, since it then cannot report seizures).
    """
    if org_country is None or report.country != org_country:
        message = (
            "your organisation has no country, so it cannot file seizure reports"
            if org_country is None
            else f"must be your organisation's country ({org_country})"
        )
        raise Invalid(
            f"{prefix}.country {message}",
            slug="invalid-body",
            errors=(FieldError(f"{prefix}.country", message),),
        )
