"""GET /groups/{id}/export.misp.json and export.stix.json: read back by pymisp and stix2, TLP 2.0
markings, never TLP:RED or hidden reports, observers narrowed, alerts sent to the group, stable
ids, one audit entry per export, and a non-member learns nothing."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import jsonschema
import pymisp
import stix2
from aiohttp.test_utils import TestClient
from pymisp import MISPEvent

from cencomm.appkeys import SERVICES
from cencomm.domain.audit import AuditFilter
from cencomm.domain.envelopes import HandlingCode
from cencomm.domain.tlp import MARKING_IDS, TLP_EXTENSION
from cencomm.domain.users import Role
from tests.factories import make_group, make_member
from tests.problems import assert_problem
from tests.web.analytics_helpers import API, Dataset, build_dataset
from tests.web.live_helpers import send_alert

_PYMISP_DATA = Path(pymisp.__file__).parent / "data"
_TYPES = json.loads((_PYMISP_DATA / "describeTypes.json").read_text("utf-8"))["result"]
# The JSON schema of a MISP event that pymisp ships (its `validate=True` is deprecated and only
# warns). The lax one: pymisp's strict schema.json predates MISP objects and refuses any.
_EVENT_SCHEMA = json.loads((_PYMISP_DATA / "schema-lax.json").read_text("utf-8"))


async def _dataset_with_alerts(client: TestClient[Any, Any]) -> tuple[Dataset, list[str]]:
    """The five-report dataset, plus alerts: AMBER and RED to the group, GREEN elsewhere."""
    data = await build_dataset(client)
    to_group = {"groups": [data.group["id"]]}
    amber = await send_alert(client, data.senders["fr"], to_group, hc="TLP:AMBER")
    red = await send_alert(client, data.senders["fr"], to_group, hc="TLP:RED")
    other = await make_group(client, data.owner)
    moderator = await make_member(client, Role.MODERATOR, with_key=True)
    elsewhere = await send_alert(client, moderator, {"groups": [other["id"]]})
    return data, [amber["id"], red["id"], elsewhere["id"]]


async def _get(client: TestClient[Any, Any], url: str, who: Any, **params: str) -> Any:
    resp = await client.get(url, headers=who.auth, params=params)
    assert resp.status == 200, await resp.text()
    assert resp.headers["Content-Type"].startswith("application/json")
    assert resp.headers["Content-Disposition"].startswith('attachment; filename="cencomm-')
    return json.loads(await resp.read())


def _misp_by_message(event: dict[str, Any]) -> dict[str, dict[str, Any]]:
    reports = {}
    for obj in event["Object"]:
        if obj["name"] == "cencomm-seizure-report":
            ids = [a["value"] for a in obj["Attribute"] if a["object_relation"] == "message-id"]
            reports[ids[0]] = obj
    return reports


def _check_misp_types(event: dict[str, Any]) -> None:
    """What MISP itself checks on import: every attribute's type exists and fits its category."""
    for obj in event["Object"]:
        for attribute in obj["Attribute"]:
            assert attribute["type"] in _TYPES["types"], attribute
            assert attribute["type"] in _TYPES["category_type_mappings"][attribute["category"]]


def _check_references(doc: dict[str, Any]) -> None:
    """Everything an object refers to is in the bundle (stix2 does not look)."""
    ids = {o["id"] for o in doc["objects"]}
    for obj in doc["objects"]:
        refs = [*obj.get("object_refs", []), *obj.get("object_marking_refs", [])]
        refs += [obj["created_by_ref"]] if "created_by_ref" in obj else []
        assert set(refs) <= ids, obj["id"]


async def test_misp_event_loads_in_pymisp_with_tlp_tags_and_no_red(
    client: TestClient[Any, Any],
) -> None:
    data, (amber_alert, red_alert, elsewhere) = await _dataset_with_alerts(client)
    doc = await _get(client, f"{data.url}/export.misp.json", data.owner)
    jsonschema.validate(doc, _EVENT_SCHEMA)
    event = MISPEvent()
    event.load(json.dumps(doc))  # pymisp builds every object and attribute, raising on a bad one
    assert event.info == f"{data.group['code']}: {data.group['name']}"
    assert {t.name for t in event.tags} == {"tlp:amber+strict"}  # the tightest it holds
    _check_misp_types(doc["Event"])
    reports = _misp_by_message(doc["Event"])
    r1, r2, r3, r4, r5 = (m["id"] for m in data.messages)
    assert set(reports) == {r1, r2, r3, r5}  # R4 is TLP:RED
    tags = {
        m: {t["name"] for a in obj["Attribute"] for t in a["Tag"]} for m, obj in reports.items()
    }
    assert tags == {
        r1: {"tlp:amber"},
        r2: {"tlp:green"},
        r3: {"tlp:amber+strict"},
        r5: {"tlp:clear"},
    }
    r2_fields: dict[str, list[str]] = {}
    for a in reports[r2]["Attribute"]:
        r2_fields.setdefault(a["object_relation"], []).append(a["value"])
    assert r2_fields["transit"] == ["AE", "NL"]
    assert r2_fields["transport-mode"] == ["sea"]
    assert r2_fields["date"] == ["2020-05-17T00:00:00+00:00"]
    assert r2_fields["reporting-organisation"] == [data.senders["fr"].organization.name]
    items = {o["uuid"]: o for o in doc["Event"]["Object"] if o["name"] == "cencomm-seizure-item"}
    included = [items[ref["referenced_uuid"]] for ref in reports[r2]["ObjectReference"]]
    assert [{a["object_relation"]: a["value"] for a in item["Attribute"]} for item in included] == [
        {"position": "1", "category": "sanitizer", "quantity": "50", "unit": "litres"},
        {"position": "2", "category": "masks", "quantity": "10", "unit": "kg"},
    ]
    alerts = [o for o in doc["Event"]["Object"] if o["name"] == "cencomm-alert"]
    alert_ids = [
        a["value"] for o in alerts for a in o["Attribute"] if a["object_relation"] == "alert-id"
    ]
    assert alert_ids == [amber_alert]  # not RED, not the other group's
    text = json.dumps(doc)
    assert r4 not in text and red_alert not in text and elsewhere not in text
    assert "NG" not in {a["value"] for o in reports.values() for a in o["Attribute"]}


async def test_stix_bundle_validates_with_tlp2_markings_and_stable_ids(
    client: TestClient[Any, Any],
) -> None:
    data, (amber_alert, red_alert, _) = await _dataset_with_alerts(client)
    doc = await _get(client, f"{data.url}/export.stix.json", data.owner)
    bundle = stix2.parse(doc, allow_custom=False, version="2.1")
    by_type: dict[str, list[Any]] = {}
    for obj in bundle.objects:
        by_type.setdefault(obj.type, []).append(obj)
    reports = {r.external_references[0].external_id: r for r in by_type["report"]}
    r1, r2, r3, r4, r5 = (m["id"] for m in data.messages)
    assert set(reports) == {r1, r2, r3, r5}
    assert {m: r.object_marking_refs for m, r in reports.items()} == {
        r1: [MARKING_IDS[HandlingCode.AMBER]],
        r2: [MARKING_IDS[HandlingCode.GREEN]],
        r3: [MARKING_IDS[HandlingCode.AMBER_STRICT]],
        r5: [MARKING_IDS[HandlingCode.CLEAR]],
    }
    markings = {m.id: m for m in by_type["marking-definition"]}
    assert set(markings) == {
        MARKING_IDS[c]
        for c in (
            HandlingCode.CLEAR,
            HandlingCode.GREEN,
            HandlingCode.AMBER,
            HandlingCode.AMBER_STRICT,
        )
    }
    assert markings[MARKING_IDS[HandlingCode.AMBER]].extensions[TLP_EXTENSION]["tlp_2_0"] == (
        "amber"
    )
    (grouping,) = by_type["grouping"]
    assert grouping.object_marking_refs == [MARKING_IDS[HandlingCode.AMBER_STRICT]]
    assert {r.id for r in reports.values()} <= set(grouping.object_refs)
    _check_references(doc)
    identities = {i.name for i in by_type["identity"]}
    fr, de = data.senders["fr"].organization.name, data.senders["de"].organization.name
    assert identities == {fr, de, "cencomm"}  # NG only reported TLP:RED
    assert reports[r2].created_by_ref in {i.id for i in by_type["identity"] if i.name == fr}
    assert "transport-mode:sea" in reports[r2].labels
    assert "Route: CN > AE > NL > FR" in reports[r2].description
    (note,) = by_type["note"]
    assert note.external_references[0].external_id == amber_alert
    assert note.object_marking_refs == [MARKING_IDS[HandlingCode.AMBER]]
    text = json.dumps(doc)
    assert r4 not in text and red_alert not in text
    assert MARKING_IDS[HandlingCode.RED] not in text
    again = await _get(client, f"{data.url}/export.stix.json", data.owner)
    assert again["objects"] == doc["objects"]  # same ids, same versions: nothing new


async def test_observers_hidden_reports_and_dates_narrow_both_exports(
    client: TestClient[Any, Any],
) -> None:
    data = await build_dataset(client)
    r1, r2, r3, _r4, r5 = (m["id"] for m in data.messages)
    misp = await _get(client, f"{data.url}/export.misp.json", data.observer)
    assert set(_misp_by_message(misp["Event"])) == {r1, r2, r5}  # no AMBER+STRICT, no RED
    assert {t["name"] for t in misp["Event"]["Tag"]} == {"tlp:amber"}
    resp = await client.post(
        f"{API}/messages/{r1}/hide", json={"reason": "wrong"}, headers=data.owner.auth
    )
    assert resp.status == 200
    stix = await _get(
        client, f"{data.url}/export.stix.json", data.analyst, **{"from": "2020-05-12"}
    )
    bundle = stix2.parse(stix, allow_custom=False, version="2.1")
    ids = {o.external_references[0].external_id for o in bundle.objects if o.type == "report"}
    assert ids == {r2, r3, r5}  # R1 hidden, R4 RED
    misp = await _get(client, f"{data.url}/export.misp.json", data.analyst, to="2020-05-12")
    assert set(_misp_by_message(misp["Event"])) == {r5}
    resp = await client.get(
        f"{data.url}/export.misp.json", headers=data.owner.auth, params={"from": "May"}
    )
    await assert_problem(resp, 422, "validation-failed")


async def test_an_empty_operation_exports_valid_documents(client: TestClient[Any, Any]) -> None:
    owner = await make_member(client, Role.MODERATOR)
    group = await make_group(client, owner)
    url = f"{API}/groups/{group['id']}"
    empty = await _get(client, f"{url}/export.misp.json", owner)
    jsonschema.validate(empty, _EVENT_SCHEMA)
    event = MISPEvent()
    event.load(empty)
    assert event.objects == []
    stix = await _get(client, f"{url}/export.stix.json", owner)
    bundle = stix2.parse(stix, allow_custom=False, version="2.1")
    assert [o.type for o in bundle.objects] == ["identity", "marking-definition", "grouping"]


async def test_each_export_writes_one_audit_entry_and_non_members_get_404(
    client: TestClient[Any, Any],
) -> None:
    data = await build_dataset(client)
    for fmt in ("misp", "stix"):
        resp = await client.get(f"{data.url}/export.{fmt}.json", headers=data.observer.auth)
        assert resp.status == 200
        await resp.read()
    entries = await client.app[SERVICES].db.read(
        lambda unit: unit.audit.list_entries(
            AuditFilter(action="group.seizures_export"), after=None, limit=10
        )
    )
    assert [(e.actor_id, e.group_id, e.details["format"]) for e in entries] == [
        (data.observer.user.id, uuid.UUID(data.group["id"]), "misp"),
        (data.observer.user.id, uuid.UUID(data.group["id"]), "stix"),
    ]
    outsider = await make_member(client, Role.OFFICER)
    for fmt in ("misp", "stix"):
        resp = await client.get(f"{data.url}/export.{fmt}.json", headers=outsider.auth)
        await assert_problem(resp, 404, "not-found")
        missing = f"{API}/groups/{uuid.uuid4()}/export.{fmt}.json"
        await assert_problem(await client.get(missing, headers=outsider.auth), 404, "not-found")
