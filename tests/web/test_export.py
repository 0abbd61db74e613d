"""Evidence export: GET /groups/{id}/export and `cencomm verify-export`, offline."""

from __future__ import annotations

import asyncio
import io
import json
import os
import random
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from cencomm.app import create_app
from cencomm.appkeys import SERVICES
from cencomm.crypto.jws import parse_compact
from cencomm.domain.evidence import BundleInvalid
from cencomm.domain.evidence_zip import parse_strict
from cencomm.domain.users import Role
from cencomm.settings import ExportSettings, Settings
from cencomm.verification.bundle import verify_bundle
from cencomm.verification.tree_heads import audit_key_from_json
from tests.conftest import with_settings
from tests.factories import (
    Member,
    add_member,
    make_group,
    make_member,
    post_message,
    register_key,
    seizure_body,
)
from tests.problems import assert_problem

API = "/api/v1"
CLI_TIMEOUT = 120.0
AWB = b"airway bill 176-12345675\nconsignee: pharmacy\n"


@dataclass
class Scene:
    owner: Member
    moderator: Member
    officer: Member
    observer: Member
    group: dict[str, Any]
    messages: list[dict[str, Any]]

    @property
    def export_path(self) -> str:
        return f"{API}/groups/{self.group['id']}/export"


async def build_scene(client: TestClient[Any, Any]) -> Scene:
    """A group with texts of every handling code, a seizure, an attachment, a hidden message
    and a message signed by a key revoked afterwards (so the bundle holds two keys)."""
    owner = await make_member(client, Role.ADMIN)
    moderator = await make_member(client, Role.OFFICER)
    officer = await make_member(client, Role.OFFICER, with_key=True)
    observer = await make_member(client, Role.OFFICER)
    group = await make_group(client, owner)
    await add_member(client, owner, group, moderator, "moderator")
    await add_member(client, owner, group, officer)
    await add_member(client, owner, group, observer, "observer")
    posted = [await post_message(client, officer, group, hc="TLP:RED")]
    resp = await client.delete(f"{API}/keys/{officer.kid}", headers=officer.auth)
    assert resp.status == 204
    await register_key(client, officer)
    for hc in ("TLP:CLEAR", "TLP:GREEN", "TLP:AMBER+STRICT"):
        posted.append(await post_message(client, officer, group, hc=hc))
    posted.append(await post_message(client, officer, group, "seizure", body=seizure_body()))
    resp = await client.post(
        f"{API}/groups/{group['id']}/attachments",
        params={"name": "awb.txt"},
        data=AWB,
        headers={**officer.auth, "Content-Type": "text/plain"},
    )
    assert resp.status == 201, await resp.text()
    sha = (await resp.json())["sha256"]
    att = [{"sha256": sha, "size": len(AWB), "name": "awb.txt", "type": "text/plain"}]
    posted.append(await post_message(client, officer, group, hc="TLP:AMBER", att=att))
    resp = await client.post(
        f"{API}/messages/{posted[1]['id']}/hide", json={"reason": "duplicate"}, headers=owner.auth
    )
    assert resp.status == 200
    return Scene(owner, moderator, officer, observer, group, posted)


async def export(
    client: TestClient[Any, Any], scene: Scene, who: Member, blobs: bool = False
) -> bytes:
    params = {"blobs": "true"} if blobs else None
    resp = await client.get(scene.export_path, params=params, headers=who.auth)
    assert resp.status == 200, await resp.text()
    assert resp.content_type == "application/zip"
    assert "attachment" in resp.headers["Content-Disposition"]
    return await resp.read()


async def fetch_json(client: TestClient[Any, Any], who: Member, path: str, **params: str) -> Any:
    resp = await client.get(f"{API}{path}", params=params or None, headers=who.auth)
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """`python -m cencomm ...` as a real process, bounded in time."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CENCOMM_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cencomm",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), CLI_TIMEOUT)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return subprocess.CompletedProcess(args, proc.returncode, out.decode(), err.decode())


def members_of(bundle: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


async def test_exported_bundle_verifies_offline_with_the_cli(
    client: TestClient[Any, Any], tmp_path: Path
) -> None:
    scene = await build_scene(client)
    bundle = await export(client, scene, scene.moderator)
    path = tmp_path / "bundle.zip"
    path.write_bytes(bundle)
    key = tmp_path / "audit-key.json"
    key.write_text(json.dumps(await fetch_json(client, scene.officer, "/audit/key")))
    head = tmp_path / "head.json"
    head.write_text(json.dumps(await fetch_json(client, scene.officer, "/audit/tree-head")))

    done = await run_cli(
        "verify-export", str(path), "--audit-key", str(key), "--tree-head", str(head)
    )
    assert done.returncode == 0, done.stderr
    assert "evidence bundle verified" in done.stdout and "audit key pinned" in done.stdout
    assert "6 messages, 2 keys, 1 attachments" in done.stdout
    # Without pins it still verifies, and says that the key is the bundle's own.
    done = await run_cli("verify-export", str(path))
    assert done.returncode == 0, done.stderr
    assert "NOT pinned" in done.stdout

    # A later tree head: consistent with the bundle's only through a consistency proof.
    await client.app[SERVICES].audit_log.sign_tree_head()
    await fetch_json(client, scene.owner, "/users")  # reads write no entries; a change does
    resp = await client.patch(
        f"{API}/groups/{scene.group['id']}", json={"name": "Renamed"}, headers=scene.owner.auth
    )
    assert resp.status == 200
    await client.app[SERVICES].audit_log.sign_tree_head()
    later = await fetch_json(client, scene.officer, "/audit/tree-head")
    bundle_size = json.loads(members_of(bundle)["audit/tree-head.json"])["tree_size"]
    assert later["tree_size"] > bundle_size
    head.write_text(json.dumps(later))
    done = await run_cli(
        "verify-export", str(path), "--audit-key", str(key), "--tree-head", str(head)
    )
    assert done.returncode == 1 and "consistency" in done.stderr, done.stderr
    proof = tmp_path / "proof.json"
    proof.write_text(
        json.dumps(
            await fetch_json(
                client,
                scene.officer,
                "/audit/proof/consistency",
                first=str(bundle_size),
                second=str(later["tree_size"]),
            )
        )
    )
    done = await run_cli(
        "verify-export", str(path), "--audit-key", str(key), "--tree-head", str(head),
        "--consistency-proof", str(proof),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr

    # One byte changed: non-zero, one line on stderr naming what failed first.
    broken = bytearray(bundle)
    broken[len(broken) // 3] ^= 0x20
    path.write_bytes(bytes(broken))
    done = await run_cli("verify-export", str(path))
    assert done.returncode == 1
    assert done.stderr.startswith("cencomm: evidence bundle NOT verified: "), done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


async def test_a_bundle_signed_by_another_audit_key_fails_against_the_pinned_one(
    client: TestClient[Any, Any], tmp_path: Path
) -> None:
    scene = await build_scene(client)
    path = tmp_path / "bundle.zip"
    path.write_bytes(await export(client, scene, scene.owner))
    real = audit_key_from_json(await fetch_json(client, scene.owner, "/audit/key"))
    assert verify_bundle(path, audit_key=real).pinned_key
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from cencomm.crypto.keys import b64url_encode, jwk_thumbprint, raw_public_key

    raw = raw_public_key(Ed25519PrivateKey.generate().public_key())
    other = audit_key_from_json({"kid": jwk_thumbprint(raw), "public_key": b64url_encode(raw)})
    with pytest.raises(BundleInvalid, match="not the pinned audit key"):
        verify_bundle(path, audit_key=other)


async def test_the_bundle_holds_every_message_verbatim_and_its_own_audit_entry(
    client: TestClient[Any, Any],
) -> None:
    scene = await build_scene(client)
    before = await fetch_json(client, scene.owner, "/audit", action="group.export")
    bundle = await export(client, scene, scene.moderator)
    files = members_of(bundle)
    assert list(files)[-2:] == ["manifest.json", "manifest.sig"]
    messages = [json.loads(line) for line in files["messages.jsonl"].splitlines()]
    assert [m["seq"] for m in messages] == [1, 2, 3, 4, 5, 6]
    by_id = {m["id"]: m for m in messages}
    for posted in scene.messages:
        assert by_id[posted["id"]]["seq"] == posted["seq"]
    # Moderators see everything: TLP:RED and hidden messages carry their JWS verbatim.
    assert {m["hc"] for m in messages} >= {"TLP:RED", "TLP:AMBER+STRICT"}
    hidden = by_id[scene.messages[1]["id"]]
    assert hidden["hidden"] is True and hidden["hidden_reason"] == "duplicate"
    assert parse_compact(hidden["jws"]).payload["hc"] == "TLP:CLEAR"
    export_doc = json.loads(files["export.json"])
    assert export_doc["handling_codes"] == sorted({m["hc"] for m in messages})
    assert "TLP:RED" in files["README.txt"].decode()
    keys = json.loads(files["keys.json"])["keys"]
    assert len(keys) == 2 and sum(k["revoked_at"] is not None for k in keys) == 1
    # The export is audited once, and the bundle's tree head covers that very entry.
    after = await fetch_json(client, scene.owner, "/audit", action="group.export")
    new = after["entries"][len(before["entries"]) :]
    assert len(new) == 1 and new[0]["group_id"] == scene.group["id"]
    assert new[0]["actor_id"] == scene.moderator.id
    assert export_doc["export_entry"] == new[0]["index"] < export_doc["tree_size"]
    leaves = [json.loads(line)["leaf"] for line in files["audit/entries.jsonl"].splitlines()]
    assert any(json.loads(leaf)["index"] == new[0]["index"] for leaf in leaves)
    assert not any(name.startswith("blobs/") for name in files)


async def test_blobs_true_adds_the_decrypted_attachments(
    client: TestClient[Any, Any], tmp_path: Path
) -> None:
    scene = await build_scene(client)
    bundle = await export(client, scene, scene.moderator, blobs=True)
    files = members_of(bundle)
    blobs = {name: data for name, data in files.items() if name.startswith("blobs/")}
    assert list(blobs.values()) == [AWB]
    listed = json.loads(files["attachments.json"])["attachments"]
    assert listed[0]["blob"] == next(iter(blobs)) and listed[0]["size"] == len(AWB)
    path = tmp_path / "bundle.zip"
    path.write_bytes(bundle)
    assert verify_bundle(path).blobs == 1


async def test_only_group_moderators_and_staff_may_export(client: TestClient[Any, Any]) -> None:
    scene = await build_scene(client)
    staff = await make_member(client, Role.MODERATOR)
    stranger = await make_member(client, Role.OFFICER)
    for who in (scene.moderator, scene.owner, staff):
        await export(client, scene, who)
    for who in (scene.officer, scene.observer):
        resp = await client.get(scene.export_path, headers=who.auth)
        await assert_problem(resp, 403, "not-moderator")
    resp = await client.get(scene.export_path, headers=stranger.auth)
    hidden = await assert_problem(resp, 404)
    resp = await client.get(f"{API}/groups/{os.urandom(16).hex()}/export", headers=stranger.auth)
    await assert_problem(resp, 404)
    resp = await client.get(
        f"{API}/groups/8f1c5a52-4c1b-4f6e-9a43-3c2a9e4f1d00/export", headers=stranger.auth
    )
    missing = await assert_problem(resp, 404)
    assert hidden["detail"] == missing["detail"]
    resp = await client.get(scene.export_path)
    await assert_problem(resp, 401)


async def test_an_export_over_the_configured_limit_is_refused_before_it_starts(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    limited = with_settings(settings, export=ExportSettings(max_bytes=len(AWB) - 1))
    client = await aiohttp_client(create_app(limited))
    scene = await build_scene(client)
    before = await fetch_json(client, scene.owner, "/audit", action="group.export")
    resp = await client.get(scene.export_path, params={"blobs": "true"}, headers=scene.owner.auth)
    body = await assert_problem(resp, 413, "export-too-large")
    assert "export.max_bytes" in body["detail"]
    after = await fetch_json(client, scene.owner, "/audit", action="group.export")
    assert after["entries"] == before["entries"]  # refused: nothing exported, nothing audited
    await export(client, scene, scene.owner)  # without the blobs it goes through


# -- one changed byte anywhere fails ---------------------------------------------------------------


def _fails(path: Path, data: bytes, where: str) -> None:
    path.write_bytes(data)
    try:
        verify_bundle(path)
    except BundleInvalid:
        return
    raise AssertionError(f"a bundle changed at {where} still verifies")


async def test_changing_any_one_byte_makes_verification_fail(
    client: TestClient[Any, Any], tmp_path: Path
) -> None:
    scene = await build_scene(client)
    bundle = await export(client, scene, scene.moderator, blobs=True)
    good = tmp_path / "good.zip"
    good.write_bytes(bundle)
    verify_bundle(good)
    path = tmp_path / "bad.zip"
    members = parse_strict(lambda offset, length: bundle[offset : offset + length], len(bundle))
    data_bytes: set[int] = set()
    # 1. One byte inside every member's data: the first, the middle and the last.
    names = {m.name for m in members}
    assert {"manifest.json", "manifest.sig", "messages.jsonl", "audit/entries.jsonl"} <= names
    for member in members:
        span = range(member.data_offset, member.data_offset + member.size)
        data_bytes.update(span)
        for position in {span[0], span[len(span) // 2], span[-1]}:
            for mask in (0x01, 0x80):
                changed = bytearray(bundle)
                changed[position] ^= mask
                _fails(path, bytes(changed), f"{member.name} byte {position - span[0]}")
    # 2. Every byte of the zip structure: local headers, names, data descriptors, the central
    # directory and the end records.
    structure = [p for p in range(len(bundle)) if p not in data_bytes]
    assert len(structure) > 500
    for position in structure:
        changed = bytearray(bundle)
        changed[position] ^= 0x01
        _fails(path, bytes(changed), f"structure byte {position}")
    # 3. 300 single-byte changes anywhere, with a seeded generator.
    rng = random.Random(20200520)
    for _ in range(300):
        position = rng.randrange(len(bundle))
        changed = bytearray(bundle)
        changed[position] ^= rng.randrange(1, 256)
        _fails(path, bytes(changed), f"byte {position}")
    # Cut short or extended: fails too.
    _fails(path, bundle[:-1], "the end (truncated)")
    _fails(path, bundle + b"\0", "the end (extended)")
    _fails(path, b"\0" + bundle, "the start (prefixed)")
