"""`python -m bench` end to end, at its smallest sizes: it runs, and what it writes has the shape
bench/README.md describes. No figure is checked (timings belong in bench/RESULTS.md)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("CENCOMM_TEST_DATABASE_URL", "")
VERDICTS = {"MET", "NOT MET", "not judged (--quick)", "—"}


async def _bench(*args: str) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CENCOMM_")}
    env["PYTHONPATH"] = str(REPO)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench", *args, cwd=REPO, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 600)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


@pytest.mark.skipif(
    bool(PG_URL), reason="the harness is tested once, on the SQLite pass (the suite's budget)"
)
async def test_quick_run_writes_every_figure_with_its_spread_baseline_and_verdict(
    tmp_path: Path, fresh_url: str
) -> None:
    out = tmp_path / "runs" / "bench.md"
    database = ["--database", fresh_url] if PG_URL else []
    code, stdout, stderr = await _bench(
        "--quick", "--runs", "1", "--only", "posts,resume,audit,verify", "--stored", "300",
        "--out", str(out), *database,
    )  # fmt: skip
    assert code == 0, stderr[-3000:]

    reports = json.loads(out.with_suffix(".json").read_text())
    assert len(reports) == 1
    report = reports[0]
    assert set(report["machine"]) >= {"cpu", "cores", "python", "os", "date", "commit", "dirty"}
    assert report["runs"] == 1 and report["quick"] is True
    groups = {figure["group"] for figure in report["figures"]}
    assert groups == {"posts", "resume", "audit", "verify"}
    for figure in report["figures"]:
        assert len(figure["runs"]) == 1
        assert figure["min"] <= figure["median"] <= figure["max"]
        assert figure["verdict"] in VERDICTS
    by_key = {figure["key"]: figure for figure in report["figures"]}
    # The same-run baselines: the no-op server for HTTP, raw WebSocket sends for resume.
    for key in ("posts.1.p50", "posts.64.rate", "resume.ws"):
        assert by_key[key]["baseline_median"] > 0
        assert by_key[key]["ratio"] == by_key[key]["median"] / by_key[key]["baseline_median"]
    assert by_key["posts.64.rate"]["target"].startswith("≥")
    assert by_key["verify.entries"]["median"] >= 300

    markdown = out.read_text()
    assert markdown.startswith("## `python -m bench --quick")
    assert "| figure | median | min-max | baseline | ratio | target | verdict |" in markdown
    rows = [line for line in markdown.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == 1 + len(report["figures"])
    assert "written:" in stdout


async def test_unknown_figure_is_refused() -> None:
    code, _, stderr = await _bench("--only", "posts,nonsense")
    assert code == 2
    assert "nonsense" in stderr
