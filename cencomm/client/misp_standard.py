"""The standard form read back from a MISP event as `export.misp.json` writes it: the
conveyance, document and container attributes of a `cencomm-seizure-report` object and the
`cencomm-party` objects `involved-in` it. Numbers come back as the report wrote them (the
attribute's `comment`, else its value)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

PARTY = "cencomm-party"
_CONVEYANCE = {
    "vessel-name": "vessel_name",
    "imo": "imo",
    "voyage": "voyage",
    "flight-number": "flight_number",
    "vehicle-registration": "registration",
    "registration-country": "registration_country",
    "courier": "courier",
    "tracking-number": "tracking_number",
}
_DOCUMENTS = {
    "air-waybill": "awb",
    "bill-of-lading": "bl",
    "cmr": "cmr",
    "invoice": "invoice",
    "courier-tracking": "courier_tracking",
    "document": "other",
}
_PARTY_FIELDS = ("role", "name", "country", "address", "identifier")


def _written(attribute: Mapping[str, Any]) -> Any:
    comment = attribute.get("comment")
    return comment if isinstance(comment, str) and comment else attribute.get("value")


def _attributes(obj: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [
        a
        for a in obj.get("Attribute") or []
        if isinstance(a, Mapping) and isinstance(a.get("object_relation"), str)
    ]


def standard_fields(
    report: Mapping[str, Any], objects: Iterable[Mapping[str, Any]]
) -> dict[str, Any]:
    """The body's `conveyance`, `documents`, `containers` and `parties` (only those present)."""
    body: dict[str, Any] = {}
    conveyance: dict[str, Any] = {}
    documents: list[dict[str, Any]] = []
    containers: list[Any] = []
    for attribute in _attributes(report):
        relation = attribute["object_relation"]
        if relation == "conveyance-mode":
            conveyance = {"mode": attribute.get("value")} | conveyance
        elif relation in _CONVEYANCE:
            conveyance[_CONVEYANCE[relation]] = _written(attribute)
        elif relation in _DOCUMENTS:
            documents.append({"type": _DOCUMENTS[relation], "number": _written(attribute)})
        elif relation == "container":
            containers.append(attribute.get("value"))
    if conveyance:
        body["conveyance"] = conveyance
    if documents:
        body["documents"] = documents
    if containers:
        body["containers"] = containers
    parties = []
    for obj in objects:
        refers = any(
            isinstance(ref, Mapping)
            and ref.get("relationship_type") == "involved-in"
            and ref.get("referenced_uuid") == report.get("uuid")
            for ref in obj.get("ObjectReference") or []
        )
        if obj.get("name") != PARTY or not refers:
            continue
        found = {a["object_relation"]: a for a in _attributes(obj)}
        parties.append({name: _written(found[name]) for name in _PARTY_FIELDS if name in found})
    if parties:
        body["parties"] = parties
    return body
