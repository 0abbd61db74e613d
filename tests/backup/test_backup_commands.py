"""`cencomm backup` and `cencomm restore` refuse bad inputs with one clear line and their own exit
code, and write nothing: a non-empty destination, a missing, incomplete or altered backup, a
data directory or database that already holds something, another kind of database.

The command line is run as a process for its exit codes; the many refusals behind them are
checked in-process (`CommandError.exit_code` is what the command exits with), to stay fast. The
whole round trip under load, with a real server, is in `test_online_backup.py`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from cencomm.backup.create import create_backup
from cencomm.backup.restore import restore_backup
from cencomm.exits import EXIT_BAD_BACKUP, EXIT_FAILURE, EXIT_NOT_EMPTY, CommandError
from cencomm.settings import DatabaseSettings, Settings
from cencomm.storage.keyring import load_or_create_name_key, load_or_create_server_keys
from tests.backup.places import fresh_database, place_env
from tests.conftest import make_test_settings
from tests.processes import PG_URL, run_cencomm


@pytest.fixture
async def backup(settings: Settings, tmp_path: Path) -> Path:
    """A backup of the suite's (migrated) test database and a data directory with its keys."""
    load_or_create_server_keys(settings.data.dir)
    load_or_create_name_key(settings.data.dir)
    await create_backup(settings, tmp_path / "backup")
    return tmp_path / "backup"


@pytest.fixture
async def target(tmp_path: Path) -> AsyncIterator[Settings]:
    """An empty place to restore into: a new data directory and an empty database."""
    async with fresh_database("backup_dst") as url:
        data = tmp_path / "restored"
        yield make_test_settings(url or f"sqlite+aiosqlite:///{data / 'cencomm.db'}", data)


def _tree(root: Path) -> list[Path]:
    return sorted(p.relative_to(root) for p in root.rglob("*"))


def _partial_backups(parent: Path) -> list[Path]:
    return list(parent.glob(".*.partial-*"))


def _staging_dirs(data: Path) -> list[Path]:
    return list(data.parent.glob(f".{data.name}.restore-*"))


async def _refused(target: Settings, backup: Path, code: int, words: str) -> None:
    with pytest.raises(CommandError) as raised:
        await restore_backup(target, backup)
    assert raised.value.exit_code == code, raised.value
    assert words in str(raised.value)
    assert not target.data.dir.exists()  # nothing written, not even the data directory
    assert not _staging_dirs(target.data.dir)


async def test_the_commands_exit_with_their_codes_and_one_line(tmp_path: Path) -> None:
    env = place_env(tmp_path, "data", "")
    (tmp_path / "data").mkdir()
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "something").write_text("x")
    code, _, err = await run_cencomm(env, "backup", str(tmp_path / "full"))
    assert code == EXIT_NOT_EMPTY, err
    assert err.strip() == (
        f"cencomm: backup destination {tmp_path / 'full'} exists and is not an empty directory; "
        "nothing was written (give a new path)"
    )
    code, _, err = await run_cencomm(env, "restore", str(tmp_path / "nowhere"))
    assert code == EXIT_BAD_BACKUP, err
    assert err.strip() == (
        "cencomm: backup refused, nothing was written: no backup directory at "
        f"{tmp_path / 'nowhere'}"
    )


async def test_backup_into_a_non_empty_destination_or_the_data_dir_is_refused(
    settings: Settings, backup: Path, tmp_path: Path
) -> None:
    before = _tree(backup)
    with pytest.raises(CommandError) as raised:
        await create_backup(settings, backup)
    assert raised.value.exit_code == EXIT_NOT_EMPTY
    assert _tree(backup) == before
    with pytest.raises(CommandError, match="inside the data directory"):
        await create_backup(settings, settings.data.dir / "copy")
    assert not _partial_backups(tmp_path)


async def test_an_altered_or_incomplete_backup_is_refused_before_anything_is_written(
    backup: Path, target: Settings
) -> None:
    manifest_path = backup / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    key = backup / next(f["path"] for f in manifest["files"] if "/keys/audit/" in f["path"])
    original = key.read_bytes()

    key.write_bytes(original[:-2] + b"A\n")  # same size, other bytes
    await _refused(target, backup, EXIT_BAD_BACKUP, "does not match the manifest")
    key.unlink()
    await _refused(target, backup, EXIT_BAD_BACKUP, "missing, the first data/keys/audit/")
    key.write_bytes(original)
    (backup / "data" / "stray").write_bytes(b"x")
    await _refused(target, backup, EXIT_BAD_BACKUP, "not in the manifest, the first data/stray")
    (backup / "data" / "stray").unlink()

    for edited in (
        dict(manifest, alembic_revision="0001"),
        dict(manifest, files=[dict(f, size=f["size"] + 1) for f in manifest["files"]]),
    ):
        manifest_path.write_text(json.dumps(edited))
        await _refused(target, backup, EXIT_BAD_BACKUP, "manifest.json was altered or damaged")
    manifest_path.write_text("{not json")
    await _refused(target, backup, EXIT_BAD_BACKUP, "manifest.json is not JSON")
    manifest_path.unlink()
    await _refused(target, backup, EXIT_BAD_BACKUP, "has no manifest.json")


async def test_a_manifest_path_out_of_the_backup_is_refused(backup: Path, target: Settings) -> None:
    """Even with a consistent manifest (its digest recomputed), a path must stay inside."""
    from cencomm.backup.manifest import _digest

    document = json.loads((backup / "manifest.json").read_text())
    document["files"][0]["path"] = "data/../../escape"
    body = {k: v for k, v in document.items() if k != "manifest_sha256"}
    document["manifest_sha256"] = _digest(body)
    (backup / "manifest.json").write_text(json.dumps(document))
    await _refused(target, backup, EXIT_BAD_BACKUP, "bad file path 'data/../../escape'")


async def test_restore_refuses_a_data_dir_or_database_that_holds_something(
    settings: Settings, backup: Path, target: Settings, tmp_path: Path
) -> None:
    target.data.dir.mkdir()
    (target.data.dir / "left-over").write_text("x")
    with pytest.raises(CommandError, match="is not empty") as raised:
        await restore_backup(target, backup)
    assert raised.value.exit_code == EXIT_NOT_EMPTY
    assert [p.name for p in target.data.dir.iterdir()] == ["left-over"]

    # The source's own database has tables; the data directory is new.
    occupied = replace(settings, data=replace(settings.data, dir=tmp_path / "other"))
    with pytest.raises(CommandError, match="already has tables") as raised:
        await restore_backup(occupied, backup)
    assert raised.value.exit_code == EXIT_NOT_EMPTY
    assert not (tmp_path / "other").exists()

    other_kind = (
        f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
        if PG_URL
        else "postgresql+asyncpg://nobody@127.0.0.1/x"
    )
    wrong = replace(target, database=DatabaseSettings(url=other_kind))
    with pytest.raises(CommandError, match="restoring across database kinds") as raised:
        await restore_backup(wrong, backup)
    assert raised.value.exit_code == EXIT_FAILURE


async def test_an_sqlite_file_outside_the_data_dir_is_restored_beside_it(
    settings: Settings, backup: Path, tmp_path: Path
) -> None:
    """`database.url` may name an SQLite file outside the data directory: it is staged next to
    its final name and renamed there; the keys come back byte for byte, owner-only."""
    if PG_URL:
        pytest.skip("an SQLite layout")
    database = tmp_path / "elsewhere" / "db.sqlite"
    target = make_test_settings(f"sqlite+aiosqlite:///{database}", tmp_path / "restored")
    summary = await restore_backup(target, backup)
    assert summary.data_dir == (tmp_path / "restored").resolve()
    assert _tree(database.parent) == [Path("db.sqlite")]
    assert _keys(target.data.dir) == _keys(settings.data.dir)
    with pytest.raises(CommandError, match="already has tables") as raised:
        await restore_backup(replace(target, data=replace(target.data, dir=tmp_path / "d")), backup)
    assert raised.value.exit_code == EXIT_NOT_EMPTY


def _keys(data: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(data)): (p.read_bytes(), p.stat().st_mode & 0o777)
        for p in (data / "keys").rglob("*")
        if p.is_file()
    }
