"""The standard form's fields (conveyance, documents, containers, parties) in the CSV cells, the
MISP event (read back by pymisp, attribute types checked) and the STIX bundle (read back by
stix2), with no server."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pymisp
import stix2
from pymisp import MISPEvent

from cencomm.domain.exchange import ExportedReport, Operation, Reporter
from cencomm.domain.misp_export import MispWriter
from cencomm.domain.seizure_csv import (
    HEADER,
    MODES_WITHOUT_IDENTIFIERS,
    standard_cells,
    stored_standard_parts,
)
from cencomm.domain.seizure_standard import NO_STANDARD_PARTS, ConveyanceMode, identifiers_of
from cencomm.domain.seizures import parse_seizure_report
from cencomm.domain.stix_export import StixWriter
from tests.factories import seizure_body

AT = datetime(2020, 5, 20, 9, 30, tzinfo=UTC)
ORG = Reporter(uuid.UUID(int=7), "Douane FR", "FR", datetime(2020, 1, 2, tzinfo=UTC))
OPERATION = Operation(uuid.UUID(int=1), "STOP-2020", "Operation STOP", None, AT, AT)
_TYPES = json.loads(
    (Path(pymisp.__file__).parent / "data" / "describeTypes.json").read_text("utf-8")
)["result"]

STANDARD = {
    "transport_mode": "sea",
    "conveyance": {"mode": "vessel", "vessel_name": "MSC Aurora", "imo": "imo 9074729",
                   "voyage": "042W"},
    "documents": [{"type": "bl", "number": "MEDU 4471-22"},
                  {"type": "awb", "number": "020-12345675"}],
    "containers": ["csqu 305438-3", "MSCU1234566"],
    "parties": [
        {"role": "consignee", "name": "=Rotterdam Pharma B.V.", "country": "NL",
         "address": "Havenweg 1, Rotterdam", "identifier": "NL 8234.56"},
        {"role": "consignor", "name": "Shenzhen Medical Co., Ltd", "country": "CN"},
    ],
}  # fmt: skip


def exported(body: dict[str, Any], n: int = 1, hc: str = "TLP:AMBER") -> ExportedReport:
    return ExportedReport(
        uuid.UUID(int=100 + n),
        str(uuid.UUID(int=200 + n)),
        n,
        hc,
        AT,
        ORG,
        parse_seizure_report(body, today=date(2020, 6, 1)),
    )


def standard_report(n: int = 1) -> ExportedReport:
    return exported(seizure_body("FR", occurred_on="2020-05-19", **STANDARD), n)


def test_csv_cells_come_after_the_original_columns() -> None:
    assert HEADER[:16] == (
        "message_id", "seq", "occurred_on", "country", "organization", "origin", "transit",
        "destination", "transport_mode", "detection", "concealment", "infringement",
        "category", "quantity", "unit", "hs_code",
    )  # fmt: skip
    parts = standard_report().report.standard
    cells = dict(zip(HEADER[16:], standard_cells(parts), strict=True))
    assert cells == {
        "conveyance_mode": "vessel",
        "vessel_name": "MSC Aurora",
        "imo": "IMO9074729",
        "voyage": "042W",
        "flight_number": "",
        "registration": "",
        "registration_country": "",
        "courier": "",
        "tracking_number": "",
        "documents": "bl:MEDU 4471-22; awb:020-12345675",
        "containers": "CSQU3054383; MSCU1234566",
        "consignor_name": "Shenzhen Medical Co., Ltd",
        "consignor_country": "CN",
        "consignee_name": "=Rotterdam Pharma B.V.",
        "consignee_country": "NL",
        "parties": "consignee:=Rotterdam Pharma B.V. (NL); "
        "consignor:Shenzhen Medical Co., Ltd (CN)",
    }
    assert list(standard_cells(NO_STANDARD_PARTS)) == [""] * 16


def test_stored_parts_are_read_back_from_a_body() -> None:
    body = seizure_body("FR", **STANDARD)
    assert stored_standard_parts(body) == standard_report().report.standard
    assert stored_standard_parts(seizure_body("FR")) == NO_STANDARD_PARTS
    assert stored_standard_parts(None) == NO_STANDARD_PARTS


def _misp(reports: list[ExportedReport]) -> dict[str, Any]:
    writer = MispWriter(OPERATION)
    doc: dict[str, Any] = json.loads(writer.head() + writer.add_reports(reports) + writer.tail())
    return doc


def test_misp_carries_the_standard_form_as_typed_attributes_and_party_objects() -> None:
    doc = _misp([standard_report()])
    event = MISPEvent()
    event.load(json.dumps(doc))
    assert [o.name for o in event.objects] == [
        "cencomm-seizure-report",
        "cencomm-seizure-item",
        "cencomm-seizure-item",
        "cencomm-party",
        "cencomm-party",
    ]
    objects = doc["Event"]["Object"]
    for obj in objects:
        for attribute in obj["Attribute"]:
            assert attribute["type"] in _TYPES["category_type_mappings"][attribute["category"]]
            assert attribute["Tag"] == [{"name": "tlp:amber"}]
    report = objects[0]
    assert report["template_version"] == "2"
    standard = {
        a["object_relation"]: (a["value"], a.get("comment"))
        for a in report["Attribute"]
        if a["object_relation"]
        in {"conveyance-mode", "vessel-name", "imo", "voyage", "bill-of-lading", "air-waybill"}
    }
    assert standard == {
        "conveyance-mode": ("vessel", None),
        "vessel-name": ("MSC Aurora", None),
        "imo": ("IMO9074729", None),
        "voyage": ("042W", None),
        "bill-of-lading": ("MEDU447122", "MEDU 4471-22"),
        "air-waybill": ("02012345675", "020-12345675"),
    }
    containers = [a["value"] for a in report["Attribute"] if a["object_relation"] == "container"]
    assert containers == ["CSQU3054383", "MSCU1234566"]
    consignee = objects[3]
    fields = {a["object_relation"]: a["value"] for a in consignee["Attribute"]}
    assert fields == {
        "role": "consignee",
        "name": "=Rotterdam Pharma B.V.",
        "normalised-name": "rotterdam pharma",
        "country": "NL",
        "address": "Havenweg 1, Rotterdam",
        "identifier": "NL823456",
    }
    assert [
        (r["relationship_type"], r["referenced_uuid"]) for r in consignee["ObjectReference"]
    ] == [("involved-in", report["uuid"])]
    assert len(report["ObjectReference"]) == 2  # its items only
    assert _misp([standard_report()]) == doc  # stable uuids


def _stix(reports: list[ExportedReport]) -> dict[str, Any]:
    writer = StixWriter(OPERATION)
    doc: dict[str, Any] = json.loads(writer.head() + writer.add_reports(reports) + writer.tail())
    return doc


def test_stix_parties_are_identities_and_the_rest_custom_properties() -> None:
    doc = _stix([standard_report(1), exported(seizure_body("FR"), 2)])
    bundle = stix2.parse(doc, allow_custom=True, version="2.1")
    reports = {r.id: r for r in bundle.objects if r.type == "report"}
    assert len(reports) == 2
    by_message = {r.external_references[0].external_id: r for r in reports.values()}
    standard, simplified = (by_message[str(uuid.UUID(int=100 + n))] for n in (1, 2))
    assert standard.x_cencomm_conveyance == {
        "mode": "vessel", "vessel_name": "MSC Aurora", "imo": "IMO9074729", "voyage": "042W",
    }  # fmt: skip
    assert standard.x_cencomm_containers == ["CSQU3054383", "MSCU1234566"]
    assert standard.x_cencomm_documents == [
        {"type": "bl", "number": "MEDU 4471-22"},
        {"type": "awb", "number": "020-12345675"},
    ]
    assert "Party: consignee =Rotterdam Pharma B.V. (NL)" in standard.description
    assert "Containers: CSQU3054383, MSCU1234566" in standard.description
    by_id = {o.id: o for o in bundle.objects}
    parties = [by_id[ref] for ref in standard.object_refs if ref.startswith("identity--")]
    assert [(p.name, p.roles, p.identity_class) for p in parties] == [
        ("=Rotterdam Pharma B.V.", ["consignee"], "organization"),
        ("Shenzhen Medical Co., Ltd", ["consignor"], "organization"),
    ]
    assert parties[0].contact_information == "Havenweg 1, Rotterdam"
    assert all(p.object_marking_refs == standard.object_marking_refs for p in parties)
    located = {
        by_id[o.source_ref].name: by_id[o.target_ref].country
        for o in bundle.objects
        if o.type == "relationship"
    }
    assert located == {"=Rotterdam Pharma B.V.": "NL", "Shenzhen Medical Co., Ltd": "CN"}
    ids = {o["id"] for o in doc["objects"]}
    for obj in doc["objects"]:
        assert set(obj.get("object_refs", [])) <= ids
        assert {obj.get("source_ref"), obj.get("target_ref")} - {None} <= ids
    # The simplified report stays custom-free: the strict parser reads it alone.
    assert not [k for k in simplified if k.startswith("x_")]
    stix2.parse(_stix([exported(seizure_body("FR"), 2)]), allow_custom=False, version="2.1")
    assert _stix([standard_report(1), exported(seizure_body("FR"), 2)]) == doc


def test_only_a_vessel_named_without_imo_leaves_no_identifier() -> None:
    """The rule the CSV relies on to read the JWS only of reports that may hold the form."""
    minimal: list[tuple[str, dict[str, Any]]] = [
        ("sea", {"conveyance": {"mode": "vessel", "vessel_name": "Aurora"}}),
        ("sea", {"conveyance": {"mode": "vessel", "vessel_name": "A", "voyage": "1"}}),
        ("air", {"conveyance": {"mode": "flight", "flight_number": "LH400"}}),
        ("road", {"conveyance": {"mode": "vehicle", "registration": "AB-123"}}),
        ("postal", {"conveyance": {"mode": "courier", "courier": "X", "tracking_number": "12"}}),
        ("air", {"documents": [{"type": "other", "number": "A1"}]}),
        ("air", {"containers": ["CSQU3054383"]}),
        ("air", {"parties": [{"role": "notify", "name": "A", "country": "FR"}]}),
    ]
    for mode, fields in minimal:
        report = parse_seizure_report(
            seizure_body("FR", transport_mode=mode, **fields), today=date(2020, 6, 1)
        )
        assert report.standard != NO_STANDARD_PARTS
        if not identifiers_of(report.standard):
            assert mode in MODES_WITHOUT_IDENTIFIERS, fields
            assert report.standard.conveyance is not None
            assert report.standard.conveyance.mode is ConveyanceMode.VESSEL
