"""An operation as one MISP event (`{"Event": {...}}`), written piece by piece.

The mapping (docs/api.md, "MISP and STIX 2.1 exports"):

- the event: `info` "<code>: <name>", `uuid` derived from the group id (re-exports update the
  same event), `date` the export's day, `distribution` 0 (your organisation only), not
  published, one event tag `tlp:...`: the tightest code it holds, never looser than TLP:AMBER;
- each seizure report: a `cencomm-seizure-report` object (date, country, location,
  transport-mode, origin, transit (one attribute per country), destination, infringement,
  detection, concealment, notes, reporting-organisation, message-id, cid), each attribute
  tagged with the report's `tlp:...`;
- the standard form, on the report's object: conveyance-mode, vessel-name, imo, voyage,
  flight-number, vehicle-registration, registration-country, courier, tracking-number, one
  attribute per document by type (air-waybill, bill-of-lading, cmr, invoice,
  courier-tracking, document) and one per container; numbers in their normal form (what
  correlates, across events too), as written in the attribute's comment when that differs;
- each party: a `cencomm-party` object (role, name, normalised-name, country, address,
  identifier) `involved-in` the report's object;
- each item: a `cencomm-seizure-item` object (category, quantity, unit, hs-code,
  description, position) that the report object references (`includes`);
- each alert sent to the group: a `cencomm-alert` object (title, text, priority,
  ack-required, sent, respond-by, expires-at, reporting-organisation, alert-id, cid).

Every uuid is a UUIDv5 of what it stands for, so exporting twice gives the same uuids.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from cencomm.domain.analytics import number
from cencomm.domain.exchange import ExportedAlert, ExportedReport, Operation
from cencomm.domain.identifiers import compact, normal_party_name
from cencomm.domain.seizure_standard import DocumentType, Party, StandardParts
from cencomm.domain.tlp import derived_uuid, misp_tag, tightest

REPORT_TEMPLATE = "cencomm-seizure-report"
ITEM_TEMPLATE = "cencomm-seizure-item"
ALERT_TEMPLATE = "cencomm-alert"
PARTY_TEMPLATE = "cencomm-party"
TEMPLATE_VERSION = "1"
# The report's template gained the standard form's relations.
_VERSIONS = {REPORT_TEMPLATE: "2"}
_DESCRIPTIONS = {
    REPORT_TEMPLATE: "A seizure report of a customs enforcement operation (cencomm)",
    PARTY_TEMPLATE: "A party named in a cencomm seizure report (consignor, consignee …)",
    ITEM_TEMPLATE: "One item of a cencomm seizure report",
    ALERT_TEMPLATE: "A signed alert sent to a cencomm operation",
}
_INHERIT = "5"  # MISP distribution: as the event


def _stamp(moment: datetime) -> str:
    return str(int(moment.timestamp()))


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class _Object:
    """One MISP object being filled in."""

    def __init__(self, template: str, key: str, hc: str, at: datetime, comment: str) -> None:
        self.uuid = str(derived_uuid("misp", template, key))
        self._hc = hc
        self._at = _stamp(at)
        self._attributes: list[dict[str, Any]] = []
        self._references: list[dict[str, Any]] = []
        self.body: dict[str, Any] = {
            "name": template,
            "meta-category": "misc",
            "description": _DESCRIPTIONS[template],
            "template_uuid": str(derived_uuid("misp-template", template)),
            "template_version": _VERSIONS.get(template, TEMPLATE_VERSION),
            "uuid": self.uuid,
            "timestamp": self._at,
            "distribution": _INHERIT,
            "comment": comment,
            "Attribute": self._attributes,
            "ObjectReference": self._references,
        }

    def add(
        self,
        relation: str,
        value: str | None,
        *,
        type_: str = "text",
        category: str = "Other",
        comment: str | None = None,
    ) -> None:
        if value is None or value == "":
            return
        n = sum(1 for a in self._attributes if a["object_relation"] == relation)
        extra = {"comment": comment} if comment and comment != value else {}
        self._attributes.append(
            extra
            | {
                "uuid": str(derived_uuid(self.uuid, relation, n)),
                "object_relation": relation,
                "type": type_,
                "category": category,
                "value": value,
                "to_ids": False,
                "disable_correlation": type_ != "text" or relation in ("notes", "text"),
                "distribution": _INHERIT,
                "timestamp": self._at,
                "Tag": [{"name": misp_tag(self._hc)}],
            }
        )

    def refer(self, other: _Object, relationship: str) -> None:
        self._references.append(
            {
                "uuid": str(derived_uuid(self.uuid, relationship, other.uuid)),
                "object_uuid": self.uuid,
                "referenced_uuid": other.uuid,
                "relationship_type": relationship,
                "timestamp": self._at,
            }
        )


_DOCUMENT_RELATIONS = {
    DocumentType.AWB: "air-waybill",
    DocumentType.BL: "bill-of-lading",
    DocumentType.CMR: "cmr",
    DocumentType.INVOICE: "invoice",
    DocumentType.COURIER_TRACKING: "courier-tracking",
    DocumentType.OTHER: "document",
}


def _standard_attributes(main: _Object, parts: StandardParts) -> None:
    conveyance = parts.conveyance
    if conveyance is not None:
        main.add("conveyance-mode", conveyance.mode.value)
        main.add("vessel-name", conveyance.vessel_name)
        main.add("imo", conveyance.imo)
        main.add("voyage", conveyance.voyage)
        main.add("flight-number", conveyance.flight_number)
        if conveyance.registration:
            number = conveyance.registration
            main.add("vehicle-registration", compact(number), comment=number)
        main.add("registration-country", conveyance.registration_country)
        main.add("courier", conveyance.courier)
        if conveyance.tracking_number:
            number = conveyance.tracking_number
            main.add("tracking-number", compact(number), comment=number)
    for document in parts.documents:
        relation = _DOCUMENT_RELATIONS[document.type]
        main.add(relation, compact(document.number), comment=document.number)
    for container in parts.containers:
        main.add("container", container)


def _party_object(exported: ExportedReport, main: _Object, n: int, party: Party) -> _Object:
    obj = _Object(
        PARTY_TEMPLATE,
        f"{exported.message_id}:party:{n}",
        exported.hc,
        exported.reported_at,
        f"{party.role.value} in seizure report {exported.seq}",
    )
    obj.add("role", party.role.value)
    obj.add("name", party.name)
    obj.add("normalised-name", normal_party_name(party.name))
    obj.add("country", party.country)
    obj.add("address", party.address)
    if party.identifier:
        obj.add("identifier", compact(party.identifier), comment=party.identifier)
    obj.refer(main, "involved-in")
    return obj


def report_objects(exported: ExportedReport) -> list[dict[str, Any]]:
    """The report's object, then one object per item, then one per party."""
    r = exported.report
    key = str(exported.message_id)
    main = _Object(
        REPORT_TEMPLATE,
        key,
        exported.hc,
        exported.reported_at,
        f"seizure report {exported.seq} of the operation, {exported.hc}",
    )
    main.add("date", r.occurred_on.isoformat() + "T00:00:00+00:00", type_="datetime")
    main.add("country", r.country)
    main.add("location", r.location)
    main.add("transport-mode", r.transport_mode.value)
    main.add("origin", r.route.origin)
    for country in r.route.transit:
        main.add("transit", country)
    main.add("destination", r.route.destination)
    main.add("infringement", r.infringement.value)
    main.add("detection", r.detection.value)
    main.add("concealment", r.concealment.value)
    main.add("notes", r.notes, type_="comment")
    main.add("reporting-organisation", exported.organization.name)
    main.add("message-id", key, category="Internal reference")
    main.add("cid", exported.cid, category="Internal reference")
    _standard_attributes(main, r.standard)
    items = []
    for position, item in enumerate(r.items):
        obj = _Object(
            ITEM_TEMPLATE,
            f"{key}:{position}",
            exported.hc,
            exported.reported_at,
            f"item {position + 1} of seizure report {exported.seq}",
        )
        obj.add("position", str(position + 1), type_="counter")
        obj.add("category", item.category.value)
        obj.add("quantity", str(number(float(item.quantity))), type_="float")
        obj.add("unit", item.unit.value)
        obj.add("hs-code", item.hs_code)
        obj.add("description", item.description)
        main.refer(obj, "includes")
        items.append(obj.body)
    parties = [
        _party_object(exported, main, n, party).body for n, party in enumerate(r.standard.parties)
    ]
    return [main.body, *items, *parties]


def alert_object(alert: ExportedAlert) -> dict[str, Any]:
    obj = _Object(
        ALERT_TEMPLATE,
        str(alert.alert_id),
        alert.hc,
        alert.created_at,
        f"{alert.priority} alert, {alert.hc}",
    )
    obj.add("title", alert.title)
    obj.add("text", alert.text, type_="comment")
    obj.add("priority", alert.priority)
    obj.add("ack-required", "1" if alert.ack_required else "0", type_="boolean")
    obj.add("sent", alert.created_at.isoformat(), type_="datetime")
    if alert.respond_by is not None:
        obj.add("respond-by", alert.respond_by.isoformat(), type_="datetime")
    if alert.expires_at is not None:
        obj.add("expires-at", alert.expires_at.isoformat(), type_="datetime")
    obj.add("reporting-organisation", alert.organization.name)
    obj.add("alert-id", str(alert.alert_id), category="Internal reference")
    obj.add("cid", alert.cid, category="Internal reference")
    return obj.body


class MispWriter:
    """Writes the event: `head()`, then `reports(...)` / `alerts(...)` any number of times,
    then `tail()`. JSON keys are unordered, so the event's tag can come after its objects and
    be the tightest code seen."""

    def __init__(self, operation: Operation) -> None:
        self._operation = operation
        self._codes: set[str] = set()
        self._first = True
        self.reports = 0
        self.alerts = 0

    def head(self) -> bytes:
        op = self._operation
        event = {
            "uuid": str(derived_uuid("misp-event", *op.key)),
            "info": f"{op.code}: {op.name}",
            "date": op.exported_at.date().isoformat(),
            "timestamp": _stamp(op.exported_at),
            "distribution": "0",
            "threat_level_id": "4",
            "analysis": "2",
            "published": False,
            "Orgc": {"uuid": str(derived_uuid("organisation", "cencomm")), "name": "cencomm"},
        }
        return b'{"Event":' + _dumps(event)[:-1] + b',"Object":['

    def _objects(self, objects: list[dict[str, Any]]) -> bytes:
        if not objects:
            return b""
        body = b",".join(_dumps(o) for o in objects)
        if not self._first:
            body = b"," + body
        self._first = False
        return body

    def add_reports(self, reports: list[ExportedReport]) -> bytes:
        self._codes.update(r.hc for r in reports)
        self.reports += len(reports)
        return self._objects([o for r in reports for o in report_objects(r)])

    def add_alerts(self, alerts: list[ExportedAlert]) -> bytes:
        self._codes.update(a.hc for a in alerts)
        self.alerts += len(alerts)
        return self._objects([alert_object(a) for a in alerts])

    def tail(self) -> bytes:
        tag = [{"name": misp_tag(tightest(self._codes).value)}]
        return b'],"Tag":' + _dumps(tag) + b"}}"
