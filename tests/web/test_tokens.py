"""Access tokens (RFC 8725): every malformed, forged or stale token is a 401 problem."""

from __future__ import annotations

import base64
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest
from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cencomm.appkeys import SERVICES
from cencomm.crypto.keys import b64url_encode
from cencomm.domain.users import Role
from cencomm.settings import Settings
from tests.factories import Member, make_member
from tests.problems import assert_problem

ME = "/api/v1/me"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    return ".".join(
        [_b64(json.dumps(header).encode()), _b64(json.dumps(claims).encode()), _b64(signature)]
    )


@pytest.fixture
async def officer(client: TestClient[Any, Any]) -> Member:
    return await make_member(client, Role.OFFICER)


def _claims(client: TestClient[Any, Any], officer: Member, **overrides: Any) -> dict[str, Any]:
    decoded = jwt.decode(officer.access_token, options={"verify_signature": False})
    decoded.update(overrides)
    return {k: v for k, v in decoded.items() if v is not None}


def _server_sign(client: TestClient[Any, Any], claims: dict[str, Any], **headers: Any) -> str:
    key = client.app[SERVICES].keys_ring.token
    base = {"kid": key.kid, "typ": "at+jwt"}
    base.update(headers)
    return jwt.encode(claims, key.private_key, algorithm="EdDSA", headers=base)


async def _rejected(client: TestClient[Any, Any], token: str) -> None:
    resp = await client.get(ME, headers={"Authorization": f"Bearer {token}"})
    await assert_problem(resp, 401)


async def test_valid_token_reads_me(client: TestClient[Any, Any], officer: Member) -> None:
    resp = await client.get(ME, headers=officer.auth)
    assert resp.status == 200
    body = await resp.json()
    assert body["role"] == "officer"
    assert body["organization"]["id"] == str(officer.organization.id)
    assert body["organization"]["kind"] == "administration"
    assert body["mfa_enabled"] is False


async def test_token_header_names_our_key_and_type(
    client: TestClient[Any, Any], officer: Member
) -> None:
    header = jwt.get_unverified_header(officer.access_token)
    assert header == {
        "alg": "EdDSA",
        "kid": client.app[SERVICES].keys_ring.token.kid,
        "typ": "at+jwt",
    }
    claims = jwt.decode(officer.access_token, options={"verify_signature": False})
    assert {"iss", "aud", "sub", "sid", "iat", "exp", "jti"} <= set(claims)
    assert claims["aud"] == "cencomm" and claims["sub"] == officer.id
    assert claims["exp"] - claims["iat"] == 300


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
async def test_alg_none_is_rejected(
    client: TestClient[Any, Any], officer: Member, alg: str
) -> None:
    await _rejected(client, _unsigned({"alg": alg, "typ": "at+jwt"}, _claims(client, officer)))


@pytest.mark.parametrize("form", ["raw", "pem", "jwk"])
async def test_hs256_signed_with_our_public_key_is_rejected(
    client: TestClient[Any, Any], officer: Member, form: str
) -> None:
    public = client.app[SERVICES].keys_ring.token.public_key
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    secret = {
        "raw": raw,
        "pem": public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        "jwk": json.dumps({"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(raw)}).encode(),
    }[form]
    header = {"alg": "HS256", "typ": "at+jwt", "kid": client.app[SERVICES].keys_ring.token.kid}
    signing_input = (
        _b64(json.dumps(header).encode())
        + "."
        + _b64(json.dumps(_claims(client, officer)).encode())
    )
    import hashlib
    import hmac

    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    await _rejected(client, signing_input + "." + _b64(signature))


async def test_rs256_is_rejected(client: TestClient[Any, Any], officer: Member) -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(
        _claims(client, officer),
        rsa_key,
        algorithm="RS256",
        headers={"typ": "at+jwt", "kid": client.app[SERVICES].keys_ring.token.kid},
    )
    await _rejected(client, token)


async def test_unknown_kid_is_rejected(client: TestClient[Any, Any], officer: Member) -> None:
    other = Ed25519PrivateKey.generate()
    token = jwt.encode(
        _claims(client, officer),
        other,
        algorithm="EdDSA",
        headers={"typ": "at+jwt", "kid": "not-our-key"},
    )
    await _rejected(client, token)


async def test_our_kid_with_another_key_is_rejected(
    client: TestClient[Any, Any], officer: Member
) -> None:
    other = Ed25519PrivateKey.generate()
    token = jwt.encode(
        _claims(client, officer),
        other,
        algorithm="EdDSA",
        headers={"typ": "at+jwt", "kid": client.app[SERVICES].keys_ring.token.kid},
    )
    await _rejected(client, token)


@pytest.mark.parametrize(
    "extra",
    [
        {"jku": "https://attacker.example/keys"},
        {"x5u": "https://attacker.example/cert"},
        {"jwk": {"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}},
        {"crit": ["exp"]},
    ],
)
async def test_key_carrying_or_critical_headers_are_rejected(
    client: TestClient[Any, Any], officer: Member, extra: dict[str, Any]
) -> None:
    await _rejected(client, _server_sign(client, _claims(client, officer), **extra))


async def test_expired_by_one_second_is_rejected(
    client: TestClient[Any, Any], officer: Member
) -> None:
    now = int(time.time())
    await _rejected(
        client,
        _server_sign(client, _claims(client, officer, iat=now - 301, nbf=now - 301, exp=now - 1)),
    )


async def test_nbf_in_the_future_is_rejected(client: TestClient[Any, Any], officer: Member) -> None:
    now = int(time.time())
    await _rejected(client, _server_sign(client, _claims(client, officer, nbf=now + 60)))


@pytest.mark.parametrize(("claim", "value"), [("aud", "someone-else"), ("iss", "evil")])
async def test_wrong_audience_or_issuer_is_rejected(
    client: TestClient[Any, Any], officer: Member, claim: str, value: str
) -> None:
    await _rejected(client, _server_sign(client, _claims(client, officer, **{claim: value})))


@pytest.mark.parametrize("typ", ["JWT", "refresh+jwt", None])
async def test_wrong_typ_is_rejected(
    client: TestClient[Any, Any], officer: Member, typ: str | None
) -> None:
    key = client.app[SERVICES].keys_ring.token
    headers: dict[str, Any] = {"kid": key.kid}
    if typ is not None:
        headers["typ"] = typ
    token = jwt.encode(
        _claims(client, officer), key.private_key, algorithm="EdDSA", headers=headers
    )
    if typ is None:  # PyJWT adds typ "JWT" by default; remove it
        token = jwt.api_jws.encode(
            json.dumps(_claims(client, officer)).encode(),
            key.private_key,
            algorithm="EdDSA",
            headers={"kid": key.kid, "typ": None},
        )
    await _rejected(client, token)


@pytest.mark.parametrize("missing", ["sub", "sid", "exp", "jti", "iat"])
async def test_missing_required_claim_is_rejected(
    client: TestClient[Any, Any], officer: Member, missing: str
) -> None:
    claims = _claims(client, officer)
    del claims[missing]
    await _rejected(client, _server_sign(client, claims))


async def test_token_for_unknown_session_is_rejected(
    client: TestClient[Any, Any], officer: Member
) -> None:
    await _rejected(client, _server_sign(client, _claims(client, officer, sid=str(uuid.uuid4()))))


async def test_token_whose_sub_is_not_the_session_user_is_rejected(
    client: TestClient[Any, Any], officer: Member
) -> None:
    other = await make_member(client, Role.ADMIN)
    await _rejected(client, _server_sign(client, _claims(client, officer, sub=other.id)))


async def test_refresh_token_is_not_an_access_token(
    client: TestClient[Any, Any], officer: Member
) -> None:
    await _rejected(client, officer.refresh_token)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "garbage",
        "a.b.c",
        "....",
        "eyJhbGciOiJFZERTQSJ9.e30.",
        "Bearer",
        "\u00e9\u00e9.\u00e9.x",
    ],
)
async def test_garbage_tokens_are_rejected(client: TestClient[Any, Any], token: str) -> None:
    resp = await client.get(ME, headers={"Authorization": f"Bearer {token}"})
    await assert_problem(resp, 401)


async def test_missing_or_other_scheme_is_rejected(
    client: TestClient[Any, Any], officer: Member
) -> None:
    await assert_problem(await client.get(ME), 401)
    resp = await client.get(ME, headers={"Authorization": f"Basic {officer.access_token}"})
    await assert_problem(resp, 401)


async def test_token_of_100_kb_is_rejected(client: TestClient[Any, Any]) -> None:
    header = _b64(json.dumps({"alg": "EdDSA", "typ": "at+jwt", "kid": "x"}).encode())
    token = header + "." + "A" * 100_000 + "." + "B" * 86
    await _rejected(client, token)


async def test_logout_revokes_at_once(client: TestClient[Any, Any], officer: Member) -> None:
    resp = await client.post("/api/v1/auth/logout", headers=officer.auth)
    assert resp.status == 204
    await _rejected(client, officer.access_token)


async def test_disabled_user_is_rejected_at_once(
    client: TestClient[Any, Any], officer: Member
) -> None:
    admin = await make_member(client, Role.ADMIN)
    resp = await client.patch(
        f"/api/v1/users/{officer.id}", json={"disabled": True}, headers=admin.auth
    )
    assert resp.status == 200
    await _rejected(client, officer.access_token)
    resp = await client.post("/api/v1/auth/refresh", json={"refresh_token": officer.refresh_token})
    await assert_problem(resp, 401)


async def test_old_token_key_verifies_after_rotation(
    client: TestClient[Any, Any], officer: Member, settings: Settings
) -> None:
    from cencomm.storage.keyring import load_or_create_server_keys, rotate_signing_key

    services = client.app[SERVICES]
    rotate_signing_key(settings.data.dir, "token")
    rotated = load_or_create_server_keys(settings.data.dir)
    assert rotated.token.kid != services.keys_ring.token.kid
    # A restarted server with the rotated keyring still accepts tokens of the old key.
    object.__setattr__(services.auth, "_keys", rotated)
    resp = await client.get(ME, headers=officer.auth)
    assert resp.status == 200


def test_clock_is_utc() -> None:
    assert datetime.now(UTC).tzinfo is UTC
