"""Key files: owner-only on creation, unsafe modes refused, passphrase encryption."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from cencomm.client import KeyFileError, create_key_file, load_key_file
from cencomm.crypto.keys import jwk_thumbprint


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_key_file_is_readable_only_by_its_owner(tmp_path: Path) -> None:
    old = os.umask(0)  # even with a permissive umask
    try:
        key = create_key_file(tmp_path / "keys" / "me.pem")
    finally:
        os.umask(old)
    assert key.path is not None
    assert _mode(key.path) == 0o600
    assert _mode(key.path.parent) == 0o700
    assert key.kid == jwk_thumbprint(key.public_key_raw)
    assert "private_key" not in repr(key)
    loaded = load_key_file(key.path)
    assert loaded.kid == key.kid


def test_existing_file_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "me.pem"
    first = create_key_file(path)
    with pytest.raises(KeyFileError, match="already exists"):
        create_key_file(path)
    assert load_key_file(path).kid == first.kid


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_key_file_open_to_group_or_others_is_refused(tmp_path: Path, mode: int) -> None:
    key = create_key_file(tmp_path / "me.pem")
    assert key.path is not None
    key.path.chmod(mode)
    with pytest.raises(KeyFileError, match="chmod 600"):
        load_key_file(key.path)


def test_symlinked_key_file_is_refused(tmp_path: Path) -> None:
    key = create_key_file(tmp_path / "me.pem")
    link = tmp_path / "link.pem"
    link.symlink_to(tmp_path / "me.pem")
    with pytest.raises(KeyFileError):
        load_key_file(link)
    assert key.path is not None


def test_passphrase_encrypted_key_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "me.pem"
    key = create_key_file(path, "a long and secret passphrase")
    assert b"ENCRYPTED PRIVATE KEY" in path.read_bytes()
    loaded = load_key_file(path, "a long and secret passphrase")
    assert loaded.kid == key.kid
    message = b"signed by the same key"
    signature = loaded.private_key.sign(message)
    key.private_key.public_key().verify(signature, message)


def test_wrong_or_missing_passphrase_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "me.pem"
    create_key_file(path, "a long and secret passphrase")
    with pytest.raises(KeyFileError, match="wrong passphrase"):
        load_key_file(path, "another passphrase")
    with pytest.raises(KeyFileError, match="passphrase is needed"):
        load_key_file(path)


def test_missing_and_garbage_files_are_key_file_errors(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="no such key file"):
        load_key_file(tmp_path / "absent.pem")
    garbage = tmp_path / "garbage.pem"
    fd = os.open(garbage, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, b"not a key")
    os.close(fd)
    with pytest.raises(KeyFileError, match="not a PEM private key"):
        load_key_file(garbage)
