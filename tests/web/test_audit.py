"""The audit log over HTTP: signed tree heads and proofs verify; only staff query entries."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from cencomm.appkeys import SERVICES
from cencomm.crypto.keys import b64url_decode
from cencomm.crypto.merkle import verify_consistency, verify_inclusion
from cencomm.domain.audit import AuditRecord
from cencomm.domain.audit_tree import parse_checkpoint
from cencomm.domain.users import Role
from tests.factories import Member, make_member
from tests.problems import assert_problem


async def _append(client: TestClient[Any, Any], count: int, action: str = "test.event") -> None:
    services = client.app[SERVICES]
    records = [AuditRecord(action=action, details={"i": i}) for i in range(count)]
    await services.db.write(lambda unit: [services.audit.append(unit, r) for r in records])


async def _get(client: TestClient[Any, Any], path: str, member: Member, **params: Any) -> Any:
    resp = await client.get(f"/api/v1{path}", headers=member.auth, params=params)
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def _signed_head(client: TestClient[Any, Any], member: Member) -> dict[str, Any]:
    await client.app[SERVICES].audit_log.sign_tree_head()
    head: dict[str, Any] = await _get(client, "/audit/tree-head", member)
    return head


async def test_tree_head_signature_verifies_with_the_audit_key(
    client: TestClient[Any, Any],
) -> None:
    officer = await make_member(client, Role.OFFICER)
    head = await _signed_head(client, officer)
    key = await _get(client, "/audit/key", officer)

    assert head["kid"] == key["kid"]
    public = Ed25519PublicKey.from_public_bytes(b64url_decode(key["public_key"]))
    public.verify(b64url_decode(head["signature"]), head["checkpoint"].encode("utf-8"))
    checkpoint = parse_checkpoint(head["checkpoint"])
    assert checkpoint.origin == "cencomm"
    assert checkpoint.tree_size == head["tree_size"] > 0
    assert checkpoint.root_hash.hex() == head["root_hash"]
    assert base64.standard_b64encode(checkpoint.root_hash).decode() in head["checkpoint"]
    stamp = datetime.fromisoformat(head["timestamp"].replace("Z", "+00:00"))
    assert int(stamp.timestamp()) == checkpoint.timestamp
    assert abs(stamp - datetime.now(UTC)) < timedelta(minutes=5)


async def test_inclusion_and_consistency_proofs_verify(client: TestClient[Any, Any]) -> None:
    admin = await make_member(client, Role.ADMIN)
    first = await _signed_head(client, admin)
    await _append(client, 37)
    second = await _signed_head(client, admin)
    assert second["tree_size"] == first["tree_size"] + 37

    for head in (first, second):
        size, root = head["tree_size"], bytes.fromhex(head["root_hash"])
        for index in range(size):
            proof = await _get(client, "/audit/proof/inclusion", admin, index=index, tree_size=size)
            entry = await _get(client, f"/audit/entries/{index}", admin)
            leaf = hashlib.sha256(b"\x00" + entry["leaf"].encode("utf-8")).digest()
            assert proof["leaf_hash"] == leaf.hex()
            path = [bytes.fromhex(h) for h in proof["audit_path"]]
            assert verify_inclusion(leaf, index, size, path, root), (index, size)

    heads = (await _get(client, "/audit/tree-heads", admin))["tree_heads"]
    sizes = [h["tree_size"] for h in heads]
    assert sizes == sorted(set(sizes)) and {first["tree_size"], second["tree_size"]} <= set(sizes)
    for older in heads:
        for newer in heads:
            if older["tree_size"] > newer["tree_size"]:
                continue
            proof = await _get(
                client,
                "/audit/proof/consistency",
                admin,
                first=older["tree_size"],
                second=newer["tree_size"],
            )
            assert verify_consistency(
                older["tree_size"],
                newer["tree_size"],
                bytes.fromhex(older["root_hash"]),
                bytes.fromhex(newer["root_hash"]),
                [bytes.fromhex(h) for h in proof["proof"]],
            )


async def test_entry_leaf_is_the_exact_leaf_string(client: TestClient[Any, Any]) -> None:
    admin = await make_member(client, Role.ADMIN)
    body = await _get(client, "/audit/entries/0", admin)
    entry = body["entry"]
    assert entry["index"] == 0
    assert set(entry) == {
        "index",
        "at",
        "actor_id",
        "organization_id",
        "action",
        "target_type",
        "target_id",
        "group_id",
        "ip",
        "details",
    }
    assert body["leaf"].startswith('{"action":')
    leaf = body["leaf"]
    assert json.loads(leaf) == entry
    assert json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False) == leaf
    resp = await client.get("/api/v1/audit/entries/999999", headers=admin.auth)
    await assert_problem(resp, 404, "not-found")
    resp = await client.get("/api/v1/audit/entries/minus-one", headers=admin.auth)
    await assert_problem(resp, 404, "not-found")


async def test_officer_reads_tree_heads_but_not_entries(client: TestClient[Any, Any]) -> None:
    officer = await make_member(client, Role.OFFICER)
    for path in ("/audit", "/audit/entries/0"):
        resp = await client.get(f"/api/v1{path}", headers=officer.auth)
        await assert_problem(resp, 403, "forbidden")
    for path in ("/audit/tree-head", "/audit/tree-heads", "/audit/key"):
        resp = await client.get(f"/api/v1{path}", headers=officer.auth)
        assert resp.status == 200, await resp.text()
    # A head covering entry 0 (the background signer may still be a second behind).
    head = await _signed_head(client, officer)
    resp = await client.get(
        "/api/v1/audit/proof/inclusion",
        headers=officer.auth,
        params={"index": 0, "tree_size": head["tree_size"]},
    )
    assert resp.status == 200
    resp = await client.get("/api/v1/audit/tree-head")
    await assert_problem(resp, 401)


async def test_moderator_queries_with_filters_and_pages(client: TestClient[Any, Any]) -> None:
    moderator = await make_member(client, Role.MODERATOR)
    await _append(client, 5, action="test.filtered")
    first = await _get(client, "/audit", moderator, action="test.filtered", limit=2)
    assert [e["details"]["i"] for e in first["entries"]] == [0, 1]
    assert first["next"] == first["entries"][-1]["index"]
    rest = await _get(
        client, "/audit", moderator, action="test.filtered", after=first["next"], limit=10
    )
    assert [e["details"]["i"] for e in rest["entries"]] == [2, 3, 4]
    assert rest["next"] is None

    mine = await _get(client, "/audit", moderator, actor_id=moderator.id)
    assert mine["entries"] and all(e["actor_id"] == moderator.id for e in mine["entries"])
    indexes = [e["index"] for e in (await _get(client, "/audit", moderator))["entries"]]
    assert indexes == sorted(indexes)

    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert (await _get(client, "/audit", moderator, since=future))["entries"] == []
    past = (await _get(client, "/audit", moderator, until=future))["entries"]
    assert len(past) >= 5
    resp = await client.get("/api/v1/audit", headers=moderator.auth, params={"since": "yesterday"})
    await assert_problem(resp, 422, "validation-failed")


async def test_proofs_need_signed_tree_sizes(client: TestClient[Any, Any]) -> None:
    officer = await make_member(client, Role.OFFICER)
    head = await _signed_head(client, officer)
    size = head["tree_size"]
    await _append(client, 3)
    cases = [
        ("/audit/proof/inclusion", {"index": 0, "tree_size": size + 1}, 404, "unknown-tree-head"),
        ("/audit/proof/inclusion", {"index": size, "tree_size": size}, 422, "index-out-of-range"),
        ("/audit/proof/consistency", {"first": 1, "second": size}, 404, "unknown-tree-head"),
        ("/audit/proof/inclusion", {"index": -1, "tree_size": size}, 422, "validation-failed"),
    ]
    for path, params, status, slug in cases:
        resp = await client.get(f"/api/v1{path}", headers=officer.auth, params=params)
        await assert_problem(resp, status, slug)
    newer = await _signed_head(client, officer)
    resp = await client.get(
        "/api/v1/audit/proof/consistency",
        headers=officer.auth,
        params={"first": newer["tree_size"], "second": size},
    )
    await assert_problem(resp, 422, "validation-failed")


async def test_tree_heads_page_by_tree_size(client: TestClient[Any, Any]) -> None:
    officer = await make_member(client, Role.OFFICER)
    sizes = []
    for _ in range(3):
        await _append(client, 2)
        head = await _signed_head(client, officer)
        sizes.append(head["tree_size"])
    page = await _get(client, "/audit/tree-heads", officer, after=sizes[0], limit=1)
    assert [h["tree_size"] for h in page["tree_heads"]] == [sizes[1]]
    assert page["next"] == sizes[1]
    rest = await _get(client, "/audit/tree-heads", officer, after=page["next"], limit=500)
    assert [h["tree_size"] for h in rest["tree_heads"]] == [sizes[2]]
    assert rest["next"] is None


async def test_every_audit_route_is_in_the_openapi_document(client: TestClient[Any, Any]) -> None:
    resp = await client.get("/api/openapi.json")
    paths = (await resp.json())["paths"]
    for path in (
        "/api/v1/audit",
        "/api/v1/audit/entries/{index}",
        "/api/v1/audit/tree-head",
        "/api/v1/audit/tree-heads",
        "/api/v1/audit/key",
        "/api/v1/audit/proof/inclusion",
        "/api/v1/audit/proof/consistency",
    ):
        assert "get" in paths[path], path
