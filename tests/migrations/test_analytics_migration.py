"""Migration 0010 on a database that already holds seizure reports: the analytic columns and
daily counters are filled from the stored messages, and the answers are the ones the writer's
own rows gave."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from cencomm.app import create_app
from cencomm.settings import Settings
from cencomm.storage.migrate import downgrade, upgrade
from tests.web.analytics_helpers import API, build_dataset, get_json


async def test_upgrading_fills_the_analytics_of_existing_reports(settings: Settings) -> None:
    async with TestClient(TestServer(create_app(settings))) as client:
        data = await build_dataset(client)
        resp = await client.post(
            f"{API}/messages/{data.messages[2]['id']}/hide",
            json={"reason": "duplicate"},
            headers=data.owner.auth,
        )
        assert resp.status == 200
        views: list[tuple[Any, dict[str, str]]] = [
            (data.owner, {}),
            (data.observer, {}),
            (data.owner, {"from": "2020-05-12", "to": "2020-05-26"}),
        ]
        before = [await get_json(client, f"{data.url}/analytics", who, **p) for who, p in views]
    await downgrade(settings.database_url, "0009")
    await upgrade(settings.database_url)
    async with TestClient(TestServer(create_app(settings))) as client:
        after = [await get_json(client, f"{data.url}/analytics", who, **p) for who, p in views]
        assert after == before
        resp = await client.post(
            f"{API}/messages/{data.messages[2]['id']}/unhide", headers=data.owner.auth
        )
        assert resp.status == 200
        shown = await get_json(client, f"{data.url}/analytics", data.owner)
        assert shown["interceptions"] == 5
