"""The MISP and STIX mappings and the TLP 2.0 markings, with no server: the published marking
objects, the tightest-code rule, and the same input giving the same ids."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from typing import Any

import stix2
from pymisp import MISPEvent

from cencomm.domain.envelopes import HandlingCode
from cencomm.domain.exchange import ExportedAlert, ExportedReport, Operation, Reporter
from cencomm.domain.misp_export import MispWriter
from cencomm.domain.seizures import parse_seizure_report
from cencomm.domain.stix_export import StixWriter
from cencomm.domain.tlp import marking_definition, misp_tag, tightest
from tests.factories import seizure_body

AT = datetime(2020, 5, 20, 9, 30, tzinfo=UTC)
ORG = Reporter(uuid.UUID(int=7), "Douane FR", "FR", datetime(2020, 1, 2, tzinfo=UTC))
OPERATION = Operation(uuid.UUID(int=1), "STOP-2020", "Operation STOP", None, AT, AT)


# The factories' report, as it was posted on the 19th with lower-case notes.
REPORT_BODY = seizure_body("FR", occurred_on="2020-05-19", notes="declared as textiles")


def exported_report(hc: str, n: int = 1) -> ExportedReport:
    body = REPORT_BODY
    return ExportedReport(
        uuid.UUID(int=100 + n),
        str(uuid.UUID(int=200 + n)),
        n,
        hc,
        AT,
        ORG,
        parse_seizure_report(body, today=date(2020, 6, 1)),
    )


ALERT = ExportedAlert(
    uuid.UUID(int=300), str(uuid.UUID(int=301)), "TLP:GREEN", "Masks via AE", "Check textiles.",
    "flash", True, AT, None, AT, ORG,
)  # fmt: skip


def _misp(reports: list[ExportedReport]) -> dict[str, Any]:
    writer = MispWriter(OPERATION)
    raw = writer.head() + writer.add_reports(reports) + writer.add_alerts([ALERT]) + writer.tail()
    doc: dict[str, Any] = json.loads(raw)
    return doc


def _stix(reports: list[ExportedReport]) -> dict[str, Any]:
    writer = StixWriter(OPERATION)
    raw = writer.head() + writer.add_reports(reports) + writer.add_alerts([ALERT]) + writer.tail()
    doc: dict[str, Any] = json.loads(raw)
    return doc


def test_every_code_has_its_published_marking_and_misp_tag() -> None:
    for code in HandlingCode:
        parsed = stix2.parse(marking_definition(code.value), allow_custom=False, version="2.1")
        assert parsed.name == code.value
    tags = [misp_tag(code.value) for code in HandlingCode]
    assert tags == ["tlp:clear", "tlp:green", "tlp:amber", "tlp:amber+strict", "tlp:red"]


def test_a_container_takes_the_tightest_code_and_never_looser_than_amber() -> None:
    assert tightest([]) is HandlingCode.AMBER
    assert tightest(["TLP:CLEAR", "TLP:GREEN"]) is HandlingCode.AMBER
    assert tightest(["TLP:GREEN", "TLP:AMBER+STRICT"]) is HandlingCode.AMBER_STRICT


def test_misp_maps_every_field_and_items_as_referenced_objects() -> None:
    doc = _misp([exported_report("TLP:AMBER")])
    event = MISPEvent()
    event.load(json.dumps(doc))
    names = [o.name for o in event.objects]
    assert names == [
        "cencomm-seizure-report",
        "cencomm-seizure-item",
        "cencomm-seizure-item",
        "cencomm-alert",
    ]
    report = doc["Event"]["Object"][0]
    fields = {a["object_relation"]: a["value"] for a in report["Attribute"]}
    assert fields == {
        "date": "2020-05-19T00:00:00+00:00",
        "country": "FR",
        "location": "CDG airport",
        "transport-mode": "air",
        "origin": "CN",
        "transit": "AE",
        "destination": "FR",
        "infringement": "counterfeit",
        "detection": "risk_profiling",
        "concealment": "mis_declaration",
        "notes": "declared as textiles",
        "reporting-organisation": "Douane FR",
        "message-id": str(uuid.UUID(int=101)),
        "cid": str(uuid.UUID(int=201)),
    }
    first_item = doc["Event"]["Object"][1]
    assert {a["object_relation"]: a["value"] for a in first_item["Attribute"]} == {
        "position": "1",
        "category": "masks",
        "quantity": "12000",
        "unit": "units",
        "hs-code": "6307.90",
    }
    assert [r["referenced_uuid"] for r in report["ObjectReference"]] == [
        o["uuid"] for o in doc["Event"]["Object"][1:3]
    ]
    assert doc["Event"]["Tag"] == [{"name": "tlp:amber"}]
    assert _misp([exported_report("TLP:AMBER")]) == doc  # the same input, the same uuids


def test_stix_is_custom_free_and_stable() -> None:
    doc = _stix([exported_report("TLP:AMBER+STRICT", 1), exported_report("TLP:CLEAR", 2)])
    bundle = stix2.parse(doc, allow_custom=False, version="2.1")
    kinds = sorted(o.type for o in bundle.objects)
    assert kinds == [
        "grouping",
        "identity",
        "identity",
        "location",
        "location",
        "location",
        "marking-definition",
        "marking-definition",
        "marking-definition",
        "note",
        "report",
        "report",
    ]  # fmt: skip: CLEAR, GREEN (the alert), AMBER+STRICT (also the grouping's)
    report = next(o for o in bundle.objects if o.type == "report")
    assert "Item 1: masks, 12000 units, HS 6307.90" in report.description
    assert "Item 2: medicines, 5 kg, chloroquine" in report.description
    assert "Notes: declared as textiles" in report.description
    again = _stix([exported_report("TLP:AMBER+STRICT", 1), exported_report("TLP:CLEAR", 2)])
    assert again["objects"] == doc["objects"]
