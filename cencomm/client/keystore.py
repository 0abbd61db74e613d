"""Ed25519 signing keys on disk: created owner-only (0600), optionally passphrase-encrypted.

A key file is PKCS#8 PEM, encrypted with `BestAvailableEncryption` when a passphrase is given.
It is created with `O_CREAT | O_EXCL` and mode 0600, so it is never readable by anyone else, not
even for a moment, and an existing file (or a symlink planted in its place) is never overwritten.
Loading refuses a file whose mode grants any access to group or others, as OpenSSH does.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cencomm.client.errors import KeyFileError
from cencomm.crypto.keys import b64url_encode, jwk_thumbprint, raw_public_key

KEY_FILE_MODE = 0o600
KEY_DIR_MODE = 0o700
MAX_KEY_FILE_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class LocalKey:
    """A signing key held by this client: the private key never leaves the process.

    Attributes:
        private_key: the Ed25519 private key (hidden from `repr`).
        public_key_raw: the 32-byte raw public key.
        kid: RFC 7638 thumbprint of the public key, as the server computes it.
        path: the file it was loaded from or saved to, if any.
    """

    private_key: Ed25519PrivateKey = field(repr=False)
    public_key_raw: bytes
    kid: str
    path: Path | None = None

    @property
    def public_key(self) -> str:
        """The raw public key, base64url without padding (the form POST /keys takes)."""
        return b64url_encode(self.public_key_raw)

    @classmethod
    def from_private_key(cls, private_key: Ed25519PrivateKey, path: Path | None = None) -> LocalKey:
        raw = raw_public_key(private_key.public_key())
        return cls(private_key=private_key, public_key_raw=raw, kid=jwk_thumbprint(raw), path=path)

    @classmethod
    def generate(cls) -> LocalKey:
        """A fresh key that lives only in memory (tests, short-lived scripts)."""
        return cls.from_private_key(Ed25519PrivateKey.generate())


def _passphrase_bytes(passphrase: str | bytes | None) -> bytes | None:
    if passphrase is None:
        return None
    value = passphrase.encode("utf-8") if isinstance(passphrase, str) else passphrase
    if not value:
        raise KeyFileError("the passphrase must not be empty")
    return value


def create_key_file(path: Path, passphrase: str | bytes | None = None) -> LocalKey:
    """Generate an Ed25519 key and write it to a new file readable only by its owner.

    The parent directory is created with mode 0700 when missing.

    Args:
        path: where to write; must not exist yet.
        passphrase: when given, the PEM is encrypted with it (the best available PKCS#8 scheme).

    Returns:
        The new key.

    Raises:
        KeyFileError: the file already exists, or cannot be written.
    """
    secret = _passphrase_bytes(passphrase)
    private_key = Ed25519PrivateKey.generate()
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(secret)
        if secret is not None
        else serialization.NoEncryption()
    )
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    try:
        path.parent.mkdir(mode=KEY_DIR_MODE, parents=True, exist_ok=True)
        # O_EXCL: never truncate an existing key, never follow a symlink put in its place.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE)
    except FileExistsError:
        raise KeyFileError(f"{path} already exists; refusing to overwrite a key") from None
    except OSError as exc:
        raise KeyFileError(f"cannot create {path}: {exc.strerror}") from None
    try:
        # The umask can only remove bits; fchmod makes the mode exact whatever it was.
        os.fchmod(fd, KEY_FILE_MODE)
        with os.fdopen(fd, "wb") as handle:
            fd = -1
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        if fd >= 0:
            os.close(fd)
        path.unlink(missing_ok=True)
        raise KeyFileError(f"cannot write {path}: {exc.strerror}") from None
    return LocalKey.from_private_key(private_key, path)


def _read_private_file(path: Path) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        raise KeyFileError(f"{path}: no such key file") from None
    except OSError as exc:
        raise KeyFileError(f"cannot open {path}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as handle:
        # Check the file we opened, not the path: no race between the check and the read.
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise KeyFileError(f"{path} is not a regular file")
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077:
            raise KeyFileError(
                f"{path} is accessible by group or others (mode {mode:04o}); run `chmod 600 {path}`"
            )
        getuid = getattr(os, "getuid", None)
        if getuid is not None and info.st_uid != getuid():
            raise KeyFileError(f"{path} belongs to another user")
        data = handle.read(MAX_KEY_FILE_BYTES + 1)
    if len(data) > MAX_KEY_FILE_BYTES:
        raise KeyFileError(f"{path} is too large to be a key file")
    return data


def is_encrypted_key_file(path: Path) -> bool:
    """True when the key file holds an encrypted PKCS#8 PEM (a passphrase is needed).

    Raises:
        KeyFileError: the file is missing or unsafe.
    """
    return b"-----BEGIN ENCRYPTED PRIVATE KEY-----" in _read_private_file(path)


def load_key_file(path: Path, passphrase: str | bytes | None = None) -> LocalKey:
    """Load a key written by `create_key_file` (or any PKCS#8 PEM Ed25519 private key).

    Args:
        path: the key file; its mode must grant nothing to group or others.
        passphrase: needed exactly when the file is encrypted.

    Raises:
        KeyFileError: the file is missing, unsafe, not an Ed25519 key, needs a passphrase
            that was not given, or the passphrase is wrong.
    """
    data = _read_private_file(path)
    secret = _passphrase_bytes(passphrase)
    encrypted = b"-----BEGIN ENCRYPTED PRIVATE KEY-----" in data
    if encrypted and secret is None:
        raise KeyFileError(f"{path} is encrypted: a passphrase is needed")
    try:
        key = serialization.load_pem_private_key(data, password=secret if encrypted else None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        if encrypted:
            raise KeyFileError(f"{path}: wrong passphrase (or a damaged key file)") from None
        raise KeyFileError(f"{path} is not a PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path} does not hold an Ed25519 key")
    return LocalKey.from_private_key(key, path)
