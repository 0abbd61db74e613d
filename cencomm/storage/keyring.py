"""The server's own keys on disk: created on first start (mode 0600), reused after, rotatable.

Layout inside the data directory:

    keys/token/<created>-<kid>.pem     Ed25519 keys that sign access tokens
    keys/audit/<created>-<kid>.pem     Ed25519 keys that sign audit tree heads
    keys/master/<created>-<kid>.key    256-bit attachment master keys (base64url)
    keys/blobname/name.key             256-bit key that names blob files (never rotated)

The newest file of a kind is the current key; older ones stay so that what they signed or
wrapped still verifies or unwraps. Nothing here is ever logged.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from cencomm.crypto.keys import b64url_decode, b64url_encode, jwk_thumbprint, raw_public_key

MASTER_KEY_BYTES = 32


class KeyringError(RuntimeError):
    """A key file is unreadable, malformed or readable by others."""


@dataclass(frozen=True, slots=True)
class ServerSigningKey:
    kid: str
    private_key: Ed25519PrivateKey = field(repr=False)

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    @property
    def public_raw(self) -> bytes:
        return raw_public_key(self.public_key)


@dataclass(frozen=True, slots=True)
class MasterKey:
    kid: str
    key: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class ServerKeys:
    """Current keys plus every older one, by kid."""

    token: ServerSigningKey
    token_keys: dict[str, Ed25519PublicKey] = field(repr=False)
    audit: ServerSigningKey
    audit_keys: dict[str, Ed25519PublicKey] = field(repr=False)
    master: MasterKey
    master_keys: dict[str, MasterKey] = field(repr=False)


def load_or_create_server_keys(data_dir: Path) -> ServerKeys:
    """Load every key under `data_dir/keys`, creating any kind that has none yet."""
    root = _private_dir(data_dir / "keys")
    token_keys = _signing_keys(_private_dir(root / "token"))
    audit_keys = _signing_keys(_private_dir(root / "audit"))
    masters = _master_keys(_private_dir(root / "master"))
    return ServerKeys(
        token=token_keys[-1],
        token_keys={k.kid: k.public_key for k in token_keys},
        audit=audit_keys[-1],
        audit_keys={k.kid: k.public_key for k in audit_keys},
        master=masters[-1],
        master_keys={k.kid: k for k in masters},
    )


def load_audit_public_keys(data_dir: Path) -> dict[str, Ed25519PublicKey]:
    """Every audit key in `data_dir` by kid, creating none (for offline verification)."""
    directory = data_dir / "keys" / "audit"
    if not directory.is_dir():
        return {}
    return {key.kid: key.public_key for key in _signing_keys(directory, create=False)}


def rotate_signing_key(data_dir: Path, kind: str) -> str:
    """Add a new current key of `kind` ("token" or "audit"); returns its kid."""
    if kind not in {"token", "audit"}:
        raise ValueError(f"unknown key kind {kind!r}")
    return _create_signing_key(_private_dir(data_dir / "keys" / kind)).kid


def rotate_master_key(data_dir: Path) -> str:
    """Add a new current attachment master key; returns its kid."""
    return _create_master_key(_private_dir(data_dir / "keys" / "master")).kid


def load_master_keys(data_dir: Path) -> tuple[MasterKey, dict[str, MasterKey]]:
    """The current attachment master key and every master key by kid, read afresh from disk
    (so a `cencomm keys rotate` is seen without a restart)."""
    masters = _master_keys(_private_dir(data_dir / "keys" / "master"))
    return masters[-1], {k.kid: k for k in masters}


def master_key_ids(data_dir: Path) -> set[str]:
    """The kids of the master key files under `data_dir` (read from their names only)."""
    return {_master_kid(path) for path in (data_dir / "keys" / "master").glob("*.key")}


def _master_kid(path: Path) -> str:
    return path.stem.split("-", 1)[-1]


def load_or_create_name_key(data_dir: Path) -> bytes:
    """The key that names blob files (keys/blobname/name.key, mode 0600). Created once and
    never rotated: blob file names depend on it, and it protects no content, only names."""
    path = _private_dir(data_dir / "keys" / "blobname") / "name.key"
    if not path.exists():
        # O_EXCL settles two processes starting at once: the second keeps the first's key.
        with contextlib.suppress(FileExistsError):
            _write_private(path, b64url_encode(secrets.token_bytes(MASTER_KEY_BYTES)).encode())
    return read_name_key(data_dir)


def read_name_key(data_dir: Path) -> bytes:
    """The blob name key, creating nothing (a backup reads a live data directory).

    Raises:
        FileNotFoundError: there is none yet.
        KeyringError: it is malformed or readable by others.
    """
    path = data_dir / "keys" / "blobname" / "name.key"
    try:
        key = b64url_decode(_read_private(path).decode("ascii").strip())
    except (UnicodeDecodeError, ValueError):
        raise KeyringError(f"{path} is not a base64url key") from None
    if len(key) != MASTER_KEY_BYTES:
        raise KeyringError(f"{path} does not hold a 256-bit key")
    return key


def _private_dir(path: Path) -> Path:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def _write_private(path: Path, data: bytes) -> None:
    # O_EXCL: never overwrite a key; 0600 from the first byte, not chmod afterwards.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _read_private(path: Path) -> bytes:
    mode = path.stat().st_mode
    if mode & 0o077:
        raise KeyringError(f"{path} is readable by others (mode {mode & 0o777:o}); chmod 600 it")
    return path.read_bytes()


def _stamp() -> str:
    return f"{time.time_ns():020d}"


def _create_signing_key(directory: Path) -> ServerSigningKey:
    private_key = Ed25519PrivateKey.generate()
    kid = jwk_thumbprint(raw_public_key(private_key.public_key()))
    pem = private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    _write_private(directory / f"{_stamp()}-{kid}.pem", pem)
    return ServerSigningKey(kid=kid, private_key=private_key)


def _signing_keys(directory: Path, *, create: bool = True) -> list[ServerSigningKey]:
    keys: list[ServerSigningKey] = []
    for path in sorted(directory.glob("*.pem")):
        try:
            loaded = load_pem_private_key(_read_private(path), password=None)
        except ValueError:
            raise KeyringError(f"{path} is not a PEM private key") from None
        if not isinstance(loaded, Ed25519PrivateKey):
            raise KeyringError(f"{path} is not an Ed25519 key")
        keys.append(ServerSigningKey(jwk_thumbprint(raw_public_key(loaded.public_key())), loaded))
    if keys or not create:
        return keys
    return [_create_signing_key(directory)]


def _create_master_key(directory: Path) -> MasterKey:
    key = secrets.token_bytes(MASTER_KEY_BYTES)
    kid = secrets.token_hex(8)
    _write_private(directory / f"{_stamp()}-{kid}.key", b64url_encode(key).encode("ascii"))
    return MasterKey(kid=kid, key=key)


def _master_keys(directory: Path) -> list[MasterKey]:
    keys: list[MasterKey] = []
    for path in sorted(directory.glob("*.key")):
        kid = _master_kid(path)
        try:
            key = b64url_decode(_read_private(path).decode("ascii").strip())
        except (UnicodeDecodeError, ValueError):
            raise KeyringError(f"{path} is not a base64url key") from None
        if len(key) != MASTER_KEY_BYTES:
            raise KeyringError(f"{path} does not hold a 256-bit key")
        keys.append(MasterKey(kid=kid, key=key))
    return keys or [_create_master_key(directory)]
