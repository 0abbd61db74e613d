"""`cencomm client import-seizures` as a user runs it: real files, a real process, the server."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import openpyxl
from aiohttp.test_utils import TestClient

from cencomm.client import verify_message
from tests.client.shell import RUN_ONCE, Shell, make_shell

pytestmark = RUN_ONCE

DOCS = Path(__file__).resolve().parents[2] / "docs"
HEADER = (DOCS / "seizure-import-template.csv").read_text(encoding="utf-8").strip().split(",")
CATEGORIES = (
    ("masks", "units"),
    ("medicines", "kg"),
    ("sanitizer", "litres"),
    ("test_kits", "units"),
    ("gloves", "kg"),
)
MODES = ("air", "sea", "road", "rail", "postal", "express_courier")


def _rows(count: int, country: str) -> list[dict[str, Any]]:
    """`count` one-item reports, as varied as an operation's month."""
    rows = []
    for i in range(count):
        category, unit = CATEGORIES[i % len(CATEGORIES)]
        rows.append(
            {
                "report_ref": f"{country}-2020-{i:04d}",
                "occurred_on": date(2020, 4, 1) + timedelta(days=i % 60),
                "country": country,
                "location": f"Checkpoint {i % 17}",
                "transport_mode": MODES[i % len(MODES)],
                "origin": ("CN", "IN", "TR")[i % 3],
                "transit": "AE;NL" if i % 4 == 0 else None,
                "destination": country,
                "category": category,
                "description": f"lot {i}",
                "quantity": i + 1,
                "unit": unit,
                "hs_code": "3004.90" if i % 2 else None,
                "infringement": "counterfeit",
                "detection": "risk_profiling" if i % 5 else "xray",
                "concealment": "mis_declaration",
                "notes": None if i % 3 else "declared as textiles",
                "hc": "TLP:GREEN" if i % 2 else None,
            }
        )
    return rows


def _write_xlsx(path: Path, rows: list[dict[str, Any]]) -> None:
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("seizures")
    sheet.append(HEADER)
    for row in rows:
        sheet.append([row.get(name) for name in HEADER])  # real dates and numbers
    book.save(path)


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow(["" if row.get(n) is None else str(row[n]) for n in HEADER])
    path.write_bytes(b"\xef\xbb\xbf" + buffer.getvalue().encode())


async def _messages(client: TestClient[Any, Any], shell: Shell) -> list[dict[str, Any]]:
    auth = shell.member.auth
    group_id = shell.group["id"]
    messages: list[dict[str, Any]] = []
    after = 0
    while True:
        resp = await client.get(
            f"/api/v1/groups/{group_id}/messages",
            params={"after": after, "limit": 500},
            headers=auth,
        )
        assert resp.status == 200, await resp.text()
        page = await resp.json()
        messages.extend(page["messages"])
        if page["next"] is None:
            return messages
        after = page["next"]


async def test_a_thousand_rows_import_once_after_every_bad_cell_is_named(
    client: TestClient[Any, Any], tmp_path: Path
) -> None:
    shell = await make_shell(client, tmp_path)
    country = shell.member.organization.country or "FR"
    rows = _rows(1000, country)

    # Three bad cells in an XLSX: all three named by row and column, nothing sent.
    bad = [dict(row) for row in rows]
    bad[3]["origin"] = "XX"  # row 5
    bad[498]["quantity"] = -3  # row 500
    bad[995]["unit"] = "litres"  # row 997: a masks row
    assert bad[995]["category"] == "masks"
    _write_xlsx(tmp_path / "seizures.xlsx", bad)
    code, out, err = await shell.run(
        "import-seizures", str(tmp_path / "seizures.xlsx"), "--group", "STOP-2020"
    )
    assert code == 1, err
    assert "3 bad cells" in err and "nothing was sent" in err
    assert [(e["row"], e["column"], e["message"]) for e in json.loads(out)] == [
        (5, "origin", "must be an ISO 3166-1 alpha-2 country code (upper case)"),
        (500, "quantity", "must be greater than zero"),
        (997, "unit", "masks is counted in units or kg"),
    ]
    code, out, _ = await shell.text(
        "import-seizures", str(tmp_path / "seizures.xlsx"), "--group", "STOP-2020"
    )
    assert code == 1
    assert out.splitlines()[1] == "row 500, column quantity: must be greater than zero (value '-3')"
    assert await _messages(client, shell) == []

    # Fixed: 1,000 reports, every one verifying against the sender's published keys.
    _write_xlsx(tmp_path / "seizures.xlsx", rows)
    done = await shell.ok(
        "import-seizures", str(tmp_path / "seizures.xlsx"), "--group", "STOP-2020"
    )
    assert (done["posted"], done["already_present"], done["rows"], done["failed"]) == (
        1000,
        0,
        1000,
        [],
    )
    messages = await _messages(client, shell)
    assert len(messages) == 1000
    resp = await client.get(f"/api/v1/users/{shell.member.id}/keys", headers=shell.member.auth)
    keys = (await resp.json())["keys"]
    bodies = {}
    for message in messages:
        verified = verify_message(message, keys)
        assert verified.typ == "seizure" and verified.sender_id == shell.member.id
        bodies[verified.body["items"][0]["description"]] = (verified.hc, verified.body)
    hc, body = bodies["lot 4"]
    assert hc == "TLP:AMBER"  # a blank hc cell takes --hc's default
    assert body["occurred_on"] == "2020-04-05"
    assert body["route"] == {"origin": "IN", "transit": ["AE", "NL"], "destination": country}
    assert body["items"] == [
        {"category": "gloves", "description": "lot 4", "quantity": 5, "unit": "kg"}
    ]
    assert bodies["lot 5"][0] == "TLP:GREEN"

    # Re-run, from the same rows saved as CSV (`;`, BOM): nothing new.
    _write_csv(tmp_path / "seizures.csv", rows)
    done = await shell.ok("import-seizures", str(tmp_path / "seizures.csv"), "--group", "STOP-2020")
    assert (done["posted"], done["already_present"]) == (0, 1000)
    assert len(await _messages(client, shell)) == 1000


async def test_bad_files_and_maps_are_refused_before_anything_is_sent(
    client: TestClient[Any, Any], tmp_path: Path
) -> None:
    shell = await make_shell(client, tmp_path)
    group = ("--group", "STOP-2020")
    example = (DOCS / "seizure-import-example.csv").read_text(encoding="utf-8")
    header, *lines = example.splitlines()

    (tmp_path / "extra.csv").write_text(header + ",Remarks\n" + lines[0] + ",x\n")
    (tmp_path / "missing.csv").write_text(header.replace(",unit,", ",") + "\n")
    (tmp_path / "empty.csv").write_bytes(b"")
    with (tmp_path / "huge.csv").open("wb") as handle:
        handle.truncate(51 * 1024 * 1024)  # sparse: its size, not its bytes, is what counts
    (tmp_path / "bad.toml").write_text("[columns]\nRemarks = 'remarks'\n")
    (tmp_path / "example.csv").write_text(example)
    failures = {
        "extra.csv": "unknown column 'Remarks'",
        "missing.csv": "missing required column unit",
        "empty.csv": "is empty",
        "huge.csv": "over the limit of 52428800 bytes",
    }
    for name, message in failures.items():
        code, out, err = await shell.run("import-seizures", str(tmp_path / name), *group)
        assert (code, out) == (1, ""), err
        assert err.startswith("cencomm client: ") and message in err
    code, _, err = await shell.run(
        "import-seizures",
        str(tmp_path / "example.csv"),
        *group,
        "--map",
        str(tmp_path / "bad.toml"),
    )
    assert code == 1 and "'remarks' is not a template field" in err

    # The shipped example checks out (dry run: nothing sent), then imports; a multi-item report.
    dry = await shell.ok("import-seizures", str(tmp_path / "example.csv"), *group, "--dry-run")
    assert dry == {"dry_run": True, "reports": 4, "rows": 6}
    assert await _messages(client, shell) == []
    code, out, err = await shell.text("import-seizures", str(tmp_path / "example.csv"), *group)
    assert code == 0, err
    assert "4 posted, 0 already present, 0 refused" in out
    messages = await _messages(client, shell)
    assert sorted(len(m["content"]["body"]["items"]) for m in messages) == [1, 1, 2, 2]
