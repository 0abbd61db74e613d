"""`cencomm demo-seed` as an operator runs it: the full Operation STOP once, with signed alerts and
their answers (review issue 12, item 15), and analytics that give the published figures."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from cencomm.app import create_app
from cencomm.crypto.jws import parse_compact, verify_signature
from cencomm.crypto.keys import b64url_decode
from cencomm.demo import DEMO_PASSWORD
from cencomm.demo_reports import MEDICAL_SUPPLIES_UNITS, MEDICINES_UNITS, REPORTS, SANITIZER_LITRES
from tests.conftest import make_test_settings
from tests.factories import login
from tests.processes import run_cencomm

PG_URL = os.environ.get("CENCOMM_TEST_DATABASE_URL", "")


def _env(tmp_path: Path, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CENCOMM_")}
    (tmp_path / "none.toml").write_text("")
    env.update(
        CENCOMM_DATA_DIR=str(tmp_path / "data"),
        CENCOMM_CONFIG=str(tmp_path / "none.toml"),
        CENCOMM_DATABASE_URL=database_url,
        CENCOMM_AUTH_ARGON2_TIME_COST="1",
        CENCOMM_AUTH_ARGON2_MEMORY_KIB="1024",
    )
    return env


async def _as(client: TestClient[Any, Any], username: str) -> dict[str, str]:
    tokens = await login(client, username, DEMO_PASSWORD)
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def _get(client: TestClient[Any, Any], headers: dict[str, str], path: str) -> Any:
    resp = await client.get(f"/api/v1{path}", headers=headers)
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def test_demo_seed_seeds_signed_alerts_with_answers_once(
    tmp_path: Path, database_url: str
) -> None:
    """Run as an operator would, twice: the alerts are there once, signed by their senders'
    demo keys, with the whole feedback cycle of outcomes and a board that is partly answered."""
    env = _env(tmp_path, database_url)
    code, out, err = await run_cencomm(env, "demo-seed")
    assert code == 0, err
    assert "alerts with acknowledgements" in out
    code, out, err = await run_cencomm(env, "demo-seed")
    assert code == 0, err
    assert "nothing changed" in out and "alerts" not in out

    settings = make_test_settings(database_url, tmp_path / "data")
    async with TestClient(TestServer(create_app(settings))) as client:
        headers = {u: await _as(client, u) for u in ("officer.nl", "officer.be", "officer.de")}
        received = {u: (await _get(client, h, "/alerts"))["alerts"] for u, h in headers.items()}
        flagged = [
            next(a for a in alerts if a["content"]["body"]["title"].startswith("Flagged"))
            for alerts in received.values()
        ]
        assert len({a["id"] for a in flagged}) == 1  # seeded once, though the command ran twice

        # Signed by its sender's demo key, as any client can check.
        alert = flagged[0]
        sender = alert["sender"]
        keys = (await _get(client, headers["officer.nl"], f"/users/{sender['id']}/keys"))["keys"]
        parsed = parse_compact(alert["jws"])
        key = next(k for k in keys if k["kid"] == parsed.kid)
        assert verify_signature(parsed, b64url_decode(key["public_key"]))
        assert parsed.payload["typ"] == "alert" and parsed.payload["sub"] == sender["id"]

        # The feedback cycle: the Netherlands seized (linking its seizure report), Belgium
        # found nothing, Germany controlled.
        outcomes = {u: a["my_ack"]["outcome"] for u, a in zip(headers, flagged, strict=True)}
        assert outcomes == {
            "officer.nl": "seized",
            "officer.be": "nil_find",
            "officer.de": "controlled",
        }
        seizure_id = flagged[0]["my_ack"]["seizure_message_id"]
        report = await _get(client, headers["officer.nl"], f"/messages/{seizure_id}")
        assert report["typ"] == "seizure"

        # The moderators see the board of the group-wide alert: some answered, others not yet.
        moderator = await _as(client, "stop.moderator")
        sent = (await _get(client, moderator, "/alerts"))["alerts"]
        modus = next(a for a in sent if a["content"]["body"]["title"].startswith("New modus"))
        board = (await _get(client, moderator, f"/alerts/{modus['id']}"))["ack_summary"]
        answered = [o for o in board["organizations"] if o["acknowledged_at"]]
        assert 0 < len(answered) < len(board["organizations"])

        # The analysis is why administrations report: it gives the published figures.
        groups = (await _get(client, moderator, "/groups"))["groups"]
        stop = next(g for g in groups if g["code"] == "STOP-2020")
        figures = await _get(client, moderator, f"/groups/{stop['id']}/analytics")
        assert figures["interceptions"] == REPORTS == 1683
        assert figures["totals"] == {
            "medicines_units": MEDICINES_UNITS,
            "medical_supplies_units": MEDICAL_SUPPLIES_UNITS,
            "sanitizer_litres": SANITIZER_LITRES,
        }
        assert figures["reporting_countries"] == 99

    code, _, err = await run_cencomm(env, "audit", "verify")
    assert code == 0, err
