"""Signing keys: RFC 7638 kids, strict validation, revocation kept visible."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cencomm.crypto.keys import b64url_encode, jwk_thumbprint, raw_public_key
from cencomm.domain.users import Role
from tests.factories import make_member, register_key
from tests.problems import assert_problem

KEYS = "/api/v1/keys"

# Encodings of small-order points of Ed25519 (identity, order 2, 4 and 8 points).
SMALL_ORDER = [
    "0100000000000000000000000000000000000000000000000000000000000000",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000080",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
]


def _b64(raw: bytes) -> str:
    return b64url_encode(raw)


async def test_register_returns_the_rfc7638_kid(client: TestClient[Any, Any]) -> None:
    officer = await make_member(client)
    raw = raw_public_key(Ed25519PrivateKey.generate().public_key())
    resp = await client.post(
        KEYS, json={"public_key": _b64(raw), "label": "laptop"}, headers=officer.auth
    )
    assert resp.status == 201
    body = await resp.json()
    assert body["kid"] == jwk_thumbprint(raw)
    assert body["public_key"] == _b64(raw) and body["label"] == "laptop"
    assert body["revoked_at"] is None
    again = await client.post(KEYS, json={"public_key": _b64(raw)}, headers=officer.auth)
    await assert_problem(again, 409, "duplicate-key")


def test_thumbprint_matches_rfc8037_example() -> None:
    # RFC 8037 appendix A.3: thumbprint of the example Ed25519 key.
    raw = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    assert jwk_thumbprint(raw) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


@pytest.mark.parametrize(
    "public_key",
    [
        "not base64!",
        _b64(b"\x01" * 31),
        _b64(b"\x01" * 33),
        _b64(bytes(32)) + "=",
        "",
        *[_b64(bytes.fromhex(h)) for h in SMALL_ORDER],
        _b64((2**255 - 19 + 1).to_bytes(32, "little")),  # non-canonical y
        _b64(bytes.fromhex("02" + "00" * 31)),  # y = 2 is not on the curve
    ],
)
async def test_malformed_keys_are_refused(client: TestClient[Any, Any], public_key: str) -> None:
    officer = await make_member(client)
    resp = await client.post(KEYS, json={"public_key": public_key}, headers=officer.auth)
    assert resp.status == 422
    await assert_problem(resp, 422)


async def test_observers_hold_no_signing_keys(client: TestClient[Any, Any]) -> None:
    observer = await make_member(client, Role.OBSERVER)
    raw = raw_public_key(Ed25519PrivateKey.generate().public_key())
    resp = await client.post(KEYS, json={"public_key": _b64(raw)}, headers=observer.auth)
    await assert_problem(resp, 403)


async def test_list_keeps_revoked_keys_and_anyone_may_read(client: TestClient[Any, Any]) -> None:
    officer = await make_member(client)
    first = await register_key(client, officer)
    second = await register_key(client, officer)
    assert (await client.delete(f"{KEYS}/{first}", headers=officer.auth)).status == 204
    assert (await client.delete(f"{KEYS}/{first}", headers=officer.auth)).status == 204
    reader = await make_member(client, Role.OBSERVER)
    resp = await client.get(f"/api/v1/users/{officer.id}/keys", headers=reader.auth)
    assert resp.status == 200
    keys = {k["kid"]: k for k in (await resp.json())["keys"]}
    assert set(keys) == {first, second}
    assert keys[first]["revoked_at"] is not None and keys[second]["revoked_at"] is None


async def test_only_owner_or_admin_revokes(client: TestClient[Any, Any]) -> None:
    officer = await make_member(client)
    kid = await register_key(client, officer)
    other = await make_member(client)
    await assert_problem(await client.delete(f"{KEYS}/{kid}", headers=other.auth), 403)
    admin = await make_member(client, Role.ADMIN)
    assert (await client.delete(f"{KEYS}/{kid}", headers=admin.auth)).status == 204
    await assert_problem(await client.delete(f"{KEYS}/unknown-kid", headers=admin.auth), 404)


async def test_keys_of_unknown_user_is_404(client: TestClient[Any, Any]) -> None:
    officer = await make_member(client)
    resp = await client.get(
        "/api/v1/users/00000000-0000-4000-8000-000000000000/keys", headers=officer.auth
    )
    await assert_problem(resp, 404)
