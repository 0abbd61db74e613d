"""Organisation seals (issue 21, second half): seal keys, seal holders, countersignatures.

Acceptance: only an active organisation key of the message sender's organisation, only by an
allowed user (a seal holder of that organisation who can read the message), hash mismatch
refused, revoked seal keys keep old countersignatures verifiable.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from cencomm.appkeys import SERVICES
from cencomm.crypto.keys import b64url_encode
from cencomm.domain.audit import AuditFilter
from cencomm.domain.users import OrganizationKind, Role
from tests.factories import (
    Member,
    add_member,
    make_group,
    make_member,
    make_organization,
    post_message,
)
from tests.problems import assert_problem
from tests.web.live_helpers import connect, next_of
from tests.web.seal_helpers import (
    API,
    Seal,
    countersign,
    countersignature_payload,
    designate,
    public_key_of,
    register_seal,
    seal_jws,
)


@dataclass
class Scene:
    admin: Member
    author: Member  # officer of administration A, posts the report
    holder: Member  # officer of A, seal holder of A, member of the group
    group: dict[str, Any]
    message: dict[str, Any]  # as read by the holder (with its jws)
    seal: Seal  # A's seal key


async def scene(client: TestClient[Any, Any]) -> Scene:
    admin = await make_member(client, Role.ADMIN)
    author = await make_member(client, with_key=True)
    holder = await make_member(client, organization=author.organization)
    group = await make_group(client, admin)
    for member in (author, holder):
        await add_member(client, admin, group, member)
    posted = await post_message(client, author, group, hc="TLP:GREEN")
    await designate(client, admin, holder)
    seal = await register_seal(client, holder, author.organization.id)
    resp = await client.get(f"{API}/messages/{posted['id']}", headers=holder.auth)
    return Scene(admin, author, holder, group, await resp.json(), seal)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _raw_jws(header: dict[str, Any] | str, payload: dict[str, Any] | str, key: Any) -> str:
    """A JWS built by hand (header and payload as given, even when malformed)."""
    h = header if isinstance(header, str) else json.dumps(header)
    p = payload if isinstance(payload, str) else json.dumps(payload)
    signing_input = f"{_b64(h.encode())}.{_b64(p.encode())}"
    return f"{signing_input}.{_b64(key.sign(signing_input.encode('ascii')))}"


def _verifies(jws: str, public_key: str) -> bool:
    """Checked as any JOSE user would: base64url decode, Ed25519 over `header.payload`."""
    header, payload, signature = jws.split(".")
    raw = base64.urlsafe_b64decode(public_key + "=" * (-len(public_key) % 4))
    sig = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    try:
        Ed25519PublicKey.from_public_bytes(raw).verify(sig, f"{header}.{payload}".encode())
    except Exception:
        return False
    return True


async def _actions(client: TestClient[Any, Any]) -> list[str]:
    db = client.app[SERVICES].db
    entries = await db.read(lambda unit: unit.audit.list_entries(AuditFilter(), None, 500))
    return [e.action for e in entries]


async def test_a_holder_countersigns_and_every_read_carries_it(
    client: TestClient[Any, Any],
) -> None:
    s = await scene(client)
    assert s.message["countersignatures"] == []
    jws = seal_jws(s.seal, countersignature_payload(s.holder, s.seal, s.message))
    resp = await countersign(client, s.holder, s.message["id"], jws)
    assert resp.status == 201, await resp.text()
    receipt = await resp.json()
    assert receipt["jws"] == jws and receipt["kid"] == s.seal.kid
    assert receipt["organization_id"] == s.seal.organization_id
    assert receipt["message_id"] == s.message["id"] and receipt["signer_id"] == s.holder.id
    # The identical JWS again is a repeat: the original, and nothing new in the audit log.
    count = len(await _actions(client))
    again = await countersign(client, s.holder, s.message["id"], jws)
    assert again.status == 200 and (await again.json())["id"] == receipt["id"]
    assert len(await _actions(client)) == count

    expected = [
        {
            "organization_id": s.seal.organization_id,
            "kid": s.seal.kid,
            "jws": jws,
            "created_at": receipt["created_at"],
        }
    ]
    reader = s.author
    one = await (await client.get(f"{API}/messages/{s.message['id']}", headers=reader.auth)).json()
    assert one["countersignatures"] == expected
    timeline = await (
        await client.get(f"{API}/groups/{s.group['id']}/messages", headers=reader.auth)
    ).json()
    assert [m["countersignatures"] for m in timeline["messages"]] == [expected]
    found = await (
        await client.get(f"{API}/search", params={"q": "masks"}, headers=reader.auth)
    ).json()
    assert [m["countersignatures"] for m in found["messages"]] == [expected]
    # Anyone can check it against the organisation's published keys.
    keys = await (
        await client.get(f"{API}/organizations/{s.seal.organization_id}/keys", headers=reader.auth)
    ).json()
    [key] = keys["keys"]
    assert key["kid"] == s.seal.kid and _verifies(jws, key["public_key"])
    claims = json.loads(base64.urlsafe_b64decode(jws.split(".")[1] + "=="))
    assert claims["sha256"] == hashlib.sha256(s.message["jws"].encode("ascii")).hexdigest()
    actions = await _actions(client)
    for action in ("seal_holder.add", "seal_key.register", "message.countersign"):
        assert actions.count(action) == 1, actions


async def test_only_an_active_seal_key_of_the_sender_organisation(
    client: TestClient[Any, Any],
) -> None:
    s = await scene(client)
    other_org = await make_organization(client)
    foreign = await register_seal(client, s.admin, other_org.id)

    async def refused(seal: Seal, slug: str, **claims: Any) -> None:
        payload = countersignature_payload(s.holder, seal, s.message, **claims)
        resp = await countersign(client, s.holder, s.message["id"], seal_jws(seal, payload))
        await assert_problem(resp, 422, slug)

    # Another organisation's key, naming that organisation or the sender's.
    await refused(foreign, "organization-mismatch")
    await refused(foreign, "organization-mismatch", org=s.seal.organization_id)
    # The sender's key, but another organisation named.
    await refused(s.seal, "organization-mismatch", org=str(other_org.id))
    # A key nobody registered; a user's signing key is no seal.
    stray = Seal(s.seal.organization_id, Ed25519PrivateKey.generate(), "not-a-kid")
    await refused(stray, "unknown-key")
    assert s.author.signing_key is not None and s.author.kid is not None
    personal = Seal(s.seal.organization_id, s.author.signing_key, s.author.kid)
    await refused(personal, "unknown-key")
    # A revoked key.
    old = await register_seal(client, s.holder, s.seal.organization_id)
    resp = await client.delete(
        f"{API}/organizations/{old.organization_id}/keys/{old.kid}", headers=s.holder.auth
    )
    assert resp.status == 204
    await refused(old, "revoked-key")
    # Signed by another key than the one `kid` names.
    forged = Seal(s.seal.organization_id, Ed25519PrivateKey.generate(), s.seal.kid)
    await refused(forged, "bad-signature")
    # The active key works, with the older `EdDSA` name too.
    payload = countersignature_payload(s.holder, s.seal, s.message)
    resp = await countersign(
        client, s.holder, s.message["id"], seal_jws(s.seal, payload, alg="EdDSA")
    )
    assert resp.status == 201, await resp.text()


async def test_only_a_seal_holder_who_reads_the_message_countersigns(
    client: TestClient[Any, Any],
) -> None:
    s = await scene(client)
    payload_for = countersignature_payload

    async def attempt(who: Member) -> Any:
        jws = seal_jws(s.seal, payload_for(who, s.seal, s.message))
        return await countersign(client, who, s.message["id"], jws)

    # The author is no seal holder; neither is an admin by their role alone.
    await assert_problem(await attempt(s.author), 403, "not-seal-holder")
    await assert_problem(await attempt(s.admin), 403, "not-seal-holder")
    # A seal holder of another administration, reading the group.
    outsider = await make_member(client)
    await add_member(client, s.admin, s.group, outsider)
    await designate(client, s.admin, outsider)
    await assert_problem(await attempt(outsider), 403, "not-seal-holder")
    # A seal holder of the sender's organisation who cannot read the group: 404, as missing.
    absent = await make_member(client, organization=s.author.organization)
    await designate(client, s.admin, absent)
    hidden = await attempt(absent)
    await assert_problem(hidden, 404)
    missing = await countersign(
        client, absent, str(uuid.uuid4()), seal_jws(s.seal, payload_for(absent, s.seal, s.message))
    )
    missing_body, hidden_body = await missing.json(), await hidden.json()
    assert missing.status == 404 and missing_body["detail"] == hidden_body["detail"]
    # A holder made observer afterwards no longer seals (observers never sign).
    demoted = await make_member(client, organization=s.author.organization)
    await add_member(client, s.admin, s.group, demoted)
    await designate(client, s.admin, demoted)
    resp = await client.patch(
        f"{API}/users/{demoted.id}", json={"role": "observer"}, headers=s.admin.auth
    )
    assert resp.status == 200
    await assert_problem(await attempt(demoted), 403)
    # `sub` must be the caller: a holder cannot seal in another holder's name.
    other_holder = await make_member(client, organization=s.author.organization)
    await add_member(client, s.admin, s.group, other_holder)
    await designate(client, s.admin, other_holder)
    jws = seal_jws(s.seal, payload_for(s.holder, s.seal, s.message))
    resp = await countersign(client, other_holder, s.message["id"], jws)
    await assert_problem(resp, 422, "sender-mismatch")
    # Once the designation is taken away, the holder no longer seals.
    resp = await client.delete(
        f"{API}/organizations/{s.seal.organization_id}/seal-holders/{s.holder.id}",
        headers=s.admin.auth,
    )
    assert resp.status == 204
    await assert_problem(await attempt(s.holder), 403, "not-seal-holder")


async def test_hash_mismatch_and_the_strict_checks_of_messages(
    client: TestClient[Any, Any],
) -> None:
    s = await scene(client)
    other = await post_message(client, s.author, s.group, hc="TLP:GREEN")
    message_id = s.message["id"]
    private = s.seal.private_key
    header = {"alg": "Ed25519", "kid": s.seal.kid, "typ": "cencomm+jws"}

    async def check(jws: str, status: int, slug: str) -> None:
        await assert_problem(await countersign(client, s.holder, message_id, jws), status, slug)

    def claims(**changes: Any) -> dict[str, Any]:
        return countersignature_payload(s.holder, s.seal, s.message, **changes)

    await check(seal_jws(s.seal, claims(sha256="0" * 64)), 422, "hash-mismatch")
    await check(seal_jws(s.seal, claims(sha256="A" * 64)), 422, "invalid-claims")
    await check(seal_jws(s.seal, claims(msg=other["id"])), 422, "message-mismatch")
    await check(seal_jws(s.seal, claims(grp=s.group["id"])), 422, "invalid-claims")
    await check(seal_jws(s.seal, claims(v=2)), 422, "invalid-claims")
    await check(seal_jws(s.seal, claims(cid="not-a-uuid")), 422, "invalid-claims")
    await check(seal_jws(s.seal, claims(typ="text")), 422, "unknown-typ")
    await check(seal_jws(s.seal, claims(iat=int(time.time()) - 3600)), 422, "stale-iat")
    without_sha = claims()
    del without_sha["sha256"]
    await check(seal_jws(s.seal, without_sha), 422, "invalid-claims")
    duplicated = json.dumps(claims())[:-1] + f', "sub": "{s.holder.id}"}}'
    await check(_raw_jws(header, duplicated, private), 422, "invalid-jws")
    with_jwk = {**header, "jwk": {"kty": "OKP", "crv": "Ed25519", "x": public_key_of(private)}}
    await check(_raw_jws(with_jwk, claims(), private), 422, "invalid-jws")
    await check(_raw_jws({**header, "alg": "HS256"}, claims(), private), 422, "invalid-jws")
    await check(seal_jws(s.seal, claims(pad="x" * 5000)), 422, "validation-failed")
    resp = await countersign(client, s.holder, message_id, "not a jws")
    await assert_problem(resp, 422)
    # Nothing of that was recorded.
    one = await (await client.get(f"{API}/messages/{message_id}", headers=s.holder.auth)).json()
    assert one["countersignatures"] == []


async def test_repeats_and_one_seal_per_key_and_message(client: TestClient[Any, Any]) -> None:
    s = await scene(client)
    cid = str(uuid.uuid4())
    first = seal_jws(s.seal, countersignature_payload(s.holder, s.seal, s.message, cid=cid))
    assert (await countersign(client, s.holder, s.message["id"], first)).status == 201
    # The same cid with another JWS.
    changed = seal_jws(
        s.seal,
        countersignature_payload(s.holder, s.seal, s.message, cid=cid, iat=1 + int(time.time())),
    )
    await assert_problem(
        await countersign(client, s.holder, s.message["id"], changed), 409, "duplicate-cid"
    )
    # Another cid, the same key and message.
    again = seal_jws(s.seal, countersignature_payload(s.holder, s.seal, s.message))
    await assert_problem(
        await countersign(client, s.holder, s.message["id"], again), 409, "already-countersigned"
    )
    # A new seal key of the organisation may seal it again (after a rotation, say).
    rotated = await register_seal(client, s.admin, s.seal.organization_id)
    jws = seal_jws(rotated, countersignature_payload(s.holder, rotated, s.message))
    assert (await countersign(client, s.holder, s.message["id"], jws)).status == 201
    one = await (
        await client.get(f"{API}/messages/{s.message['id']}", headers=s.author.auth)
    ).json()
    assert [c["kid"] for c in one["countersignatures"]] == [s.seal.kid, rotated.kid]


async def test_revoked_seal_keys_keep_old_countersignatures_verifiable(
    client: TestClient[Any, Any],
) -> None:
    s = await scene(client)
    jws = seal_jws(s.seal, countersignature_payload(s.holder, s.seal, s.message))
    assert (await countersign(client, s.holder, s.message["id"], jws)).status == 201
    path = f"{API}/organizations/{s.seal.organization_id}/keys"
    resp = await client.delete(f"{path}/{s.seal.kid}", headers=s.holder.auth)
    assert resp.status == 204
    assert (await client.delete(f"{path}/{s.seal.kid}", headers=s.admin.auth)).status == 204
    keys = (await (await client.get(path, headers=s.author.auth)).json())["keys"]
    assert [(k["kid"], k["revoked_at"] is not None) for k in keys] == [(s.seal.kid, True)]
    one = await (
        await client.get(f"{API}/messages/{s.message['id']}", headers=s.author.auth)
    ).json()
    [seal] = one["countersignatures"]
    assert seal["jws"] == jws and _verifies(seal["jws"], keys[0]["public_key"])
    assert seal["created_at"] < keys[0]["revoked_at"]


async def test_hidden_messages_are_not_countersigned_and_hide_their_seals(
    client: TestClient[Any, Any],
) -> None:
    s = await scene(client)
    jws = seal_jws(s.seal, countersignature_payload(s.holder, s.seal, s.message))
    assert (await countersign(client, s.holder, s.message["id"], jws)).status == 201
    resp = await client.post(
        f"{API}/messages/{s.message['id']}/hide",
        json={"reason": "wrong group"},
        headers=s.admin.auth,
    )
    assert resp.status == 200
    assert (await resp.json())["countersignatures"][0]["jws"] == jws  # moderators see it
    seen = await (
        await client.get(f"{API}/messages/{s.message['id']}", headers=s.author.auth)
    ).json()
    assert seen["jws"] is None
    assert [(c["kid"], c["jws"]) for c in seen["countersignatures"]] == [(s.seal.kid, None)]
    rotated = await register_seal(client, s.holder, s.seal.organization_id)
    later = seal_jws(rotated, countersignature_payload(s.holder, rotated, s.message))
    resp = await countersign(client, s.holder, s.message["id"], later)
    await assert_problem(resp, 409, "message-hidden")


async def test_seal_keys_are_managed_by_admins_and_holders_and_public(
    client: TestClient[Any, Any],
) -> None:
    s = await scene(client)
    org = s.seal.organization_id
    path = f"{API}/organizations/{org}/keys"
    fresh = {"public_key": public_key_of(Ed25519PrivateKey.generate())}
    # Neither admin nor holder: officers, analysts, moderators, observers.
    for role in (Role.OFFICER, Role.ANALYST, Role.MODERATOR):
        someone = await make_member(client, role)
        await assert_problem(await client.post(path, json=fresh, headers=someone.auth), 403)
        resp = await client.delete(f"{path}/{s.seal.kid}", headers=someone.auth)
        await assert_problem(resp, 403)
    await assert_problem(await client.post(path, json=fresh, headers=s.author.auth), 403)
    observer = await make_member(client, Role.OBSERVER)
    await assert_problem(await client.post(path, json=fresh, headers=observer.auth), 403)
    # Public: anyone logged in reads them (an observer too); an unknown organisation is 404.
    resp = await client.get(path, headers=observer.auth)
    assert resp.status == 200 and len((await resp.json())["keys"]) == 1
    unknown = f"{API}/organizations/{uuid.uuid4()}/keys"
    await assert_problem(await client.get(unknown, headers=observer.auth), 404)
    await assert_problem(await client.post(unknown, json=fresh, headers=s.admin.auth), 404)
    # Duplicates: the same seal key again, or a user's signing key.
    again = {"public_key": public_key_of(s.seal.private_key)}
    await assert_problem(
        await client.post(path, json=again, headers=s.holder.auth), 409, "duplicate-key"
    )
    assert s.author.signing_key is not None
    personal = {"public_key": public_key_of(s.author.signing_key)}
    await assert_problem(
        await client.post(path, json=personal, headers=s.admin.auth), 409, "duplicate-key"
    )
    bad = {"public_key": b64url_encode(bytes(32))}
    await assert_problem(await client.post(path, json=bad, headers=s.admin.auth), 422)
    label = {**fresh, "label": "x" * 101}
    await assert_problem(await client.post(path, json=label, headers=s.admin.auth), 422)
    # Another organisation's key is not revoked through this one; unknown kids are 404.
    other_org = await make_organization(client)
    foreign = await register_seal(client, s.admin, other_org.id)
    await assert_problem(await client.delete(f"{path}/{foreign.kid}", headers=s.admin.auth), 404)
    await assert_problem(await client.delete(f"{path}/nope", headers=s.holder.auth), 404)
    # The admin registers for any organisation.
    resp = await client.post(path, json=fresh, headers=s.admin.auth)
    assert resp.status == 201
    assert (await resp.json())["organization_id"] == org


async def test_seal_holders_are_designated_by_admins_only(client: TestClient[Any, Any]) -> None:
    s = await scene(client)
    org = s.seal.organization_id
    base = f"{API}/organizations/{org}/seal-holders"
    candidate = await make_member(client, organization=s.author.organization)
    for role in (Role.OFFICER, Role.ANALYST, Role.MODERATOR, Role.OBSERVER):
        someone = await make_member(client, role)
        await assert_problem(await client.put(f"{base}/{candidate.id}", headers=someone.auth), 403)
        await assert_problem(
            await client.delete(f"{base}/{s.holder.id}", headers=someone.auth), 403
        )
        await assert_problem(await client.get(base, headers=someone.auth), 403)
    # Not even a holder designates another.
    await assert_problem(await client.put(f"{base}/{candidate.id}", headers=s.holder.auth), 403)
    resp = await client.put(f"{base}/{candidate.id}", headers=s.admin.auth)
    assert resp.status == 201
    body = await resp.json()
    assert body["user_id"] == candidate.id and body["organization_id"] == org
    again = await client.put(f"{base}/{candidate.id}", headers=s.admin.auth)
    assert again.status == 200 and await again.json() == body
    listed = await (await client.get(base, headers=s.admin.auth)).json()
    assert {h["user_id"] for h in listed["seal_holders"]} == {s.holder.id, candidate.id}
    # Only users of that organisation, never observers; unknown ones are 404.
    stranger = await make_member(client)
    await assert_problem(
        await client.put(f"{base}/{stranger.id}", headers=s.admin.auth),
        409,
        "not-organization-user",
    )
    partner = await make_organization(client, kind=OrganizationKind.PARTNER, country=None)
    watcher = await make_member(client, Role.OBSERVER, organization=partner)
    await assert_problem(
        await client.put(
            f"{API}/organizations/{partner.id}/seal-holders/{watcher.id}", headers=s.admin.auth
        ),
        409,
        "not-organization-user",
    )
    await assert_problem(await client.put(f"{base}/{uuid.uuid4()}", headers=s.admin.auth), 404)
    missing_org = f"{API}/organizations/{uuid.uuid4()}/seal-holders"
    await assert_problem(
        await client.put(f"{missing_org}/{candidate.id}", headers=s.admin.auth), 404
    )
    await assert_problem(await client.get(missing_org, headers=s.admin.auth), 404)
    await assert_problem(await client.put(f"{base}/not-a-uuid", headers=s.admin.auth), 404)
    assert (await client.delete(f"{base}/{candidate.id}", headers=s.admin.auth)).status == 204
    assert (await client.delete(f"{base}/{candidate.id}", headers=s.admin.auth)).status == 204
    actions = await _actions(client)
    assert actions.count("seal_holder.add") == 2 and actions.count("seal_holder.remove") == 1


async def test_readers_get_a_live_frame_when_a_message_is_countersigned(
    client: TestClient[Any, Any],
) -> None:
    s = await scene(client)
    ws = await connect(client, s.author)
    try:
        jws = seal_jws(s.seal, countersignature_payload(s.holder, s.seal, s.message))
        resp = await countersign(client, s.holder, s.message["id"], jws)
        assert resp.status == 201
        frame = await next_of(ws, "message.countersigned")
        assert frame == {
            "type": "message.countersigned",
            "group_id": s.group["id"],
            "message_id": s.message["id"],
            "countersignature": {
                "organization_id": s.seal.organization_id,
                "kid": s.seal.kid,
                "jws": jws,
                "created_at": (await resp.json())["created_at"],
            },
        }
        # A later message frame carries its (empty) countersignatures too.
        await post_message(client, s.author, s.group, hc="TLP:GREEN")
        message = await next_of(ws, "message")
        assert message["message"]["countersignatures"] == []
    finally:
        await ws.close()
