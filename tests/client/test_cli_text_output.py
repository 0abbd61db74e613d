"""`cencomm client` prints text for people by default and JSON only with `--json`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from tests.client.shell import RUN_ONCE, make_shell
from tests.factories import seizure_body

pytestmark = RUN_ONCE


async def test_messages_and_keys_read_as_text_and_as_json(
    client: TestClient[Any, Any], tmp_path: Path
) -> None:
    shell = await make_shell(client, tmp_path)
    report = tmp_path / "report.json"
    report.write_text(json.dumps(seizure_body("FR")))
    code, out, err = await shell.text("post", "--group", "stop-2020", "--seizure", str(report))
    assert code == 0, err
    assert out.startswith("Posted as #1 (id ") and out.count("\n") == 1

    code, out, err = await shell.text("read", "--group", "STOP-2020")
    assert code == 0, err
    heading, *lines = out.splitlines()
    assert heading.startswith("#1  ") and " seizure  TLP:AMBER  id " in heading
    assert lines[:3] == [
        "  seizure on 2020-05-20 in FR, CDG airport (air)",
        "  route: CN → AE → FR",
        "  counterfeit, found by risk_profiling, concealment mis_declaration",
    ]
    assert "  - 12000 units masks (HS 6307.90)" in lines
    assert "eyJ" not in out  # the JWS only with --jws

    # The same command with --json after the action: one message object per line.
    code, out, err = await shell.text("read", "--group", "STOP-2020", "--json")
    assert code == 0, err
    (message,) = [json.loads(line) for line in out.splitlines()]
    assert message["content"]["body"]["country"] == "FR" and "jws" not in message

    code, out, err = await shell.text("keys", "list")
    assert code == 0, err
    header, row = out.splitlines()
    assert header.split() == ["KID", "LABEL", "CREATED", "REVOKED"]
    assert "laptop" in row
