"""The SQLite database holds sealed secrets and every message: created 0600, like the keys."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from cencomm.app import create_app
from cencomm.storage.migrate import upgrade
from tests.conftest import make_test_settings
from tests.factories import make_member


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_a_new_database_and_its_wal_files_are_owner_only(
    tmp_path: Path, aiohttp_client: Any
) -> None:
    old_umask = os.umask(0o022)  # what most services run with: files would be 0644
    try:
        db = tmp_path / "fresh" / "cencomm.db"
        db.parent.mkdir()
        url = f"sqlite+aiosqlite:///{db}"
        await upgrade(url)
        assert _mode(db) == 0o600

        client = await aiohttp_client(create_app(make_test_settings(url, tmp_path / "data")))
        await make_member(client)  # writes: the WAL and shared-memory files exist now
        for path in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
            assert path.exists(), path
            assert _mode(path) == 0o600, path
    finally:
        os.umask(old_umask)


async def test_the_server_alone_creates_it_owner_only(tmp_path: Path, aiohttp_client: Any) -> None:
    db = tmp_path / "served.db"
    old_umask = os.umask(0o022)
    try:
        # No migration first: the app's engines open (and so create) the file themselves.
        app = create_app(make_test_settings(f"sqlite+aiosqlite:///{db}", tmp_path / "data"))
        client = await aiohttp_client(app)
        assert (await client.get("/health")).status == 200
        assert (await client.get("/ready")).status == 503  # no schema yet, but a file
        assert _mode(db) == 0o600
    finally:
        os.umask(old_umask)
