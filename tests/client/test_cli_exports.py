"""`cencomm client export` (bundle, MISP, STIX) and `verify-export` (offline), run by hand."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import stix2
from aiohttp.test_utils import TestClient
from pymisp import MISPEvent

from cencomm.domain.users import Role
from tests.client.shell import RUN_ONCE, make_shell
from tests.factories import make_group, seizure_body
from tests.processes import run_cencomm

pytestmark = RUN_ONCE


async def test_cli_exports_misp_stix_and_a_bundle_that_verifies_offline(
    client: TestClient[Any, Any], tmp_path: Path
) -> None:
    shell = await make_shell(client, tmp_path, Role.MODERATOR)
    for hc, country in (("TLP:GREEN", "FR"), ("TLP:RED", "FR")):
        report = tmp_path / f"{hc}.json"
        report.write_text(json.dumps(seizure_body(country)))
        await shell.ok("post", "--group", "STOP-2020", "--seizure", str(report), "--hc", hc)

    stix_path = tmp_path / "stop.stix.json"
    saved = await shell.ok("export", "STOP-2020", "--format", "stix", "--out", str(stix_path))
    assert saved["path"] == str(stix_path) and saved["size"] == stix_path.stat().st_size
    bundle = stix2.parse(stix_path.read_text("utf-8"), allow_custom=False, version="2.1")
    assert [o.type for o in bundle.objects].count("report") == 1  # the RED one stays home
    misp_path = tmp_path / "stop.misp.json"
    await shell.ok("export", "STOP-2020", "--format", "misp", "--out", str(misp_path))
    event = MISPEvent()
    event.load(misp_path.read_text("utf-8"))
    assert [o.name for o in event.objects].count("cencomm-seizure-report") == 1

    zip_path = tmp_path / "stop.zip"
    await shell.ok("export", "STOP-2020", "--format", "bundle", "--out", str(zip_path))
    # Offline: another home, never logged in.
    env = {**shell.env, "CENCOMM_CLIENT_HOME": str(tmp_path / "elsewhere")}
    code, out, err = await run_cencomm(env, "client", "--json", "verify-export", str(zip_path))
    assert code == 0, err
    summary = json.loads(out)
    assert summary["verified"] is True and summary["messages"] == 2
    assert summary["group_code"] == "STOP-2020"

    forged = tmp_path / "forged.zip"
    with zipfile.ZipFile(zip_path) as src, zipfile.ZipFile(forged, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename.endswith("messages.jsonl"):
                data = data.replace(b'"seq":1', b'"seq":7', 1)
            dst.writestr(item, data)
    code, out, err = await run_cencomm(env, "client", "verify-export", str(forged))
    assert (code, out) == (1, "") and "NOT verified" in err and err.count("\n") == 1

    code, out, err = await shell.run(
        "export", "STOP-2020", "--format", "misp", "--out", str(misp_path)
    )
    assert (code, out) == (2, "") and "exists" in err

    # The other way: the exported event into another operation, twice; a bad one sends nothing.
    await make_group(client, shell.member, code="STOP-2021")  # its creator moderates it
    imported = await shell.ok("import-misp", str(misp_path), "--group", "STOP-2021")
    assert imported == {"reports": 1, "posted": 1, "already_posted": 0}
    again = await shell.ok("import-misp", str(misp_path), "--group", "STOP-2021")
    assert again == {"reports": 1, "posted": 0, "already_posted": 1}
    event_doc = json.loads(misp_path.read_text("utf-8"))
    for obj in event_doc["Event"]["Object"]:
        for attribute in obj["Attribute"]:
            if attribute["object_relation"] in ("transport-mode", "unit"):
                attribute["value"] = "teleport"
    bad = tmp_path / "bad.misp.json"
    bad.write_text(json.dumps(event_doc))
    code, out, err = await shell.run("import-misp", str(bad), "--group", "STOP-2021")
    assert (code, out) == (1, "") and "nothing sent" in err and err.count("\n") == 1
    assert "body.transport_mode" in err and "body.items[0].unit" in err
    code, out, err = await shell.run(
        "export", "STOP-2020", "--format", "misp", "--blobs", "--out", str(tmp_path / "x")
    )
    assert (code, out) == (2, "") and "--blobs" in err
