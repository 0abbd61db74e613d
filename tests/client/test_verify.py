"""Offline verification: what passes, and each check that fails."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from cencomm.client import LocalKey, VerificationError, verify_message
from cencomm.client.envelopes import build_payload, sign_envelope
from cencomm.crypto.keys import b64url_decode, b64url_encode
from cencomm.domain.clock import rfc3339
from tests.client.helpers import logged_in, make_scene

SENDER = "6f1c2a34-1111-4222-8333-944455556666"
GROUP = "0b7d2c10-aaaa-4bbb-8ccc-dddd00001111"
NOW = datetime.now(UTC)


def _key_record(key: LocalKey, **changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "kid": key.kid,
        "user_id": SENDER,
        "public_key": key.public_key,
        "label": None,
        "created_at": rfc3339(NOW - timedelta(days=1)),
        "revoked_at": None,
    }
    record.update(changes)
    return record


def _message(key: LocalKey, **claims: Any) -> dict[str, Any]:
    payload = build_payload(
        typ="text", sub=SENDER, body={"text": "hello"}, grp=GROUP, iat=int(NOW.timestamp())
    )
    payload.update(claims)
    envelope = sign_envelope(payload, key)
    return {
        "id": "9e0f0000-0000-4000-8000-000000000001",
        "group_id": GROUP,
        "seq": 1,
        "typ": "text",
        "hc": "TLP:AMBER",
        "sender": {"id": SENDER, "display_name": "Officer", "organization_id": GROUP},
        "kid": key.kid,
        "jws": envelope.jws,
        "created_at": rfc3339(NOW),
        "reply_to": None,
        "hidden": False,
        "hidden_reason": None,
    }


def _check(message: dict[str, Any], keys: list[dict[str, Any]]) -> str:
    with pytest.raises(VerificationError) as caught:
        verify_message(message, keys)
    return caught.value.check


def test_a_good_message_verifies() -> None:
    key = LocalKey.generate()
    verified = verify_message(_message(key), [_key_record(key)])
    assert (verified.sender_id, verified.group_id, verified.typ) == (SENDER, GROUP, "text")
    assert verified.body == {"text": "hello"}


def _flip(text: str, index: int) -> str:
    return text[:index] + ("A" if text[index] != "A" else "B") + text[index + 1 :]


@pytest.mark.parametrize("part", [0, 1, 2])
def test_any_altered_byte_fails(part: int) -> None:
    key = LocalKey.generate()
    message = _message(key)
    parts = message["jws"].split(".")
    raw = bytearray(b64url_decode(parts[part]))
    raw[len(raw) // 2] ^= 0x01
    parts[part] = b64url_encode(bytes(raw))
    message["jws"] = ".".join(parts)
    assert _check(message, [_key_record(key)]) in {"jws", "signature", "kid", "unknown-key"}


def test_every_single_character_change_is_caught() -> None:
    key = LocalKey.generate()
    message = _message(key)
    original = message["jws"]
    for index in range(0, len(original), 7):
        if original[index] == ".":
            continue
        altered = dict(message, jws=_flip(original, index))
        with pytest.raises(VerificationError):
            verify_message(altered, [_key_record(key)])


def test_signature_by_another_key_fails() -> None:
    signer, published = LocalKey.generate(), LocalKey.generate()
    message = _message(signer)
    # The server claims the published key has the signer's kid: the thumbprint gives it away.
    forged = _key_record(published, kid=signer.kid)
    assert _check(message, [forged]) == "key-thumbprint"
    assert _check(message, [_key_record(published)]) == "unknown-key"


def test_sender_mismatch_fails() -> None:
    key = LocalKey.generate()
    other = "7a7a7a7a-0000-4000-8000-000000000009"
    message = _message(key, sub=other)
    assert _check(message, [_key_record(key)]) == "sender"
    message = _message(key)
    message["sender"] = {"id": other, "display_name": "x", "organization_id": GROUP}
    assert _check(message, [_key_record(key)]) == "key-owner"
    assert _check(message, [_key_record(key, user_id=other)]) == "sender"


@pytest.mark.parametrize(
    ("member", "value", "check"),
    [
        ("group_id", "0b7d2c10-aaaa-4bbb-8ccc-dddd00002222", "group"),
        ("typ", "notice", "typ"),
        ("hc", "TLP:RED", "hc"),
        ("reply_to", "9e0f0000-0000-4000-8000-000000000002", "reply-to"),
        ("cid", "9e0f0000-0000-4000-8000-000000000003", "cid"),
        ("kid", "another-kid", "kid"),
        ("jws", None, "hidden"),
        ("created_at", rfc3339(NOW + timedelta(hours=1)), "iat"),
    ],
)
def test_message_object_disagreeing_with_the_signed_claims_fails(
    member: str, value: Any, check: str
) -> None:
    key = LocalKey.generate()
    message = _message(key)
    message[member] = value
    assert _check(message, [_key_record(key)]) == check


def test_revoked_key_verifies_only_messages_from_before_its_revocation() -> None:
    key = LocalKey.generate()
    message = _message(key)
    later = _key_record(key, revoked_at=rfc3339(NOW + timedelta(minutes=5)))
    assert verify_message(message, [later]).key_revoked_at == later["revoked_at"]
    earlier = _key_record(key, revoked_at=rfc3339(NOW - timedelta(minutes=5)))
    assert _check(message, [earlier]) == "key-revoked"
    unborn = _key_record(key, created_at=rfc3339(NOW + timedelta(minutes=5)))
    assert _check(message, [unborn]) == "key-not-yet-valid"


def test_foreign_headers_are_refused_by_the_strict_parser() -> None:
    key = LocalKey.generate()
    message = _message(key)
    header = b64url_encode(b'{"alg":"none","kid":"%s","typ":"cencomm+jws"}' % key.kid.encode())
    message["jws"] = header + message["jws"][message["jws"].index(".") :]
    assert _check(message, [_key_record(key)]) == "jws"


async def test_verify_with_server_after_the_key_is_revoked(client: TestClient[Any, Any]) -> None:
    scene = await make_scene(client)
    api = await logged_in(client, scene.officer)
    try:
        posted = await api.post_text(scene.group_id, "before revocation")
        assert api.key is not None
        await api.revoke_key(api.key.kid)
        message = await api.get_message(posted.id)
        verified = await api.verify_with_server(message)
        keys = await api.list_keys()
        tampered = copy.deepcopy(message)
        tampered["sender"]["id"] = scene.admin.id
        with pytest.raises(VerificationError) as caught:
            await api.verify_with_server(tampered)
    finally:
        await api.close()
    assert verified.key_revoked_at is not None
    assert keys[0]["revoked_at"] == verified.key_revoked_at
    assert caught.value.check == "unknown-key"  # the admin has no such key
