"""Helpers for the organisation seal tests: seal keys, holders, countersignatures."""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass
from typing import Any

from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cencomm.crypto.jws import sign_compact
from cencomm.crypto.keys import b64url_encode, jwk_thumbprint, raw_public_key
from tests.factories import Member

API = "/api/v1"


@dataclass
class Seal:
    """An organisation's seal key, with its private half (the administration's)."""

    organization_id: str
    private_key: Ed25519PrivateKey
    kid: str


def public_key_of(private: Ed25519PrivateKey) -> str:
    return b64url_encode(raw_public_key(private.public_key()))


async def designate(client: TestClient[Any, Any], admin: Member, holder: Member) -> None:
    resp = await client.put(
        f"{API}/organizations/{holder.organization.id}/seal-holders/{holder.id}",
        headers=admin.auth,
    )
    assert resp.status in (200, 201), await resp.text()


async def register_seal(
    client: TestClient[Any, Any], by: Member, organization_id: str | uuid.UUID
) -> Seal:
    private = Ed25519PrivateKey.generate()
    resp = await client.post(
        f"{API}/organizations/{organization_id}/keys",
        json={"public_key": public_key_of(private), "label": "seal"},
        headers=by.auth,
    )
    assert resp.status == 201, await resp.text()
    kid = (await resp.json())["kid"]
    assert kid == jwk_thumbprint(raw_public_key(private.public_key()))
    return Seal(str(organization_id), private, kid)


def countersignature_payload(
    holder: Member, seal: Seal, message: dict[str, Any], **claims: Any
) -> dict[str, Any]:
    """A valid countersignature payload of `message` (as read: with its `jws`)."""
    payload: dict[str, Any] = {
        "v": 1,
        "typ": "countersignature",
        "cid": str(uuid.uuid4()),
        "sub": holder.id,
        "iat": int(time.time()),
        "org": seal.organization_id,
        "msg": message["id"],
        "sha256": hashlib.sha256(message["jws"].encode("ascii")).hexdigest(),
    }
    payload.update(claims)
    return {k: v for k, v in payload.items() if v is not None}


def seal_jws(seal: Seal, payload: dict[str, Any], alg: str = "Ed25519") -> str:
    return sign_compact(payload, seal.private_key, seal.kid, alg=alg)


async def countersign(
    client: TestClient[Any, Any], holder: Member, message_id: str, jws: str
) -> Any:
    return await client.post(
        f"{API}/messages/{message_id}/countersign", json={"jws": jws}, headers=holder.auth
    )
