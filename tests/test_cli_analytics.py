"""`cencomm analytics rebuild` as an operator runs it: a real process on the server's database."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import delete

from cencomm.appkeys import DATABASE
from cencomm.storage.tables import SeizureCountRow, SeizureQuantityRow, SeizureTransitRow
from cencomm.storage.unit import Unit
from tests.processes import run_cencomm
from tests.web.analytics_helpers import build_dataset, get_json


def _env(tmp_path: Path, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CENCOMM_")}
    env["CENCOMM_DATA_DIR"] = str(tmp_path / "cli-data")
    env["CENCOMM_CONFIG"] = str(tmp_path / "none.toml")
    env["CENCOMM_DATABASE_URL"] = database_url
    (tmp_path / "none.toml").write_text("")
    return env


def _damage(unit: Unit) -> None:
    session = unit._session  # raw deletes: no store damages its own tables
    session.execute(delete(SeizureTransitRow))
    session.execute(delete(SeizureCountRow).where(SeizureCountRow.dimension == "transit"))
    session.execute(delete(SeizureQuantityRow))


async def test_rebuild_restores_damaged_analytic_tables(
    client: TestClient[Any, Any], tmp_path: Path, database_url: str
) -> None:
    data = await build_dataset(client)
    before = await get_json(client, f"{data.url}/analytics", data.owner)
    # Damage the derived rows: the JWS stays, and it is the source of truth.
    await client.app[DATABASE].write(_damage)
    damaged = await get_json(client, f"{data.url}/analytics", data.owner)
    assert damaged["totals"]["medicines_units"] == 0 and damaged["transit"] == []
    code, out, err = await run_cencomm(_env(tmp_path, database_url), "analytics", "rebuild")
    assert code == 0, err
    assert "5 reports, 8 items, 4 transit countries" in out
    after = await get_json(client, f"{data.url}/analytics", data.owner)
    assert after == before
