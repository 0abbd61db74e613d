"""The standard form's columns of the seizure import template: conveyance, documents,
containers and the consignor and consignee, one value per report (report-level cells).

- `conveyance_mode` (vessel | flight | vehicle | courier) and the fields of that mode:
  `vessel_name`, `imo`, `voyage`; `flight_number`; `registration`, `registration_country`;
  `courier`, `tracking_number`;
- `documents`: `type:number` entries separated by `;` (`awb:020-12345675; bl:MEDU447122`);
- `containers`: ISO 6346 numbers separated by `;`;
- `consignor_name`, `consignor_country`, `consignor_address`, `consignor_identifier` and the
  same four for the consignee.

Cells become the report body's `conveyance`, `documents`, `containers` and `parties`, which the
server's own validator then checks; its errors (`body.parties[1].country`) are turned back into
these columns (`consignee_country`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

CONVEYANCE_FIELDS: tuple[str, ...] = (
    "vessel_name",
    "imo",
    "voyage",
    "flight_number",
    "registration",
    "registration_country",
    "courier",
    "tracking_number",
)
PARTY_ROLES: tuple[str, ...] = ("consignor", "consignee")
PARTY_FIELDS: tuple[str, ...] = ("name", "country", "address", "identifier")
STANDARD_FIELDS: tuple[str, ...] = (
    "conveyance_mode",
    *CONVEYANCE_FIELDS,
    "documents",
    "containers",
    *(f"{role}_{name}" for role in PARTY_ROLES for name in PARTY_FIELDS),
)
COUNTRY_FIELDS = frozenset({"registration_country", *(f"{role}_country" for role in PARTY_ROLES)})
_ENTRY = re.compile(r"\s*([A-Za-z_]+)\s*:\s*(.*?)\s*")


def split_list(text: str) -> list[str]:
    """`a; b;; c` → [a, b, c]."""
    return [part.strip() for part in text.split(";") if part.strip()]


def parse_documents(text: str) -> tuple[list[dict[str, str]], str | None]:
    """`awb:020-12345675; bl:MEDU447122` → [{type, number}, …], and a problem when an entry is
    not `type:number` (the validator judges the types and numbers)."""
    documents: list[dict[str, str]] = []
    for entry in split_list(text):
        match = _ENTRY.fullmatch(entry)
        if match is None or not match.group(2):
            return documents, (
                f"each document must be written type:number, separated by ; "
                f"(awb:020-12345675; bl:MEDU447122): {entry!r} is not"
            )
        documents.append({"type": match.group(1).lower(), "number": match.group(2)})
    return documents, None


def standard_body(values: Mapping[str, Any]) -> dict[str, Any]:
    """The body's standard-form fields from a report's (converted) cells; absent when blank."""
    body: dict[str, Any] = {}
    conveyance = {name: values[name] for name in CONVEYANCE_FIELDS if values.get(name)}
    if values.get("conveyance_mode") or conveyance:
        mode = values.get("conveyance_mode")
        body["conveyance"] = ({"mode": mode} if mode else {}) | conveyance
    if values.get("documents"):
        body["documents"] = values["documents"]
    if values.get("containers"):
        body["containers"] = values["containers"]
    parties = []
    for role in PARTY_ROLES:
        fields = {name: values.get(f"{role}_{name}") for name in PARTY_FIELDS}
        if any(fields.values()):
            parties.append({"role": role} | {k: v for k, v in fields.items() if v})
    if parties:
        body["parties"] = parties
    return body


def standard_column(path: str, body: Mapping[str, Any]) -> str | None:
    """The template column of a validator's field path (`conveyance.imo`, `documents[0].type`,
    `parties[1].country` …), or None when the path is not the standard form's."""
    head = path.split(".", 1)[0].split("[", 1)[0]
    if head == "conveyance":
        rest = path.removeprefix("conveyance").lstrip(".")
        return rest if rest in CONVEYANCE_FIELDS else "conveyance_mode"
    if head in ("documents", "containers"):
        return head
    if head == "parties":
        match = re.fullmatch(r"parties\[(\d+)\](?:\.(\w+))?", path)
        parties = body.get("parties") or []
        if match is None or int(match.group(1)) >= len(parties):
            return "consignee_name"
        role = parties[int(match.group(1))].get("role", "consignee")
        name = match.group(2) if match.group(2) in PARTY_FIELDS else "name"
        return f"{role}_{name}"
    return None


def plain(value: Any) -> str:
    """A converted cell as text again (documents as `type:number; …`)."""
    if isinstance(value, list):
        return "; ".join(
            f"{v.get('type')}:{v.get('number')}" if isinstance(v, dict) else str(v) for v in value
        )
    return str(value)
