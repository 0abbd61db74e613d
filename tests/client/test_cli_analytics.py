"""`cencomm client analytics`, `seizures-csv` and `report`, as people run them: real
processes against the test server, real files."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from cencomm.domain.users import Role
from tests.client.shell import RUN_ONCE, login_shell, one_line
from tests.factories import (
    add_member,
    make_group,
    make_member,
    post_message,
    seizure_body,
)

pytestmark = RUN_ONCE


async def test_figures_csv_and_report_of_one_and_several_groups(
    client: TestClient[Any, Any], tmp_path: Path
) -> None:
    admin = await make_member(client, Role.ADMIN)
    stop = await make_group(client, admin, code="STOP-2020")
    shield = await make_group(client, admin, code="SHIELD-2021")
    reporter = await make_member(client, Role.OFFICER, with_key=True)
    officer = await make_member(client, Role.OFFICER)
    analyst = await make_member(client, Role.ANALYST)
    for group in (stop, shield):
        for member in (reporter, officer, analyst):
            await add_member(client, admin, group, member)
    for group, day in ((stop, "2020-05-20"), (stop, "2020-06-02"), (shield, "2021-01-10")):
        await post_message(client, reporter, group, "seizure", body=seizure_body(occurred_on=day))
    shell = await login_shell(client, tmp_path, officer, stop, key=False, name="officer")

    code, out, err = await shell.text("analytics", "STOP-2020")
    assert code == 0, err
    assert out.startswith("2 interceptions reported by 1 country, ")
    for words in ("Products", "masks", "Routes", "CN", "By country", "Weeks", "2020-05-18"):
        assert words in out, words
    figures = await shell.ok("analytics", "stop-2020", "--from", "2020-06-01", "--to", "2020-06-30")
    assert figures["interceptions"] == 1

    # A bad date range: the server's every field error on one line.
    code, out, err = await shell.run(
        "analytics", "STOP-2020", "--from", "2020-13-01", "--to", "2020-02-30"
    )
    assert (code, out) == (1, "")
    line = one_line(err)
    assert "query.from" in line and "query.to" in line, line
    # Several groups at once are for staff and analysts, not officers.
    code, out, err = await shell.run("analytics", "--group", "STOP-2020", "--group", "SHIELD-2021")
    assert (code, out) == (1, "")
    assert "403" in one_line(err)

    target = tmp_path / "stop.csv"
    done = await shell.ok("seizures-csv", "STOP-2020", "--out", str(target))
    assert done == {"file": str(target), "bytes": target.stat().st_size, "rows": 4}
    with target.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["occurred_on"], r["category"]) for r in rows] == [
        ("2020-05-20", "masks"),
        ("2020-05-20", "medicines"),
        ("2020-06-02", "masks"),
        ("2020-06-02", "medicines"),
    ]
    page = tmp_path / "stop.html"
    code, out, err = await shell.text("report", "STOP-2020", "--out", str(page))
    assert code == 0, err
    assert out.startswith("Wrote the report (") and str(page) in out
    html = page.read_text(encoding="utf-8")
    assert "<html" in html.lower() and "<script" not in html.lower()
    code, out, err = await shell.run("seizures-csv", "NO-SUCH-OP", "--out", str(tmp_path / "x"))
    assert (code, out) == (1, "")
    assert "no group with code NO-SUCH-OP" in one_line(err)
    assert not (tmp_path / "x").exists()

    both = await login_shell(client, tmp_path, analyst, stop, key=False, name="analyst")
    figures = await both.ok("analytics", "--group", "STOP-2020", "--group", "SHIELD-2021")
    assert figures["interceptions"] == 3
    code, out, err = await both.run("analytics")
    assert (code, out) == (2, "")
    assert "name a group" in one_line(err)
