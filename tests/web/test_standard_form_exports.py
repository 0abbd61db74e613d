"""The standard form's fields in the exports: the seizures CSV (columns appended, formulas
neutralised), the printed report's conveyance and parties section, the MISP event and the STIX
bundle; never TLP:RED, observers narrowed, hidden reports left out."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import jsonschema
import stix2
from aiohttp.test_utils import TestClient
from pymisp import MISPEvent

from cencomm.domain.seizure_csv import HEADER
from tests.factories import post_message
from tests.web.analytics_helpers import API, Dataset, build_dataset, report
from tests.web.test_exchange_exports import _EVENT_SCHEMA, _check_misp_types, _check_references


def _standard(country: str, mode: str, **fields: Any) -> dict[str, Any]:
    body = report(
        country, "2020-05-20", mode, ("CN", [], country), [("masks", 100, "units")],
        "counterfeit", "xray", "hidden_in_cargo",
    )  # fmt: skip
    return body | fields


# (sender, handling code, body): S6 .. S9, after the dataset's R1 .. R5.
STANDARD_REPORTS = [
    (
        "fr",
        "TLP:GREEN",
        _standard(
            "FR", "sea",
            conveyance={"mode": "vessel", "vessel_name": "MSC Aurora", "imo": "9074729"},
            documents=[{"type": "bl", "number": "MEDU 4471-22"}],
            containers=["CSQU 305438-3"],
            parties=[{"role": "consignee", "name": "=Rotterdam Pharma B.V.", "country": "NL"}],
        ),
    ),
    (
        "de",
        "TLP:AMBER+STRICT",
        _standard(
            "DE", "road",
            conveyance={"mode": "vehicle", "registration": "B-XY 123"},
            documents=[{"type": "cmr", "number": "CMR 0042"}],
            containers=["CSQU3054383"],
            parties=[{"role": "consignee", "name": "ROTTERDAM PHARMA BV", "country": "NL"}],
        ),
    ),
    (
        "ng",
        "TLP:RED",
        _standard(
            "NG", "air",
            conveyance={"mode": "flight", "flight_number": "ET 0901"},
            documents=[{"type": "awb", "number": "176-76543213"}],
            containers=["MAEU1122335"],
            parties=[{"role": "consignee", "name": "Lagos Red Trading Ltd", "country": "NG"}],
        ),
    ),
]  # fmt: skip
# S9: a vessel named without its IMO number, nothing else: no identifier, still in the CSV.
STANDARD_REPORTS.append(
    (
        "fr",
        "TLP:GREEN",
        _standard("FR", "sea", conveyance={"mode": "vessel", "vessel_name": "Nameless Trader"}),
    )
)
RED_TRACES = ("Lagos Red Trading", "MAEU1122335", "17676543213", "176-76543213", "ET901")


async def _dataset(client: TestClient[Any, Any]) -> Dataset:
    data = await build_dataset(client)
    for sender, hc, body in STANDARD_REPORTS:
        data.messages.append(
            await post_message(
                client, data.senders[sender], data.group, "seizure", hc=hc, body=body
            )
        )
    return data


async def _text(client: TestClient[Any, Any], url: str, who: Any) -> str:
    resp = await client.get(url, headers=who.auth)
    assert resp.status == 200, await resp.text()
    return await resp.text()


async def test_csv_and_report_carry_the_standard_form_without_red(
    client: TestClient[Any, Any],
) -> None:
    data = await _dataset(client)
    rows = list(
        csv.reader(
            io.StringIO(await _text(client, f"{data.url}/seizures.csv", data.owner), newline="")
        )
    )
    assert rows[0] == list(HEADER)
    assert rows[0][16:18] == ["conveyance_mode", "vessel_name"]
    by_seq = {row[1]: dict(zip(HEADER, row, strict=True)) for row in rows[1:]}
    assert set(by_seq) == {"1", "2", "3", "5", "6", "7", "9"}  # R4 and S8 are TLP:RED
    assert (by_seq["9"]["conveyance_mode"], by_seq["9"]["vessel_name"]) == (
        "vessel",
        "Nameless Trader",
    )
    s6 = by_seq["6"]
    assert (s6["conveyance_mode"], s6["vessel_name"], s6["imo"]) == (
        "vessel",
        "MSC Aurora",
        "IMO9074729",
    )
    assert s6["documents"] == "bl:MEDU 4471-22"
    assert s6["containers"] == "CSQU3054383"
    # A party name a spreadsheet would take for a formula is neutralised like any cell.
    assert (s6["consignee_name"], s6["consignee_country"]) == ("'=Rotterdam Pharma B.V.", "NL")
    assert s6["parties"] == "consignee:=Rotterdam Pharma B.V. (NL)"  # starts with a letter
    assert (by_seq["7"]["conveyance_mode"], by_seq["7"]["registration"]) == ("vehicle", "B-XY 123")
    assert by_seq["1"]["conveyance_mode"] == "" and by_seq["1"]["parties"] == ""
    csv_text = json.dumps(rows)
    assert not [trace for trace in RED_TRACES if trace in csv_text]

    page = await _text(client, f"{data.url}/report", data.owner)
    section = page[page.index("<h2>Conveyances and parties</h2>") :]
    assert '<td>=Rotterdam Pharma B.V.</td><td class="num">2</td><td>DE, FR</td>' in section
    assert '<td>Containers</td><td>CSQU3054383</td><td class="num">2</td><td>DE, FR</td>' in section
    assert not [trace for trace in RED_TRACES if trace in page]
    # An observer never reads AMBER+STRICT (S7); a hidden report drops out for everyone.
    observed = await _text(client, f"{data.url}/report", data.observer)
    assert '<td>=Rotterdam Pharma B.V.</td><td class="num">1</td><td>FR</td>' in observed
    resp = await client.post(
        f"{API}/messages/{data.messages[5]['id']}/hide",
        json={"reason": "dup"},
        headers=data.owner.auth,
    )
    assert resp.status == 200
    page = await _text(client, f"{data.url}/report", data.owner)
    assert '<td>ROTTERDAM PHARMA BV</td><td class="num">1</td><td>DE</td>' in page
    rows = list(
        csv.reader(
            io.StringIO(await _text(client, f"{data.url}/seizures.csv", data.owner), newline="")
        )
    )
    assert "6" not in {row[1] for row in rows[1:]}


async def test_misp_and_stix_carry_the_standard_form_without_red(
    client: TestClient[Any, Any],
) -> None:
    data = await _dataset(client)
    doc = json.loads(await _text(client, f"{data.url}/export.misp.json", data.owner))
    jsonschema.validate(doc, _EVENT_SCHEMA)
    event = MISPEvent()
    event.load(json.dumps(doc))
    _check_misp_types(doc["Event"])
    parties = [o for o in doc["Event"]["Object"] if o["name"] == "cencomm-party"]
    names = sorted(
        a["value"]
        for o in parties
        for a in o["Attribute"]
        if a["object_relation"] == "normalised-name"
    )
    assert names == ["rotterdam pharma", "rotterdam pharma"]  # what MISP correlates on
    containers = [
        a["value"]
        for o in doc["Event"]["Object"]
        for a in o["Attribute"]
        if a["object_relation"] == "container"
    ]
    assert containers == ["CSQU3054383", "CSQU3054383"]
    misp_text = json.dumps(doc)
    assert not [trace for trace in RED_TRACES if trace in misp_text]

    stix = json.loads(await _text(client, f"{data.url}/export.stix.json", data.owner))
    bundle = stix2.parse(stix, allow_custom=True, version="2.1")
    _check_references(stix)
    reports = [o for o in bundle.objects if o.type == "report" and "x_cencomm_containers" in o]
    assert sorted(r.x_cencomm_conveyance["mode"] for r in reports) == ["vehicle", "vessel"]
    identities = {o.name for o in bundle.objects if o.type == "identity"}
    assert {"=Rotterdam Pharma B.V.", "ROTTERDAM PHARMA BV"} <= identities
    assert not [trace for trace in RED_TRACES if trace in json.dumps(stix)]
    # An observer's export leaves AMBER+STRICT (S7) out.
    observed = json.loads(await _text(client, f"{data.url}/export.stix.json", data.observer))
    assert "ROTTERDAM PHARMA BV" not in json.dumps(observed)
