"""import-misp's mapping, with no server: an exported report comes back as the same body, and a
bad event is refused whole, naming every problem."""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import Any

from cencomm.client.misp_import import reports_of
from cencomm.domain.misp_export import MispWriter
from cencomm.domain.seizures import parse_seizure_report
from tests.domain.test_exchange_mappings import OPERATION, REPORT_BODY, exported_report
from tests.domain.test_standard_form_exports import standard_report

GROUP = str(uuid.UUID(int=9))


def _event(hc: str = "TLP:AMBER+STRICT") -> dict[str, Any]:
    writer = MispWriter(OPERATION)
    exported = exported_report(hc)
    doc: dict[str, Any] = json.loads(writer.head() + writer.add_reports([exported]) + writer.tail())
    return doc


def test_an_exported_report_comes_back_as_the_same_body_with_a_stable_cid() -> None:
    reports, problems = reports_of(_event(), GROUP, today=date(2020, 6, 1))
    assert problems == []
    (report,) = reports
    assert report.hc == "TLP:AMBER+STRICT"
    assert report.body == REPORT_BODY
    again, _ = reports_of(_event(), GROUP, today=date(2020, 6, 1))
    assert again[0].cid == report.cid
    elsewhere, _ = reports_of(_event(), str(uuid.uuid4()), today=date(2020, 6, 1))
    assert elsewhere[0].cid != report.cid


def test_a_bad_event_is_refused_whole() -> None:
    event = _event()
    for obj in event["Event"]["Object"]:
        for attribute in obj["Attribute"]:
            attribute["Tag"] = []
            if attribute["object_relation"] == "quantity":
                attribute["value"] = "-3"
    reports, problems = reports_of(event, GROUP, today=date(2020, 6, 1))
    assert reports == []
    assert {p.field for p in problems} == {
        "Tag",
        "body.items[0].quantity",
        "body.items[1].quantity",
    }
    reports, problems = reports_of({"Event": {"Object": []}}, GROUP, today=date(2020, 6, 1))
    assert (reports, [p.field for p in problems]) == ([], ["Object"])
    assert reports_of([], GROUP, today=date(2020, 6, 1))[1][0].field == "Event"


def test_the_standard_form_comes_back_as_the_report_wrote_it() -> None:
    writer = MispWriter(OPERATION)
    exported = standard_report()
    event = json.loads(writer.head() + writer.add_reports([exported]) + writer.tail())
    reports, problems = reports_of(event, GROUP, today=date(2020, 6, 1))
    assert problems == []
    (report,) = reports
    body = report.body
    assert body["conveyance"] == {
        "mode": "vessel", "vessel_name": "MSC Aurora", "imo": "IMO9074729", "voyage": "042W",
    }  # fmt: skip
    assert body["documents"] == [
        {"type": "bl", "number": "MEDU 4471-22"},
        {"type": "awb", "number": "020-12345675"},
    ]
    assert body["containers"] == ["CSQU3054383", "MSCU1234566"]
    assert body["parties"] == [
        {"role": "consignee", "name": "=Rotterdam Pharma B.V.", "country": "NL",
         "address": "Havenweg 1, Rotterdam", "identifier": "NL 8234.56"},
        {"role": "consignor", "name": "Shenzhen Medical Co., Ltd", "country": "CN"},
    ]  # fmt: skip
    # Read back, it is the very same standard form.
    assert parse_seizure_report(body, today=date(2020, 6, 1)).standard == exported.report.standard
