"""`cencomm demo-seed` seeds signed alerts with answers, once (review issue 12, item 15)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from cencomm.app import create_app
from cencomm.crypto.jws import parse_compact, verify_signature
from cencomm.crypto.keys import b64url_decode
from cencomm.demo import DEMO_PASSWORD
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
    env = _env(tmp_path, database_url)
    code, out, err = await run_cencomm(env, "demo-seed")
    assert code == 0, err
    assert "3 demo alerts" in out
    code, out, err = await run_cencomm(env, "demo-seed")
    assert code == 0, err
    assert "nothing changed" in out and "alerts" not in out

    settings = make_test_settings(database_url, tmp_path / "data")
    async with TestClient(TestServer(create_app(settings))) as client:
        ng = await _as(client, "officer.ng")
        de = await _as(client, "officer.de")
        moderator = await _as(client, "stop.moderator")
        ng_alerts = (await _get(client, ng, "/alerts"))["alerts"]
        de_alerts = (await _get(client, de, "/alerts"))["alerts"]
        fr_alerts = (await _get(client, await _as(client, "officer.fr"), "/alerts"))["alerts"]
        every = {a["id"]: a for a in ng_alerts + de_alerts + fr_alerts}
        assert len(every) == 3  # seeded once, although the command ran twice

        # Each is signed by its sender's demo key, as any client can check.
        senders = set()
        for alert in every.values():
            sender = alert["sender"]
            senders.add(sender["display_name"])
            keys = (await _get(client, ng, f"/users/{sender['id']}/keys"))["keys"]
            parsed = parse_compact(alert["jws"])
            key = next(k for k in keys if k["kid"] == parsed.kid)
            assert verify_signature(parsed, b64url_decode(key["public_key"]))
            assert parsed.payload["typ"] == "alert" and parsed.payload["sub"] == sender["id"]
        assert senders == {
            "RILO Western Europe analyst",
            "RILO West Africa analyst",
            "Operation STOP moderator",
        }

        # With answers: Nigeria received one and controlled another; Germany found nothing on
        # one and seized on the other, linking its seizure report.
        assert sorted(a["my_ack"]["outcome"] for a in ng_alerts) == ["controlled", "received"]
        outcomes = {a["my_ack"]["outcome"]: a["my_ack"] for a in de_alerts}
        assert sorted(outcomes) == ["nil_find", "seized"]
        report = await _get(client, de, f"/messages/{outcomes['seized']['seizure_message_id']}")
        assert report["typ"] == "seizure"

        # The sender sees the board: some organisations answered, others have not yet.
        sent = next(a for a in every.values() if a["sender"]["display_name"].startswith("Oper"))
        board = (await _get(client, moderator, f"/alerts/{sent['id']}"))["ack_summary"]
        answered = [o for o in board["organizations"] if o["acknowledged_at"]]
        assert 0 < len(answered) < len(board["organizations"])

    code, _, err = await run_cencomm(env, "audit", "verify")
    assert code == 0, err
