"""The demo's devices: each demo sender's Ed25519 key in `<data dir>/demo-keys/` (created once,
mode 0600, registered through the key service) and signed payloads made with it."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from cencomm.crypto.jws import sign_compact
from cencomm.crypto.keys import b64url_encode, raw_public_key
from cencomm.domain.ids import SessionId, new_id
from cencomm.domain.users import Caller, Principal, User
from cencomm.services.container import Services

# A stable namespace for the demo's client ids: the same post gets the same cid every run.
_CID_NAMESPACE = uuid.UUID("5e1f0c1e-2020-4511-9712-000000001683")


class Senders:
    """Demo users by username, their device keys (created once, mode 0600) and kids."""

    def __init__(self, services: Services, users: dict[str, User], key_dir: Path) -> None:
        self.services = services
        self.users = users
        self.key_dir = key_dir
        self._keys: dict[str, tuple[Ed25519PrivateKey, str]] = {}

    def caller(self, username: str) -> Caller:
        user = self.users[username]
        return Caller(Principal(user.id, user.organization_id, user.role, SessionId(new_id())))

    async def key(self, username: str) -> tuple[Ed25519PrivateKey, str]:
        if username not in self._keys:
            private = _device_key(self.key_dir, username)
            registered = await self.services.keys.register(
                self.caller(username),
                b64url_encode(raw_public_key(private.public_key())),
                "demo device",
            )
            self._keys[username] = (private, registered.kid)
        return self._keys[username]

    async def sign(self, username: str, payload: dict[str, Any]) -> str:
        private, kid = await self.key(username)
        return sign_compact(payload, private, kid)


def _device_key(directory: Path, username: str) -> Ed25519PrivateKey:
    """The demo user's key file, created once with mode 0600."""
    path = directory / f"{username}.pem"
    if path.exists():
        key = load_pem_private_key(path.read_bytes(), password=None)
        assert isinstance(key, Ed25519PrivateKey)  # noqa: S101 - written by us below
        return key
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return key


def payload(
    user: User, typ: str, hc: str, body: dict[str, Any], client_id: str, group_id: uuid.UUID | None
) -> dict[str, Any]:
    """The claims of a post (with `grp`) or an alert (`group_id` None: the caller adds `to`),
    issued now."""
    claims: dict[str, Any] = {
        "v": 1,
        "typ": typ,
        "cid": client_id,
        "sub": str(user.id),
        "iat": int(time.time()),
        "hc": hc,
        "body": body,
    }
    if group_id is not None:
        claims["grp"] = str(group_id)
    return claims


def cid(name: str) -> str:
    return str(uuid.uuid5(_CID_NAMESPACE, name))
