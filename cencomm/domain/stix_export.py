"""An operation as one STIX 2.1 bundle, written piece by piece; custom properties
(`x_cencomm_…`) only for the standard form's fields STIX has no object for.

The mapping (docs/api.md, "MISP and STIX 2.1 exports"):

- each reporting organisation: an `identity` (`identity_class` organization, its country in
  the description), the `created_by_ref` of what it reported;
- each seizure report: a `report` (`report_types` ["observed-data"], `published` when it was
  posted, `name` "Seizure <occurred_on> <country>: <categories>", the whole report in readable
  lines in `description`, the coded fields as `labels` (`transport-mode:air`,
  `infringement:...`, `detection:...`, `concealment:...`, `category:...`), `object_refs` the
  `location` objects of its country, origin, transit and destination, the message id and cid
  as an `external_references` entry (`source_name` "cencomm"));
- the standard form of a report: each party an `identity` (`identity_class` organization,
  `roles` [its role], `contact_information` its address, its country and identifier in the
  description) in the report's `object_refs`, `located-at` the `location` of its country (a
  `relationship`); the conveyance, documents and containers, which STIX 2.1 has no object for,
  as the report's custom properties `x_cencomm_conveyance` ({mode, …} as posted),
  `x_cencomm_documents` ([{type, number}]) and `x_cencomm_containers` ([ISO 6346 numbers]),
  and in readable lines in its description. A report without them has no custom property;
- each alert sent to the group: a `note` (`abstract` its title, `content` its text,
  `labels` `priority:...` and `ack-required` when so, `object_refs` the operation);
- countries: one `location` each (`country`, `name` the ISO code);
- the operation: a `grouping` (`context` "suspicious-activity") of all of the above, made by
  a `system` identity named "cencomm";
- handling codes: `object_marking_refs` to the published TLP 2.0 marking definitions, which
  the bundle carries; the grouping is marked with the tightest code it holds, never looser
  than TLP:AMBER.

Every id is a UUIDv5 of what it stands for and every timestamp comes from the data, so an object
exported twice is the same object (same id, same `modified`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from cencomm.domain.analytics import number
from cencomm.domain.clock import rfc3339
from cencomm.domain.exchange import ExportedAlert, ExportedReport, Operation, Reporter
from cencomm.domain.seizure_standard import StandardParts
from cencomm.domain.tlp import derived_uuid, marking_definition, marking_id, tightest


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _time(moment: datetime) -> str:
    """STIX timestamps: UTC, millisecond precision, a `Z`."""
    return rfc3339(moment)[:23] + "Z"


def stix_id(kind: str, *parts: object) -> str:
    return f"{kind}--{derived_uuid('stix', kind, *parts)}"


def identity(org: Reporter) -> dict[str, Any]:
    at = _time(org.created_at)
    where = f" of country {org.country}" if org.country else ""
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": stix_id("identity", org.id),
        "created": at,
        "modified": at,
        "name": org.name,
        "identity_class": "organization",
        "sectors": ["government-national"],
        "description": f"A cencomm organisation{where} (id {org.id})",
    }


PLATFORM_ID = "identity--" + str(derived_uuid("stix", "identity", "cencomm-platform"))
_EPOCH = "2020-01-01T00:00:00.000Z"  # for objects whose content never changes


def platform() -> dict[str, Any]:
    """The system that made the grouping: its `created_by_ref`, and always one of its
    `object_refs` (which may not be empty, even for an operation with nothing to export)."""
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": PLATFORM_ID,
        "created": _EPOCH,
        "modified": _EPOCH,
        "name": "cencomm",
        "identity_class": "system",
        "description": "The cencomm platform that exported this operation",
    }


def location(country: str) -> dict[str, Any]:
    return {
        "type": "location",
        "spec_version": "2.1",
        "id": stix_id("location", country),
        "created": _EPOCH,
        "modified": _EPOCH,
        "name": country,
        "country": country,
    }


def _description(exported: ExportedReport) -> str:
    r = exported.report
    lines = [
        f"Occurred on: {r.occurred_on.isoformat()}",
        f"Country: {r.country}",
    ]
    if r.location:
        lines.append(f"Location: {r.location}")
    lines += [
        f"Transport mode: {r.transport_mode.value}",
        f"Route: {' > '.join([r.route.origin, *r.route.transit, r.route.destination])}",
    ]
    for n, item in enumerate(r.items, start=1):
        line = f"Item {n}: {item.category.value}, {number(float(item.quantity))} {item.unit.value}"
        if item.hs_code:
            line += f", HS {item.hs_code}"
        if item.description:
            line += f", {item.description}"
        lines.append(line)
    lines += [
        f"Infringement: {r.infringement.value}",
        f"Detection: {r.detection.value}",
        f"Concealment: {r.concealment.value}",
    ]
    if r.notes:
        lines.append(f"Notes: {r.notes}")
    lines += _standard_lines(r.standard)
    lines.append(f"Handling: {exported.hc}")
    return "\n".join(lines)


def _standard_lines(parts: StandardParts) -> list[str]:
    lines = []
    if parts.conveyance is not None:
        fields = parts.conveyance.to_json()
        mode = fields.pop("mode")
        details = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in fields.items() if v)
        lines.append(f"Conveyance: {mode}, {details}")
    lines += [f"Document: {d.type.value} {d.number}" for d in parts.documents]
    if parts.containers:
        lines.append(f"Containers: {', '.join(parts.containers)}")
    lines += [f"Party: {p.role.value} {p.name} ({p.country})" for p in parts.parties]
    return lines


def report_countries(exported: ExportedReport) -> list[str]:
    r = exported.report
    route = [r.country, r.route.origin, *r.route.transit, r.route.destination]
    return list(dict.fromkeys([*route, *(p.country for p in r.standard.parties)]))


def party_objects(exported: ExportedReport) -> list[dict[str, Any]]:
    """Each party of the report as an identity located at its country, marked as the report."""
    at = _time(exported.reported_at)
    common = {
        "spec_version": "2.1",
        "created": at,
        "modified": at,
        "created_by_ref": stix_id("identity", exported.organization.id),
        "object_marking_refs": [marking_id(exported.hc)],
    }
    objects: list[dict[str, Any]] = []
    for n, party in enumerate(exported.report.standard.parties):
        party_id = stix_id("identity", exported.message_id, "party", n)
        description = f"{party.role.value} named in a seizure report, country {party.country}"
        if party.identifier:
            description += f", identifier {party.identifier}"
        identity: dict[str, Any] = {
            "type": "identity",
            "id": party_id,
            **common,
            "name": party.name,
            "identity_class": "organization",
            "roles": [party.role.value],
            "description": description,
        }
        if party.address:
            identity["contact_information"] = party.address
        objects.append(identity)
        objects.append(
            {
                "type": "relationship",
                "id": stix_id("relationship", exported.message_id, "party", n),
                **common,
                "relationship_type": "located-at",
                "source_ref": party_id,
                "target_ref": stix_id("location", party.country),
            }
        )
    return objects


def _custom_properties(parts: StandardParts) -> dict[str, Any]:
    custom: dict[str, Any] = {}
    if parts.conveyance is not None:
        custom["x_cencomm_conveyance"] = {
            k: v for k, v in parts.conveyance.to_json().items() if v is not None
        }
    if parts.documents:
        custom["x_cencomm_documents"] = [d.to_json() for d in parts.documents]
    if parts.containers:
        custom["x_cencomm_containers"] = list(parts.containers)
    return custom


def seizure_report(exported: ExportedReport, refs: Iterable[str] = ()) -> dict[str, Any]:
    """The report; `refs` are its parties' objects (identities and their relationships)."""
    r = exported.report
    at = _time(exported.reported_at)
    categories = list(dict.fromkeys(item.category.value for item in r.items))
    locations = [stix_id("location", c) for c in report_countries(exported)]
    return {
        "type": "report",
        "spec_version": "2.1",
        "id": stix_id("report", exported.message_id),
        "created": at,
        "modified": at,
        "created_by_ref": stix_id("identity", exported.organization.id),
        "name": f"Seizure {r.occurred_on.isoformat()} {r.country}: {', '.join(categories)}",
        "description": _description(exported),
        "report_types": ["observed-data"],
        "published": at,
        "object_refs": [*locations, *refs],
        "labels": [
            f"transport-mode:{r.transport_mode.value}",
            f"infringement:{r.infringement.value}",
            f"detection:{r.detection.value}",
            f"concealment:{r.concealment.value}",
            *(f"category:{c}" for c in categories),
        ],
        "external_references": [
            {
                "source_name": "cencomm",
                "external_id": str(exported.message_id),
                "description": f"seizure message {exported.seq}, cid {exported.cid}",
            }
        ],
        "object_marking_refs": [marking_id(exported.hc)],
        **_custom_properties(r.standard),
    }


def alert_note(alert: ExportedAlert, operation_id: str) -> dict[str, Any]:
    at = _time(alert.created_at)
    labels = [f"priority:{alert.priority}"]
    if alert.ack_required:
        labels.append("ack-required")
    content = alert.text
    if alert.respond_by is not None:
        content += f"\n\nRespond by: {_time(alert.respond_by)}"
    if alert.expires_at is not None:
        content += f"\nExpires at: {_time(alert.expires_at)}"
    return {
        "type": "note",
        "spec_version": "2.1",
        "id": stix_id("note", alert.alert_id),
        "created": at,
        "modified": at,
        "created_by_ref": stix_id("identity", alert.organization.id),
        "abstract": alert.title,
        "content": content,
        "labels": labels,
        "object_refs": [operation_id],
        "external_references": [
            {
                "source_name": "cencomm",
                "external_id": str(alert.alert_id),
                "description": f"alert, cid {alert.cid}",
            }
        ],
        "object_marking_refs": [marking_id(alert.hc)],
    }


class StixWriter:
    """Writes the bundle: `head()`, then `add_reports(...)` / `add_alerts(...)` any number of
    times, then `tail()` (the identities, locations, markings and the grouping, which need
    everything seen first)."""

    def __init__(self, operation: Operation) -> None:
        self._operation = operation
        self.grouping_id = stix_id("grouping", *operation.key)
        self._refs: list[str] = []
        self._identities: dict[str, dict[str, Any]] = {}
        self._countries: set[str] = set()
        self._codes: set[str] = set()
        self._latest = operation.created_at
        self._first = True

    def head(self) -> bytes:
        bundle_id = stix_id("bundle", self._operation.id, _time(self._operation.exported_at))
        return b'{"type":"bundle","id":' + _dumps(bundle_id) + b',"objects":['

    def _objects(self, objects: Iterable[dict[str, Any]]) -> bytes:
        pieces = [_dumps(o) for o in objects]
        if not pieces:
            return b""
        body = b",".join(pieces)
        if not self._first:
            body = b"," + body
        self._first = False
        return body

    def _seen(self, org: Reporter, hc: str, object_id: str, at: datetime) -> None:
        org_id = stix_id("identity", org.id)
        self._identities.setdefault(org_id, identity(org))
        self._codes.add(hc)
        self._refs.append(object_id)
        self._latest = max(self._latest, at)

    def add_reports(self, reports: list[ExportedReport]) -> bytes:
        objects = []
        for exported in reports:
            parties = party_objects(exported)
            sdo = seizure_report(exported, [p["id"] for p in parties])
            self._seen(exported.organization, exported.hc, sdo["id"], exported.reported_at)
            self._countries.update(report_countries(exported))
            objects += [sdo, *parties]
        return self._objects(objects)

    def add_alerts(self, alerts: list[ExportedAlert]) -> bytes:
        objects = []
        for alert in alerts:
            note = alert_note(alert, self.grouping_id)
            self._seen(alert.organization, alert.hc, note["id"], alert.created_at)
            objects.append(note)
        return self._objects(objects)

    def grouping(self) -> dict[str, Any]:
        op = self._operation
        container = tightest(self._codes)
        refs = [
            PLATFORM_ID,
            *self._refs,
            *self._identities,
            *(stix_id("location", c) for c in self._countries),
        ]
        grouping: dict[str, Any] = {
            "type": "grouping",
            "spec_version": "2.1",
            "id": self.grouping_id,
            "created_by_ref": PLATFORM_ID,
            "created": _time(op.created_at),
            # The newest thing it holds: re-exported unchanged, it is the same version.
            "modified": _time(self._latest),
            "name": f"{op.code}: {op.name}",
            "context": "suspicious-activity",
            "object_refs": sorted(refs),
            "object_marking_refs": [marking_id(container.value)],
        }
        if op.description:
            grouping["description"] = op.description
        return grouping

    def tail(self) -> bytes:
        grouping = self.grouping()
        codes = {*self._codes, tightest(self._codes).value}
        markings = [marking_definition(c) for c in sorted(codes)]
        rest = [
            platform(),
            *self._identities.values(),
            *(location(c) for c in sorted(self._countries)),
            *markings,
            grouping,
        ]
        return self._objects(rest) + b"]}"
