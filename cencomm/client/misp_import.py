"""MISP events back to seizure report bodies: the `cencomm-seizure-report` objects (and the
`cencomm-seizure-item` objects each `includes`, and the standard form: `misp_standard`) that
`export.misp.json` writes.

Every report is checked with the server's own rules before anything is sent, and each gets a
`cid` derived from its MISP object's uuid and the target group, so importing the same event
twice posts nothing twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from cencomm.client.misp_standard import standard_fields
from cencomm.domain.envelopes import HandlingCode
from cencomm.domain.errors import Invalid
from cencomm.domain.seizures import parse_seizure_report

REPORT = "cencomm-seizure-report"
ITEM = "cencomm-seizure-item"
_CID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:cencomm:misp-import")
_TAGS = {f"tlp:{c.value.removeprefix('TLP:').lower()}": c for c in HandlingCode}
_TAGS["tlp:white"] = HandlingCode.CLEAR  # TLP 1.0's name for it
_ORDER = list(HandlingCode)  # loosest first
_TEXT_FIELDS = {
    "country": "country",
    "location": "location",
    "transport-mode": "transport_mode",
    "infringement": "infringement",
    "detection": "detection",
    "concealment": "concealment",
    "notes": "notes",
}
_ITEM_FIELDS = {
    "category": "category",
    "unit": "unit",
    "hs-code": "hs_code",
    "description": "description",
}


@dataclass(frozen=True, slots=True)
class ImportedReport:
    object_uuid: str
    cid: str
    hc: str
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ImportProblem:
    where: str  # the MISP object's uuid (or "event")
    field: str
    message: str


def _attributes(obj: Mapping[str, Any]) -> dict[str, list[Mapping[str, Any]]]:
    found: dict[str, list[Mapping[str, Any]]] = {}
    for attribute in obj.get("Attribute") or []:
        if isinstance(attribute, Mapping) and isinstance(attribute.get("object_relation"), str):
            found.setdefault(attribute["object_relation"], []).append(attribute)
    return found


def _value(attrs: dict[str, list[Mapping[str, Any]]], relation: str) -> Any:
    values = attrs.get(relation)
    return values[0].get("value") if values else None


def _number(raw: Any) -> Any:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return raw  # left for the report's own check to name
    return int(value) if value.is_integer() else value


def _handling(obj: Mapping[str, Any], default: str | None) -> str | None:
    """The tightest `tlp:` tag on the object's attributes, else `default`."""
    codes = {
        _TAGS[tag["name"].lower()]
        for attribute in obj.get("Attribute") or []
        for tag in attribute.get("Tag") or []
        if isinstance(tag, Mapping)
        and isinstance(tag.get("name"), str)
        and tag["name"].lower() in _TAGS
    }
    return max(codes, key=_ORDER.index).value if codes else default


def _body(
    obj: Mapping[str, Any], items: list[Mapping[str, Any]], objects: list[Mapping[str, Any]]
) -> dict[str, Any]:
    attrs = _attributes(obj)
    body: dict[str, Any] = {}
    occurred = _value(attrs, "date")
    body["occurred_on"] = occurred[:10] if isinstance(occurred, str) else occurred
    for relation, name in _TEXT_FIELDS.items():
        if (value := _value(attrs, relation)) is not None:
            body[name] = value
    body["route"] = {
        "origin": _value(attrs, "origin"),
        "transit": [a.get("value") for a in attrs.get("transit", [])],
        "destination": _value(attrs, "destination"),
    }
    lines = []
    for item in items:
        item_attrs = _attributes(item)
        line: dict[str, Any] = {"quantity": _number(_value(item_attrs, "quantity"))}
        for relation, name in _ITEM_FIELDS.items():
            if (value := _value(item_attrs, relation)) is not None:
                line[name] = value
        position = _number(_value(item_attrs, "position"))
        lines.append((position if isinstance(position, int) else 0, line))
    body["items"] = [line for _, line in sorted(lines, key=lambda pair: pair[0])]
    return body | standard_fields(obj, objects)


def reports_of(
    document: Any, group_id: str, *, today: date, default_hc: str | None = None
) -> tuple[list[ImportedReport], list[ImportProblem]]:
    """Every seizure report of a MISP event, or every problem found (nothing is half taken).

    Args:
        document: the decoded JSON: `{"Event": {...}}` (or the bare event).
        group_id: the target group (part of each `cid`).
        today: the latest acceptable `occurred_on`.
        default_hc: the handling code of a report whose attributes carry no `tlp:` tag; None:
            such a report is a problem.
    """
    event = document.get("Event", document) if isinstance(document, Mapping) else None
    if not isinstance(event, Mapping) or not isinstance(event.get("Object", []), list):
        return [], [ImportProblem("event", "Event", 'not a MISP event ({"Event": {...}})')]
    objects = [o for o in event.get("Object", []) if isinstance(o, Mapping)]
    by_uuid = {str(o.get("uuid")): o for o in objects}
    reports: list[ImportedReport] = []
    problems: list[ImportProblem] = []
    for obj in objects:
        if obj.get("name") != REPORT:
            continue
        where = str(obj.get("uuid") or "?")
        items = [
            by_uuid[str(ref.get("referenced_uuid"))]
            for ref in obj.get("ObjectReference") or []
            if isinstance(ref, Mapping)
            and ref.get("relationship_type") == "includes"
            and by_uuid.get(str(ref.get("referenced_uuid")), {}).get("name") == ITEM
        ]
        body = _body(obj, items, objects)
        hc = _handling(obj, default_hc)
        if hc is None:
            problems.append(ImportProblem(where, "Tag", "no tlp: tag (give --hc)"))
        try:
            parse_seizure_report(body, today=today)
        except Invalid as exc:
            errors = exc.errors or ()
            problems += [ImportProblem(where, e.field, e.message) for e in errors]
            if not errors:
                problems.append(ImportProblem(where, "body", str(exc)))
            continue
        if hc is not None:
            cid = str(uuid.uuid5(_CID_NAMESPACE, f"{group_id}:{where}"))
            reports.append(ImportedReport(where, cid, hc, body))
    if not problems and not reports:
        problems.append(ImportProblem("event", "Object", f"no {REPORT} object to import"))
    return reports, problems
