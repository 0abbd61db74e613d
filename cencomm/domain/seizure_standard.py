"""The standard long form of a seizure report: conveyance, documents, containers and parties.

A simplified report may carry any of them; a group whose `report_form` is `standard` requires
the conveyance and at least one document (`check_report_form`). Every number with a check
digit is verified (ISO 6346 containers, IMO ship numbers, air waybills), and every error of the
body is reported at once, as for the rest of the report.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from cencomm.domain.errors import FieldError, Invalid
from cencomm.domain.field_collector import FieldCollector
from cencomm.domain.identifiers import (
    Identifier,
    IdentifierKind,
    awb_check_ok,
    compact,
    normal_container,
    normal_flight,
    normal_imo,
    normal_party_name,
)

MAX_DOCUMENTS = 20
MAX_CONTAINERS = 50
MAX_PARTIES = 20
MAX_NAME_CHARS = 200
MAX_ADDRESS_CHARS = 300
MAX_VOYAGE_CHARS = 32
MAX_NUMBER_CHARS = 64
# Bounds on a number once spaces and punctuation are gone (documents, tracking, registrations).
MIN_COMPACT = 2
MAX_COMPACT = 40


class ReportForm(enum.StrEnum):
    SIMPLIFIED = "simplified"
    STANDARD = "standard"


class ConveyanceMode(enum.StrEnum):
    VESSEL = "vessel"
    FLIGHT = "flight"
    VEHICLE = "vehicle"
    COURIER = "courier"


class DocumentType(enum.StrEnum):
    AWB = "awb"
    BL = "bl"
    CMR = "cmr"
    INVOICE = "invoice"
    COURIER_TRACKING = "courier_tracking"
    OTHER = "other"


class PartyRole(enum.StrEnum):
    CONSIGNOR = "consignor"
    CONSIGNEE = "consignee"
    DECLARANT = "declarant"
    CARRIER = "carrier"
    NOTIFY = "notify"


# Which transport modes each conveyance suits.
CONVEYANCE_TRANSPORT: dict[ConveyanceMode, frozenset[str]] = {
    ConveyanceMode.VESSEL: frozenset({"sea"}),
    ConveyanceMode.FLIGHT: frozenset({"air"}),
    ConveyanceMode.VEHICLE: frozenset({"road", "rail"}),
    ConveyanceMode.COURIER: frozenset({"express_courier", "postal"}),
}

# The fields of each conveyance mode: (name, required).
_CONVEYANCE_FIELDS: dict[ConveyanceMode, tuple[tuple[str, bool], ...]] = {
    ConveyanceMode.VESSEL: (("vessel_name", True), ("imo", False), ("voyage", False)),
    ConveyanceMode.FLIGHT: (("flight_number", True),),
    ConveyanceMode.VEHICLE: (("registration", True), ("registration_country", False)),
    ConveyanceMode.COURIER: (("courier", True), ("tracking_number", True)),
}
_DOCUMENT_FIELDS = frozenset({"type", "number"})
_PARTY_FIELDS = frozenset({"role", "name", "country", "address", "identifier"})


@dataclass(frozen=True, slots=True)
class Conveyance:
    """The means of transport, by mode; fields a mode does not have are None."""

    mode: ConveyanceMode
    vessel_name: str | None = None
    imo: str | None = None  # canonical: IMO and seven digits
    voyage: str | None = None
    flight_number: str | None = None  # canonical: LH400
    registration: str | None = None
    registration_country: str | None = None
    courier: str | None = None
    tracking_number: str | None = None

    def to_json(self) -> dict[str, Any]:
        fields = _CONVEYANCE_FIELDS[self.mode]
        return {"mode": self.mode.value} | {name: getattr(self, name) for name, _ in fields}


@dataclass(frozen=True, slots=True)
class Document:
    type: DocumentType
    number: str

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type.value, "number": self.number}


@dataclass(frozen=True, slots=True)
class Party:
    role: PartyRole
    name: str
    country: str
    address: str | None
    identifier: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "role": self.role.value,
            "name": self.name,
            "country": self.country,
            "address": self.address,
            "identifier": self.identifier,
        }


@dataclass(frozen=True, slots=True)
class StandardParts:
    """What the standard form adds to a report (all empty on a simplified one)."""

    conveyance: Conveyance | None = None
    documents: tuple[Document, ...] = ()
    containers: tuple[str, ...] = ()
    parties: tuple[Party, ...] = ()


NO_STANDARD_PARTS = StandardParts()


def parse_standard_parts(
    c: FieldCollector, body: dict[str, Any], transport_mode: str | None, prefix: str
) -> StandardParts:
    """The four standard-form fields of `body`, their errors added to `c`."""
    return StandardParts(
        conveyance=_conveyance(c, body.get("conveyance"), transport_mode, f"{prefix}.conveyance"),
        documents=_documents(c, body.get("documents"), f"{prefix}.documents"),
        containers=_containers(c, body.get("containers"), f"{prefix}.containers"),
        parties=_parties(c, body.get("parties"), f"{prefix}.parties"),
    )


def check_report_form(parts: StandardParts, form: ReportForm, *, prefix: str = "body") -> None:
    """A group on the standard form requires the conveyance and at least one document.

    Raises:
        Invalid: `invalid-body`, naming each missing field.
    """
    if form is not ReportForm.STANDARD:
        return
    errors = []
    if parts.conveyance is None:
        errors.append(
            FieldError(f"{prefix}.conveyance", "is required in this group (standard form)")
        )
    if not parts.documents:
        errors.append(
            FieldError(f"{prefix}.documents", "must hold at least one document in this group")
        )
    if errors:
        first = errors[0]
        raise Invalid(f"{first.field} {first.message}", slug="invalid-body", errors=tuple(errors))


def _string(c: FieldCollector, value: Any, field: str, max_chars: int) -> str | None:
    """A required string, stripped, 1..max_chars."""
    if value is None:
        c.add(field, "is required")
        return None
    if not isinstance(value, str):
        c.add(field, "must be a string")
        return None
    stripped = value.strip()
    if not stripped:
        c.add(field, "must not be blank")
        return None
    if len(stripped) > max_chars:
        c.add(field, f"must be at most {max_chars} characters")
        return None
    return stripped


def _number(c: FieldCollector, value: Any, field: str) -> str | None:
    """A reference number: a string whose letters and digits count 2 to 40."""
    text = _string(c, value, field, MAX_NUMBER_CHARS)
    if text is None:
        return None
    if not MIN_COMPACT <= len(compact(text)) <= MAX_COMPACT:
        c.add(field, f"must hold {MIN_COMPACT} to {MAX_COMPACT} letters or digits")
        return None
    return text


def _list(c: FieldCollector, value: Any, field: str, most: int) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        c.add(field, "must be a list")
        return []
    if len(value) > most:
        c.add(field, f"must have at most {most} entries")
        return []
    return value


def _conveyance(
    c: FieldCollector, value: Any, transport_mode: str | None, field: str
) -> Conveyance | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        c.add(field, "must be an object {mode, …}")
        return None
    before = len(c.errors)
    mode = c.choice(value, "mode", ConveyanceMode, field)
    if mode is None:
        return None
    fields = _CONVEYANCE_FIELDS[mode]
    c.unknown(value, frozenset({"mode"} | {name for name, _ in fields}), field)
    if transport_mode is not None and transport_mode not in CONVEYANCE_TRANSPORT[mode]:
        suits = " or ".join(sorted(CONVEYANCE_TRANSPORT[mode]))
        c.add(f"{field}.mode", f"a {mode.value} suits transport_mode {suits}")
    found: dict[str, str | None] = {}
    for name, required in fields:
        raw = value.get(name)
        if raw is None and not required:
            found[name] = None
            continue
        found[name] = _conveyance_field(c, name, raw, f"{field}.{name}")
    if len(c.errors) != before:
        return None
    return Conveyance(mode=mode, **found)


def _conveyance_field(c: FieldCollector, name: str, raw: Any, field: str) -> str | None:
    if name == "imo":
        text = _string(c, raw, field, MAX_NUMBER_CHARS)
        if text is not None and (text := normal_imo(text)) is None:
            c.add(field, "must be an IMO number: seven digits with a valid check digit")
        return text
    if name == "flight_number":
        text = _string(c, raw, field, MAX_NUMBER_CHARS)
        if text is not None and (text := normal_flight(text)) is None:
            c.add(field, "must be an airline designator and 1 to 4 digits (LH400)")
        return text
    if name == "registration_country":
        return c.country(raw, field)
    if name in ("registration", "tracking_number"):
        return _number(c, raw, field)
    limit = MAX_VOYAGE_CHARS if name == "voyage" else MAX_NAME_CHARS
    return _string(c, raw, field, limit)


def _documents(c: FieldCollector, value: Any, field: str) -> tuple[Document, ...]:
    documents: list[Document] = []
    for index, raw in enumerate(_list(c, value, field, MAX_DOCUMENTS)):
        where = f"{field}[{index}]"
        if not isinstance(raw, dict):
            c.add(where, "must be an object {type, number}")
            continue
        before = len(c.errors)
        c.unknown(raw, _DOCUMENT_FIELDS, where)
        kind = c.choice(raw, "type", DocumentType, where)
        number = _number(c, raw.get("number"), f"{where}.number")
        if kind is DocumentType.AWB and number is not None and not awb_check_ok(compact(number)):
            c.add(
                f"{where}.number",
                "must be an air waybill number: a 3-digit prefix and 8 digits whose last is "
                "the first 7 modulo 7",
            )
        if len(c.errors) == before and kind is not None and number is not None:
            documents.append(Document(kind, number))
    return tuple(documents)


def _containers(c: FieldCollector, value: Any, field: str) -> tuple[str, ...]:
    containers: list[str] = []
    for index, raw in enumerate(_list(c, value, field, MAX_CONTAINERS)):
        where = f"{field}[{index}]"
        text = _string(c, raw, where, MAX_NUMBER_CHARS)
        if text is None:
            continue
        number = normal_container(text)
        if number is None:
            c.add(
                where,
                "must be an ISO 6346 container number (owner code, U/J/Z, six digits and a "
                "valid check digit)",
            )
        elif number in containers:
            c.add(where, "repeats an earlier container")
        else:
            containers.append(number)
    return tuple(containers)


def _parties(c: FieldCollector, value: Any, field: str) -> tuple[Party, ...]:
    parties: list[Party] = []
    for index, raw in enumerate(_list(c, value, field, MAX_PARTIES)):
        where = f"{field}[{index}]"
        if not isinstance(raw, dict):
            c.add(where, "must be an object {role, name, country, address?, identifier?}")
            continue
        before = len(c.errors)
        c.unknown(raw, _PARTY_FIELDS, where)
        role = c.choice(raw, "role", PartyRole, where)
        name = _string(c, raw.get("name"), f"{where}.name", MAX_NAME_CHARS)
        if name is not None and not any(ch.isalnum() for ch in name):
            c.add(f"{where}.name", "must contain letters or digits")
        country = c.country(raw.get("country"), f"{where}.country")
        address = c.text(raw, "address", MAX_ADDRESS_CHARS, where)
        identifier = (
            _number(c, raw.get("identifier"), f"{where}.identifier")
            if raw.get("identifier") is not None
            else None
        )
        if len(c.errors) == before and role and name and country:
            parties.append(Party(role, name, country, address, identifier))
    return tuple(parties)


def identifiers_of(parts: StandardParts) -> tuple[Identifier, ...]:
    """Every identifier of a report in its normal form, each (kind, value) once, sorted: what
    correlations and watch lists match on."""
    found: dict[tuple[IdentifierKind, str], Identifier] = {}

    def add(kind: IdentifierKind, value: str | None, label: str) -> None:
        if value and (kind, value) not in found:
            found[(kind, value)] = Identifier(kind, value, label)

    conveyance = parts.conveyance
    if conveyance is not None:
        add(IdentifierKind.VESSEL, conveyance.imo, conveyance.imo or "")
        add(IdentifierKind.FLIGHT, conveyance.flight_number, conveyance.flight_number or "")
        if conveyance.registration:
            add(IdentifierKind.VEHICLE, compact(conveyance.registration), conveyance.registration)
        if conveyance.tracking_number:
            number = conveyance.tracking_number
            add(IdentifierKind.TRACKING, compact(number), number)
    for document in parts.documents:
        kind = (
            IdentifierKind.TRACKING
            if document.type is DocumentType.COURIER_TRACKING
            else IdentifierKind.DOCUMENT
        )
        add(kind, compact(document.number), document.number)
    for container in parts.containers:
        add(IdentifierKind.CONTAINER, container, container)
    for party in parts.parties:
        add(IdentifierKind.PARTY, normal_party_name(party.name), party.name)
        if party.identifier:
            add(IdentifierKind.PARTY_ID, compact(party.identifier), party.identifier)
    return tuple(sorted(found.values()))
