"""Server keys: created once with mode 0600, reused on restart, rotatable, refused when exposed."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from cencomm.storage.keyring import (
    KeyringError,
    load_or_create_server_keys,
    rotate_master_key,
    rotate_signing_key,
)


def _modes(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): stat.S_IMODE(p.stat().st_mode) for p in root.rglob("*")}


def test_first_start_creates_three_private_keys(tmp_path: Path) -> None:
    keys = load_or_create_server_keys(tmp_path)
    assert keys.token.kid != keys.audit.kid
    assert len(keys.master.key) == 32
    modes = _modes(tmp_path / "keys")
    files = {name: mode for name, mode in modes.items() if "." in Path(name).name}
    assert len(files) == 3
    assert set(files.values()) == {0o600}
    assert {m for n, m in modes.items() if n not in files} == {0o700}


def test_restart_reuses_the_same_keys(tmp_path: Path) -> None:
    first = load_or_create_server_keys(tmp_path)
    second = load_or_create_server_keys(tmp_path)
    assert first.token.kid == second.token.kid
    assert first.audit.kid == second.audit.kid
    assert first.master == second.master


def test_rotation_keeps_old_keys_for_verification(tmp_path: Path) -> None:
    first = load_or_create_server_keys(tmp_path)
    new_token = rotate_signing_key(tmp_path, "token")
    new_master = rotate_master_key(tmp_path)
    after = load_or_create_server_keys(tmp_path)
    assert after.token.kid == new_token != first.token.kid
    assert first.token.kid in after.token_keys
    assert after.master.kid == new_master
    assert after.master_keys[first.master.kid].key == first.master.key


def test_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    load_or_create_server_keys(tmp_path)
    token_file = next((tmp_path / "keys" / "token").iterdir())
    os.chmod(token_file, 0o644)
    with pytest.raises(KeyringError, match="readable by others"):
        load_or_create_server_keys(tmp_path)


def test_keys_never_appear_in_reprs(tmp_path: Path) -> None:
    keys = load_or_create_server_keys(tmp_path)
    text = repr(keys)
    assert keys.master.key.hex() not in text
    assert "private_key" not in text
