"""Signed messages end to end: verification, ordering, idempotency, reading, moderation."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwcrypto import jwk, jws

from cencomm.app import create_app
from cencomm.domain.users import Role
from cencomm.settings import Settings
from tests.clock import FakeClock
from tests.factories import (
    Member,
    add_member,
    envelope,
    make_group,
    make_member,
    post_message,
    seizure_body,
    sign,
)
from tests.problems import assert_problem


@pytest.fixture
def clock() -> FakeClock:
    """The server's clock stands still, so `iat` 301 s away is exactly 301 s away."""
    return FakeClock()


@pytest.fixture
def app(settings: Settings, clock: FakeClock) -> web.Application:
    return create_app(settings, clock=clock)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


async def _setup(
    client: TestClient[Any, Any], status: str = "active"
) -> tuple[Member, dict[str, Any], Member]:
    mod = await make_member(client, Role.MODERATOR)
    group = await make_group(client, mod, status=status)
    officer = await make_member(client, Role.OFFICER, with_key=True)
    await add_member(client, mod, group, officer)
    return mod, group, officer


async def _post(
    client: TestClient[Any, Any], member: Member, group: dict[str, Any], token: str
) -> ClientResponse:
    return await client.post(
        f"/api/v1/groups/{group['id']}/messages", json={"jws": token}, headers=member.auth
    )


async def _timeline(
    client: TestClient[Any, Any], member: Member, group: dict[str, Any], **params: str
) -> Any:
    resp = await client.get(
        f"/api/v1/groups/{group['id']}/messages", params=params, headers=member.auth
    )
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def test_post_and_read_back_verbatim(client: TestClient[Any, Any]) -> None:
    mod, group, officer = await _setup(client)
    token = sign(officer, envelope(officer, group["id"]))
    resp = await _post(client, officer, group, token)
    assert resp.status == 201
    posted = await resp.json()
    assert posted["seq"] == 1 and set(posted) == {"id", "seq", "created_at"}
    page = await _timeline(client, mod, group)
    [message] = page["messages"]
    assert page["next"] is None
    assert message["jws"] == token
    assert message["sender"] == {
        "id": officer.id,
        "display_name": "Test officer",
        "organization_id": str(officer.organization.id),
        "organization_name": officer.organization.name,
    }
    assert message["typ"] == "text" and message["hc"] == "TLP:AMBER"
    assert message["kid"] == officer.kid and message["hidden"] is False
    single = await client.get(f"/api/v1/messages/{posted['id']}", headers=officer.auth)
    assert (await single.json())["jws"] == token


async def test_message_verifies_with_an_independent_jose_library(
    client: TestClient[Any, Any],
) -> None:
    mod, group, officer = await _setup(client)
    posted = await post_message(client, officer, group)
    message = await (await client.get(f"/api/v1/messages/{posted['id']}", headers=mod.auth)).json()
    keys = await (await client.get(f"/api/v1/users/{officer.id}/keys", headers=mod.auth)).json()
    [key] = [k for k in keys["keys"] if k["kid"] == message["kid"]]
    public = jwk.JWK(kty="OKP", crv="Ed25519", x=key["public_key"])
    verifier = jws.JWS()
    verifier.deserialize(message["jws"])
    verifier.allowed_algs = ["Ed25519", "EdDSA"]
    verifier.verify(public)
    assert json.loads(verifier.payload)["sub"] == officer.id


async def test_eddsa_alg_name_is_accepted(client: TestClient[Any, Any]) -> None:
    _, group, officer = await _setup(client)
    resp = await _post(
        client, officer, group, sign(officer, envelope(officer, group["id"]), alg="EdDSA")
    )
    assert resp.status == 201


async def test_identical_repeat_returns_the_original_and_different_jws_conflicts(
    client: TestClient[Any, Any],
) -> None:
    _, group, officer = await _setup(client)
    payload = envelope(officer, group["id"])
    token = sign(officer, payload)
    first = await _post(client, officer, group, token)
    again = await _post(client, officer, group, token)
    assert first.status == 201 and again.status == 200
    assert await first.json() == await again.json()
    payload["body"] = {"text": "changed"}
    await assert_problem(
        await _post(client, officer, group, sign(officer, payload)), 409, "duplicate-cid"
    )


def _tamper(token: str, part: int, mutate: Callable[[str], str]) -> str:
    parts = token.split(".")
    parts[part] = mutate(parts[part])
    return ".".join(parts)


def _flip_char(segment: str) -> str:
    i = len(segment) // 2
    return segment[:i] + ("A" if segment[i] != "A" else "B") + segment[i + 1 :]


def _raw(header: dict[str, Any], payload: bytes, key: Ed25519PrivateKey) -> str:
    signing_input = _b64(json.dumps(header).encode()) + "." + _b64(payload)
    return signing_input + "." + _b64(key.sign(signing_input.encode()))


async def test_every_bad_envelope_is_refused_and_nothing_is_stored(
    client: TestClient[Any, Any], clock: FakeClock
) -> None:
    mod, group, officer = await _setup(client)
    other_group = await make_group(client, mod)
    stranger = await make_member(client, Role.OFFICER, with_key=True)
    second_key_owner = await make_member(client, Role.OFFICER, with_key=True)
    server_now = int(clock.now().timestamp())
    valid = envelope(officer, group["id"], iat=server_now)
    token = sign(officer, valid)
    key, kid = officer.signing_key, officer.kid
    assert key is not None and kid is not None
    header = {"alg": "Ed25519", "kid": kid, "typ": "cencomm+jws"}
    payload_bytes = json.dumps(valid).encode()
    cases: list[tuple[str, str, int, str]] = [
        ("altered payload byte", _tamper(token, 1, _flip_char), 422, ""),
        (
            "altered header",
            _tamper(
                token,
                0,
                lambda s: _b64(
                    json.dumps({**header, "typ": "cencomm+jws", "kid": kid + "x"}).encode()
                ),
            ),
            422,
            "",
        ),
        ("altered signature", _tamper(token, 2, _flip_char), 422, ""),
        (
            "signature from another key",
            _tamper(token, 2, lambda s: _b64(Ed25519PrivateKey.generate().sign(b"x"))),
            422,
            "bad-signature",
        ),
        ("kid of another user", sign(second_key_owner, valid), 422, "unknown-key"),
        (
            "alg none",
            _b64(json.dumps({**header, "alg": "none"}).encode()) + "." + _b64(payload_bytes) + ".",
            422,
            "invalid-jws",
        ),
        ("alg HS256", _raw({**header, "alg": "HS256"}, payload_bytes, key), 422, "invalid-jws"),
        ("alg RS256", _raw({**header, "alg": "RS256"}, payload_bytes, key), 422, "invalid-jws"),
        (
            "jwk header",
            _raw({**header, "jwk": {"kty": "OKP"}}, payload_bytes, key),
            422,
            "invalid-jws",
        ),
        (
            "jku header",
            _raw({**header, "jku": "https://x"}, payload_bytes, key),
            422,
            "invalid-jws",
        ),
        ("crit header", _raw({**header, "crit": ["b64"]}, payload_bytes, key), 422, "invalid-jws"),
        (
            "duplicate payload key",
            _raw(header, payload_bytes[:-1] + b', "hc": "TLP:RED"}', key),
            422,
            "invalid-jws",
        ),
        ("iat +301", sign(officer, {**valid, "iat": server_now + 301}), 422, "stale-iat"),
        ("iat -301", sign(officer, {**valid, "iat": server_now - 301}), 422, "stale-iat"),
        (
            "grp of another group",
            sign(officer, {**valid, "grp": other_group["id"]}),
            422,
            "group-mismatch",
        ),
        ("sub of another user", sign(officer, {**valid, "sub": stranger.id}), 422, "unknown-key"),
        ("unknown typ", sign(officer, {**valid, "typ": "memo"}), 422, "unknown-typ"),
        ("alert posted to a group", sign(officer, {**valid, "typ": "alert"}), 422, ""),
        (
            "body over 64 KiB",
            sign(officer, {**valid, "body": {"text": "x" * 70_000}}),
            413,
            "body-too-large",
        ),
        (
            "21 attachments",
            sign(
                officer,
                {
                    **valid,
                    "att": [
                        {
                            "sha256": f"{i:064x}",
                            "size": 1,
                            "name": f"f{i}.txt",
                            "type": "text/plain",
                        }
                        for i in range(21)
                    ],
                },
            ),
            422,
            "invalid-attachments",
        ),
        (
            "attachment of another group",
            sign(
                officer,
                {
                    **valid,
                    "att": [
                        {
                            "sha256": "ab" * 32,
                            "size": 10,
                            "name": "a.pdf",
                            "type": "application/pdf",
                        }
                    ],
                },
            ),
            422,
            "unknown-attachment",
        ),
        (
            "reply to another group's message",
            sign(officer, {**valid, "reply_to": str(uuid.uuid4())}),
            422,
            "invalid-reply",
        ),
        ("extra claim", sign(officer, {**valid, "admin": True}), 422, "invalid-claims"),
        ("not a JWS", "hello", 422, "invalid-jws"),
    ]
    for name, bad, status, slug in cases:
        resp = await _post(client, officer, group, bad)
        assert resp.status == status, (name, await resp.text())
        await assert_problem(resp, status, slug or None)
    # The sender-mismatch case: a key of the claimed sub, posted by someone else.
    stolen = sign(stranger, {**valid, "sub": stranger.id})
    await assert_problem(await _post(client, officer, group, stolen), 422, "sender-mismatch")
    assert (await _timeline(client, mod, group))["messages"] == []


async def test_revoked_key_is_refused(client: TestClient[Any, Any]) -> None:
    _, group, officer = await _setup(client)
    await client.delete(f"/api/v1/keys/{officer.kid}", headers=officer.auth)
    resp = await _post(client, officer, group, sign(officer, envelope(officer, group["id"])))
    await assert_problem(resp, 422, "revoked-key")


async def test_jws_over_256_kib_is_413(client: TestClient[Any, Any]) -> None:
    _, group, officer = await _setup(client)
    token = "eyJ" + "a" * (257 * 1024) + ".b.c"
    await assert_problem(await _post(client, officer, group, token), 413, "jws-too-large")


@pytest.mark.parametrize("status", ["planned", "closed", "archived"])
async def test_posting_to_a_group_that_is_not_active_is_409(
    client: TestClient[Any, Any], status: str
) -> None:
    mod = await make_member(client, Role.MODERATOR)
    group = await make_group(client, mod, status=status)
    officer = await make_member(client, Role.OFFICER, with_key=True)
    await add_member(client, mod, group, officer)
    resp = await _post(client, officer, group, sign(officer, envelope(officer, group["id"])))
    await assert_problem(resp, 409, "group-not-active")


async def test_observers_and_strangers(client: TestClient[Any, Any]) -> None:
    mod, group, _ = await _setup(client)
    observer = await make_member(client, Role.OFFICER, with_key=True)
    await add_member(client, mod, group, observer, "observer")
    resp = await _post(client, observer, group, sign(observer, envelope(observer, group["id"])))
    await assert_problem(resp, 403, "read-only")
    stranger = await make_member(client, Role.OFFICER, with_key=True)
    resp = await _post(client, stranger, group, sign(stranger, envelope(stranger, group["id"])))
    await assert_problem(resp, 404)


async def test_two_hundred_concurrent_posts_get_seq_1_to_200(client: TestClient[Any, Any]) -> None:
    mod = await make_member(client, Role.MODERATOR)
    group = await make_group(client, mod)
    senders = []
    for _ in range(20):
        member = await make_member(client, Role.OFFICER, with_key=True)
        await add_member(client, mod, group, member)
        senders.append(member)
    tokens = [(m, sign(m, envelope(m, group["id"]))) for m in senders for _ in range(10)]
    responses = await asyncio.gather(*(_post(client, m, group, t) for m, t in tokens))
    assert [r.status for r in responses].count(201) == 200
    seqs = sorted([(await r.json())["seq"] for r in responses])
    assert seqs == list(range(1, 201))
    page = await _timeline(client, mod, group, limit="500")
    assert [m["seq"] for m in page["messages"]] == list(range(1, 201))


async def test_hundred_simultaneous_posts_of_one_cid_store_one(
    client: TestClient[Any, Any],
) -> None:
    mod, group, officer = await _setup(client)
    token = sign(officer, envelope(officer, group["id"]))
    responses = await asyncio.gather(*(_post(client, officer, group, token) for _ in range(100)))
    statuses = sorted(r.status for r in responses)
    assert statuses.count(201) == 1 and statuses.count(200) == 99
    assert len({(await r.json())["id"] for r in responses}) == 1
    assert len((await _timeline(client, mod, group))["messages"]) == 1


async def test_same_cid_different_jws_at_the_same_moment(client: TestClient[Any, Any]) -> None:
    mod, group, officer = await _setup(client)
    payload = envelope(officer, group["id"])
    first = sign(officer, payload)
    second = sign(officer, {**payload, "body": {"text": "other"}})
    a, b = await asyncio.gather(
        _post(client, officer, group, first), _post(client, officer, group, second)
    )
    assert sorted([a.status, b.status]) == [201, 409]
    assert len((await _timeline(client, mod, group))["messages"]) == 1


async def test_seizure_reports_are_validated_field_by_field(client: TestClient[Any, Any]) -> None:
    _, group, officer = await _setup(client)  # officer's organisation is in FR
    posted = await post_message(client, officer, group, "seizure", body=seizure_body("FR"))
    assert posted["seq"] == 1
    bad = seizure_body(
        "FR",
        items=[{"category": "sanitizer", "quantity": -1, "unit": "kg"}],
        occurred_on="2999-01-01",
        transport_mode="teleport",
    )
    resp = await _post(
        client, officer, group, sign(officer, envelope(officer, group["id"], "seizure", body=bad))
    )
    problem = await assert_problem(resp, 422, "invalid-body")
    fields = {e["field"] for e in problem["errors"]}
    assert {
        "body.occurred_on",
        "body.transport_mode",
        "body.items[0].quantity",
        "body.items[0].unit",
    } <= fields
    resp = await _post(
        client,
        officer,
        group,
        sign(officer, envelope(officer, group["id"], "seizure", body=seizure_body("DE"))),
    )
    problem = await assert_problem(resp, 422, "invalid-body")
    assert [e["field"] for e in problem["errors"]] == ["body.country"]


async def test_replies_must_stay_in_the_group(client: TestClient[Any, Any]) -> None:
    mod, group, officer = await _setup(client)
    first = await post_message(client, officer, group)
    reply = await post_message(client, officer, group, reply_to=first["id"])
    message = await (await client.get(f"/api/v1/messages/{reply['id']}", headers=mod.auth)).json()
    assert message["reply_to"] == first["id"]


async def test_timeline_paging(client: TestClient[Any, Any]) -> None:
    mod, group, officer = await _setup(client)
    for _ in range(7):
        await post_message(client, officer, group)
    page = await _timeline(client, mod, group, limit="3")
    assert [m["seq"] for m in page["messages"]] == [1, 2, 3] and page["next"] == 3
    page = await _timeline(client, mod, group, after="3", limit="3")
    assert [m["seq"] for m in page["messages"]] == [4, 5, 6] and page["next"] == 6
    page = await _timeline(client, mod, group, after="6", limit="3")
    assert [m["seq"] for m in page["messages"]] == [7] and page["next"] is None
    page = await _timeline(client, mod, group, before="6", limit="2")
    assert [m["seq"] for m in page["messages"]] == [4, 5]
    resp = await client.get(
        f"/api/v1/groups/{group['id']}/messages",
        params={"after": "1", "before": "5"},
        headers=mod.auth,
    )
    await assert_problem(resp, 422)
    resp = await client.get(
        f"/api/v1/groups/{group['id']}/messages", params={"limit": "0"}, headers=mod.auth
    )
    await assert_problem(resp, 422)


async def test_hidden_messages_show_the_reason_to_members_and_the_jws_to_moderators(
    client: TestClient[Any, Any],
) -> None:
    mod, group, officer = await _setup(client)
    posted = await post_message(client, officer, group)
    url = f"/api/v1/messages/{posted['id']}"
    await assert_problem(
        await client.post(f"{url}/hide", json={"reason": "x"}, headers=officer.auth), 403
    )
    resp = await client.post(f"{url}/hide", json={"reason": "Personal data"}, headers=mod.auth)
    assert resp.status == 200 and (await resp.json())["hidden"] is True
    seen = await (await client.get(url, headers=officer.auth)).json()
    assert seen["jws"] is None and seen["hidden"] and seen["hidden_reason"] == "Personal data"
    assert (await (await client.get(url, headers=mod.auth)).json())["jws"] is not None
    resp = await client.post(f"{url}/unhide", headers=mod.auth)
    assert (await resp.json())["hidden"] is False
    assert (await (await client.get(url, headers=officer.auth)).json())["jws"] is not None


async def test_observers_never_receive_amber_strict_or_red(client: TestClient[Any, Any]) -> None:
    mod, group, officer = await _setup(client)
    observer = await make_member(client, Role.OBSERVER)
    await add_member(client, mod, group, observer, "observer")
    red = await post_message(client, officer, group, hc="TLP:RED")
    await post_message(client, officer, group, hc="TLP:AMBER+STRICT")
    await post_message(client, officer, group, hc="TLP:GREEN")
    page = await _timeline(client, observer, group)
    assert [m["hc"] for m in page["messages"]] == ["TLP:GREEN"]
    await assert_problem(
        await client.get(f"/api/v1/messages/{red['id']}", headers=observer.auth), 404
    )
    assert len((await _timeline(client, officer, group))["messages"]) == 3


async def test_search_finds_only_what_the_caller_may_read(client: TestClient[Any, Any]) -> None:
    _, group, officer = await _setup(client)
    other_mod = await make_member(client, Role.MODERATOR)
    other_group = await make_group(client, other_mod)
    outsider = await make_member(client, Role.OFFICER, with_key=True)
    await add_member(client, other_mod, other_group, outsider)
    await post_message(client, officer, group, body={"text": "Counterfeit chloroquine in Lagos"})
    await post_message(
        client,
        officer,
        group,
        typ="notice",
        body={"title": "Chloroquine alert", "text": "Watch express couriers"},
    )
    await post_message(
        client,
        officer,
        group,
        "seizure",
        body=seizure_body("FR", notes="chloroquine hidden in toys"),
    )
    await post_message(client, outsider, other_group, body={"text": "chloroquine elsewhere"})
    found = await (
        await client.get("/api/v1/search", params={"q": "Chloroquine"}, headers=officer.auth)
    ).json()
    assert len(found["messages"]) == 3
    assert all(m["group_id"] == group["id"] for m in found["messages"])
    seqs = [m["seq"] for m in found["messages"]]
    assert seqs == sorted(seqs, reverse=True)  # newest first
    scoped = await (
        await client.get(
            "/api/v1/search",
            params={"q": "lagos counterfeit", "group_id": group["id"]},
            headers=officer.auth,
        )
    ).json()
    assert len(scoped["messages"]) == 1
    resp = await client.get(
        "/api/v1/search",
        params={"q": "chloroquine", "group_id": group["id"]},
        headers=outsider.auth,
    )
    await assert_problem(resp, 404)
    staff = await make_member(client, Role.ADMIN)
    everything = await (
        await client.get("/api/v1/search", params={"q": "chloroquine"}, headers=staff.auth)
    ).json()
    assert len(everything["messages"]) == 4
    paged = await (
        await client.get(
            "/api/v1/search", params={"q": "chloroquine", "limit": "2"}, headers=officer.auth
        )
    ).json()
    rest = await (
        await client.get(
            "/api/v1/search",
            params={"q": "chloroquine", "after": paged["next"]},
            headers=officer.auth,
        )
    ).json()
    assert len(paged["messages"]) == 2 and len(rest["messages"]) == 1
    await assert_problem(
        await client.get("/api/v1/search", params={"q": "!!!"}, headers=officer.auth), 422
    )


async def test_one_byte_flips_of_two_thousand_jws_are_all_rejected(
    client: TestClient[Any, Any],
) -> None:
    import random

    mod, group, officer = await _setup(client)
    rng = random.Random(20200511)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
    tokens = [sign(officer, envelope(officer, group["id"])) for _ in range(40)]
    for i in range(2000):
        token = tokens[i % len(tokens)]
        pos = rng.randrange(len(token))
        replacement = rng.choice([c for c in alphabet if c != token[pos]])
        flipped = token[:pos] + replacement + token[pos + 1 :]
        resp = await _post(client, officer, group, flipped)
        assert resp.status in (413, 422), (pos, flipped, await resp.text())
        await resp.release()
    for token in tokens[:5]:
        assert (await _post(client, officer, group, token)).status == 201
    assert len((await _timeline(client, mod, group))["messages"]) == 5
