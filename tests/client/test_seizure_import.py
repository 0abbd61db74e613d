"""`import_reports` from Python: resuming after a crash and retrying never duplicates."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiohttp.test_utils import TestClient

from cencomm.client import CencommClient, LocalKey, ProblemError
from cencomm.client.seizure_import import ImportSummary, import_reports, report_cid
from cencomm.client.seizure_rows import SheetReport, parse_sheet
from cencomm.client.seizure_sheet import read_sheet
from tests.client.helpers import FAST_RETRY, DroppingProxy, logged_in, make_scene, server_url
from tests.factories import PASSWORD

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "seizure-import-example.csv"


async def test_a_resumed_import_with_lost_answers_and_a_503_posts_each_report_once(
    client: TestClient[Any, Any],
) -> None:
    scene = await make_scene(client)
    reports = parse_sheet(read_sheet(EXAMPLE), today=date(2026, 1, 1)).reports
    assert len(reports) == 4
    target = urlsplit(server_url(client))
    proxy = DroppingProxy(target.hostname or "127.0.0.1", target.port or 80)
    base = await proxy.start()
    posts = f"POST /api/v1/groups/{scene.group_id}/messages".encode()
    try:
        async with CencommClient(base, retry=FAST_RETRY) as api:
            await api.login(scene.officer.user.username, PASSWORD)
            api.use_key(LocalKey.generate())
            await api.register_key()
            # A first run "crashes" after two reports; one answer was lost on the way back.
            proxy.armed_prefix = posts
            first = await import_reports(api, scene.group_id, reports[:2], source="example")
            assert proxy.dropped == 1
            # The lost one counts as present: stored before its (second) answer came.
            assert (first.posted + first.present, first.present, first.failed) == (2, 1, [])
            # The re-run signs afresh (a new iat), meets a 503 and posts only what is missing.
            proxy.unavailable_prefix = posts
            ticks: list[None] = []
            second = await import_reports(
                api,
                scene.group_id,
                reports,
                source="example",
                rows=6,
                concurrency=2,
                on_report=lambda: ticks.append(None),
            )
            assert proxy.refused == 1
            messages = [m async for m in api.timeline(scene.group_id)]
    finally:
        await proxy.close()
    assert (second.posted, second.present, second.failed, len(ticks)) == (2, 2, [], 4)
    assert second.to_json()["rows"] == 6
    cids = sorted(report_cid(scene.group_id, "example", r) for r in reports)
    assert sorted(m["content"]["cid"] for m in messages) == cids
    assert len({m["id"] for m in messages}) == 4


async def test_a_report_the_server_refuses_is_listed_and_the_others_go_on(
    client: TestClient[Any, Any],
) -> None:
    scene = await make_scene(client)
    good, *_ = parse_sheet(read_sheet(EXAMPLE), today=date(2026, 1, 1)).reports
    # Another country than the sender organisation's: parse_sheet, given the organisation's
    # country, would have named the cell; here the server's own check refuses it.
    foreign = SheetReport("DE-1", (7,), "TLP:GREEN", {**good.body, "country": "DE"})
    api = await logged_in(client, scene.officer)
    try:
        summary = ImportSummary()
        done = await import_reports(
            api, scene.group_id, [foreign, good], source="s", rows=3, summary=summary
        )
        assert done is summary
        assert (done.posted, done.present) == (1, 0)
        [failure] = done.failed
        assert failure["report_ref"] == "DE-1" and failure["rows"] == [7]
        assert (failure["status"], failure["problem"]) == (422, "invalid-body")
        assert failure["errors"][0]["field"] == "body.country"
        # A refusal of every report (here: the key revoked) stops the import at once.
        assert api.key is not None
        await api.revoke_key(api.key.kid)
        partial = ImportSummary()
        with pytest.raises(ProblemError) as caught:
            await import_reports(api, scene.group_id, [good], source="t", summary=partial)
        assert caught.value.slug == "revoked-key"
        assert (partial.posted, partial.present, partial.failed) == (0, 0, [])
    finally:
        await api.close()
