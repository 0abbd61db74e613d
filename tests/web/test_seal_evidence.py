"""Countersignatures in the evidence bundle, and `cencomm verify-export` on them (issue 21).

Every kind of tampering with the seals is tried on a bundle whose manifest is then signed again
with the audit key (what a server lying about its records could do): the seals' own checks must
still fail, naming the first failure.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cencomm.appkeys import SERVICES
from cencomm.crypto.keys import b64url_encode
from cencomm.domain import evidence as ev
from cencomm.domain.evidence import BundleInvalid
from cencomm.domain.evidence_zip import ZipStreamWriter
from cencomm.verification.bundle import verify_bundle
from tests.factories import make_organization, post_message
from tests.web.seal_helpers import (
    API,
    Seal,
    countersign,
    countersignature_payload,
    register_seal,
    seal_jws,
)
from tests.web.test_export import run_cli
from tests.web.test_seals import Scene, scene


def _members(bundle: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _reseal(client: TestClient[Any, Any], bundle: bytes, changes: dict[str, bytes | None]) -> bytes:
    """The bundle with members changed (None: removed), its manifest signed again with the
    server's audit key."""
    members = _members(bundle)
    key = client.app[SERVICES].keys_ring.audit
    writer = ZipStreamWriter(datetime.now(UTC))
    out = bytearray()
    for name, data in members.items():
        if name in (ev.MANIFEST, ev.MANIFEST_SIG):
            continue
        changed = changes.get(name, data)
        if changed is not None:
            out += writer.member(name, changed)
    manifest = ev.encode_manifest(
        [ev.ManifestFile(m.name, m.size, m.sha256) for m in writer.members]
    )
    signature = key.private_key.sign(ev.manifest_signing_input(manifest))
    seal = {"alg": "Ed25519", "kid": key.kid, "signature": b64url_encode(signature)}
    out += writer.member(ev.MANIFEST, manifest)
    out += writer.member(ev.MANIFEST_SIG, ev.json_bytes(seal))
    out += writer.finish()
    return bytes(out)


def _lines(raw: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in raw.splitlines()]


def _jsonl(records: list[dict[str, Any]]) -> bytes:
    return b"".join(ev.json_bytes(r) for r in records)


async def _sealed_export(client: TestClient[Any, Any]) -> tuple[Scene, dict[str, Any], bytes]:
    """A group with two messages, the first countersigned by A's seal, which was then revoked."""
    s = await scene(client)
    second = await post_message(client, s.author, s.group, hc="TLP:GREEN")
    jws = seal_jws(s.seal, countersignature_payload(s.holder, s.seal, s.message))
    assert (await countersign(client, s.holder, s.message["id"], jws)).status == 201
    path = f"{API}/organizations/{s.seal.organization_id}/keys/{s.seal.kid}"
    assert (await client.delete(path, headers=s.holder.auth)).status == 204
    resp = await client.get(f"{API}/groups/{s.group['id']}/export", headers=s.admin.auth)
    assert resp.status == 200, await resp.text()
    other = await (await client.get(f"{API}/messages/{second['id']}", headers=s.author.auth)).json()
    return s, other, await resp.read()


async def test_the_bundle_carries_countersignatures_that_verify_after_revocation(
    client: TestClient[Any, Any], tmp_path: Path
) -> None:
    s, _, bundle = await _sealed_export(client)
    members = _members(bundle)
    [record] = _lines(members[ev.COUNTERSIGNATURES])
    assert record["message_id"] == s.message["id"] and record["kid"] == s.seal.kid
    keys = json.loads(members[ev.ORGANIZATION_KEYS])["keys"]
    assert [(k["kid"], k["revoked_at"] is not None) for k in keys] == [(s.seal.kid, True)]
    export = json.loads(members[ev.EXPORT])
    assert export["counts"]["countersignatures"] == 1
    path = tmp_path / "bundle.zip"
    path.write_bytes(bundle)
    verify_bundle(path)
    # Re-signing alone changes nothing: the tamper tests below fail for their change only.
    path.write_bytes(_reseal(client, bundle, {}))
    verify_bundle(path)
    done = await run_cli("verify-export", str(path))
    assert done.returncode == 0, done.stderr


async def test_every_kind_of_seal_tampering_fails_naming_it(
    client: TestClient[Any, Any], tmp_path: Path
) -> None:
    s, other, bundle = await _sealed_export(client)
    members = _members(bundle)
    [record] = _lines(members[ev.COUNTERSIGNATURES])
    keys = json.loads(members[ev.ORGANIZATION_KEYS])["keys"]
    foreign_org = await make_organization(client)
    foreign = await register_seal(client, s.admin, foreign_org.id)
    foreign_key = {
        "kid": foreign.kid,
        "organization_id": str(foreign_org.id),
        "public_key": b64url_encode(foreign.private_key.public_key().public_bytes_raw()),
        "label": None,
        "created_at": keys[0]["created_at"],
        "revoked_at": None,
    }
    path = tmp_path / "bad.zip"

    def resigned(seal: Seal, **claims: Any) -> str:
        payload = countersignature_payload(s.holder, seal, s.message, cid=record["cid"], **claims)
        return seal_jws(seal, payload)

    def with_record(**changes: Any) -> dict[str, bytes | None]:
        return {ev.COUNTERSIGNATURES: _jsonl([{**record, **changes}])}

    cases: list[tuple[str, dict[str, bytes | None], str]] = [
        (
            "signed by another key",
            with_record(
                jws=resigned(Seal(s.seal.organization_id, Ed25519PrivateKey.generate(), s.seal.kid))
            ),
            "line 1: signature: ",
        ),
        ("a kid that is no bundled seal key", with_record(kid="x" * 43), "line 1: unknown-key"),
        (
            "the seal key replaced",
            {
                ev.ORGANIZATION_KEYS: ev.json_bytes(
                    {"keys": [{**keys[0], "public_key": foreign_key["public_key"]}]}
                )
            },
            "does not hash to its kid",
        ),
        (
            "the seal key given to another organisation",
            {
                ev.ORGANIZATION_KEYS: ev.json_bytes(
                    {"keys": [{**keys[0], "organization_id": str(foreign_org.id)}]}
                )
            },
            "line 1: key-owner",
        ),
        (
            "another organisation's seal on the message",
            {
                ev.ORGANIZATION_KEYS: ev.json_bytes({"keys": [*keys, foreign_key]}),
                **with_record(
                    kid=foreign.kid,
                    organization_id=str(foreign_org.id),
                    jws=resigned(foreign, org=str(foreign_org.id)),
                ),
            },
            "line 1: organization: org is not the organisation of the message's sender",
        ),
        (
            "a hash of another JWS",
            with_record(jws=resigned(s.seal, sha256="0" * 64)),
            "line 1: sha256: ",
        ),
        (
            "a seal naming another message",
            with_record(jws=resigned(s.seal, msg=other["id"])),
            "line 1: message: msg names another message",
        ),
        (
            "a seal moved to another message",
            with_record(message_id=other["id"]),
            "line 1: message: msg names another message",
        ),
        (
            "a seal of a message not in the bundle",
            with_record(message_id="00000000-0000-4000-8000-000000000000"),
            "line 1: message: message 00000000-0000-4000-8000-000000000000 is not bundled",
        ),
        (
            "the key said revoked before the seal",
            {
                ev.ORGANIZATION_KEYS: ev.json_bytes(
                    {"keys": [{**keys[0], "revoked_at": keys[0]["created_at"]}]}
                )
            },
            "line 1: key-revoked",
        ),
        (
            "a seal by someone else than the signer",
            with_record(signer_id=s.author.id),
            "line 1: signer: ",
        ),
        (
            "the countersignature dropped",
            {ev.COUNTERSIGNATURES: None, ev.ORGANIZATION_KEYS: None},
            "but the countersignature is not in countersignatures.jsonl",
        ),
        (
            "a seal the log never recorded",
            {
                ev.COUNTERSIGNATURES: _jsonl(
                    [
                        record,
                        {
                            **record,
                            "id": "00000000-0000-4000-8000-000000000001",
                            "cid": "00000000-0000-4000-8000-000000000002",
                            "jws": seal_jws(
                                s.seal,
                                countersignature_payload(
                                    s.holder,
                                    s.seal,
                                    s.message,
                                    cid="00000000-0000-4000-8000-000000000002",
                                ),
                            ),
                        },
                    ]
                )
            },
            "line 2: no message.countersign audit entry",
        ),
    ]
    for what, changes, expected in cases:
        path.write_bytes(_reseal(client, bundle, changes))
        try:
            verify_bundle(path)
        except BundleInvalid as exc:
            assert expected in str(exc), (what, str(exc))
        else:
            raise AssertionError(f"{what}: the bundle still verifies")
    # The command line says so too: non-zero, naming the first failure.
    path.write_bytes(_reseal(client, bundle, cases[5][1]))
    done = await run_cli("verify-export", str(path))
    assert done.returncode == 1
    assert done.stderr.startswith("cencomm: evidence bundle NOT verified: "), done.stderr
    assert "sha256" in done.stderr
