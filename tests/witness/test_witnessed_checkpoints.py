"""Witnessed checkpoints end to end: a real server with two real witness processes on loopback.

The witnesses run once for the module; each test's server uses the module's audit key under an
origin of its own, so the witnesses keep one log per test and tests never see each other's.
Every note is read with the independent C2SP reading of `tests/witness/c2sp_note.py`.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import re
import shutil
import zipfile
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from cencomm.app import create_app
from cencomm.appkeys import SERVICES
from cencomm.client.audit import TreeHeadWatch
from cencomm.client.errors import AuditLogError
from cencomm.crypto.keys import b64url_decode, b64url_encode
from cencomm.domain import evidence as ev
from cencomm.domain.evidence_zip import ZipStreamWriter
from cencomm.domain.users import Role
from cencomm.settings import AuditSettings, Settings
from cencomm.storage.keyring import load_or_create_server_keys
from cencomm.storage.migrate import upgrade
from cencomm.verification.bundle import verify_bundle
from cencomm.verification.cosigned import witness_policy
from tests.client.shell import login_shell
from tests.conftest import with_settings
from tests.factories import Member, add_member, make_group, make_member, post_message
from tests.problems import assert_problem
from tests.processes import run_cencomm
from tests.witness import c2sp_note
from tests.witness.witnesses import (
    WitnessProcess,
    checkpoint,
    cosigned_by,
    cosigners,
    start_witness,
    until,
)

API = "/api/v1"
WAIT = 60.0
ORIGINS = {
    name: f"cencomm.test/{name}"
    for name in ("collect", "rollback", "quorum", "export", "fork", "stuck")
}


@dataclass
class Keys:
    directory: Path  # holds keys/, copied into each test's data directory
    audit_public: bytes


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    directory = tmp_path_factory.mktemp("server-keys")
    return Keys(directory, load_or_create_server_keys(directory).audit.public_raw)


@pytest.fixture(scope="module")
def witnesses(
    keys: Keys, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[WitnessProcess]]:
    logs = [c2sp_note.vkey(origin, 0x01, keys.audit_public) for origin in ORIGINS.values()]
    started: list[WitnessProcess] = []
    try:
        for name in ("witness.test/w1", "witness.test/w2"):
            directory = tmp_path_factory.mktemp("witness")
            started.append(start_witness(directory, name, logs))
        yield started
    finally:
        for process in started:
            process.stop()


def witnessed(
    settings: Settings,
    keys: Keys,
    origin: str,
    entries: list[str],
    quorum: int,
    timeout: float = 10.0,
) -> Settings:
    """`settings` with the module's audit key, `origin` and these `audit.witnesses` entries."""
    shutil.copytree(keys.directory / "keys", settings.data.dir / "keys")
    audit = AuditSettings(
        origin=origin,
        witnesses=tuple(entries),
        witness_quorum=quorum,
        witness_timeout=timeout,
        witness_retry_max=1.0,
    )
    return with_settings(settings, audit=audit)


def entry(witness: WitnessProcess) -> str:
    return f"{witness.vkey} {witness.url}"


class Api:
    """What `TreeHeadWatch` asks of a client, over the test client; `checkpoint_size` makes
    `GET /audit/checkpoint` answer an older head (a server showing a rolled-back log)."""

    def __init__(self, client: TestClient[Any, Any], member: Member) -> None:
        self.client = client
        self.member = member
        self.checkpoint_size: int | None = None

    async def request_json(
        self, method: str, path: str, *, params: Mapping[str, str | int] | None = None
    ) -> Any:
        resp = await self.client.request(
            method, API + path, headers=self.member.auth, params=params
        )
        assert resp.status == 200, await resp.text()
        return await resp.json()

    async def request_bytes(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        accept: str = "*/*",
    ) -> Any:
        if path == "/audit/checkpoint" and self.checkpoint_size is not None:
            params = {"tree_size": str(self.checkpoint_size)}
        resp = await self.client.request(
            method, API + path, headers=self.member.auth, params=params
        )
        assert resp.status == 200, await resp.text()
        return _Raw(await resp.read())


@dataclass
class _Raw:
    raw: bytes


@pytest.fixture
async def server(
    aiohttp_client: AiohttpClient,
    settings: Settings,
    keys: Keys,
    witnesses: list[WitnessProcess],
    request: pytest.FixtureRequest,
) -> AsyncIterator[TestClient[Any, Any]]:
    """A server whose two witnesses are both required (quorum 2); its origin is the one named
    after the test (`test_<origin key>_...`)."""
    origin = ORIGINS[request.node.name.split("_")[1]]
    client = await aiohttp_client(
        create_app(witnessed(settings, keys, origin, [entry(w) for w in witnesses], 2))
    )
    yield client
    await client.close()


async def test_collect_cosignatures_and_serve_them(
    server: TestClient[Any, Any], keys: Keys, witnesses: list[WitnessProcess]
) -> None:
    admin = await make_member(server, Role.ADMIN)
    note = await until(cosigned_by(server, admin, witnesses), "both cosignatures")
    parsed = c2sp_note.parse(note)
    body = c2sp_note.checkpoint(parsed.text)
    origin = ORIGINS["collect"]
    assert body.origin == origin
    # The log's own signature comes first, named after the origin, with its key ID.
    assert parsed.sigs[0].name == origin
    assert parsed.sigs[0].key_hash == c2sp_note.key_hash(origin, 0x01, keys.audit_public)
    assert c2sp_note.verify_ed25519(parsed, origin, keys.audit_public)
    assert cosigners(note, witnesses) == ["witness.test/w1", "witness.test/w2"]
    # The same bytes and signature as the signed tree head of that size.
    resp = await server.get(
        f"{API}/audit/tree-heads", headers=admin.auth, params={"after": str(body.size - 1)}
    )
    head = (await resp.json())["tree_heads"][0]
    assert head["tree_size"] == body.size and head["checkpoint"] == parsed.text
    assert b64url_decode(head["signature"]) == parsed.sigs[0].blob
    assert bytes.fromhex(head["root_hash"]) == body.root
    # The audit key as a verifier key, for configuring witnesses.
    resp = await server.get(f"{API}/audit/key", headers=admin.auth)
    assert (await resp.json())["note_key"] == c2sp_note.vkey(origin, 0x01, keys.audit_public)
    # One head by size; an unknown size is 404; no token, 401.
    assert await checkpoint(server, admin, body.size) == note
    resp = await server.get(
        f"{API}/audit/checkpoint", headers=admin.auth, params={"tree_size": "999999"}
    )
    await assert_problem(resp, 404, "unknown-tree-head")
    resp = await server.get(f"{API}/audit/checkpoint")
    assert resp.status == 401
    # Each witness keeps the newest checkpoint it cosigned, durably.
    for witness in witnesses:
        assert len(list((witness.state / "logs").glob("*.json"))) >= 1


async def test_rollback_of_a_tree_head_is_refused_by_a_client(
    server: TestClient[Any, Any], witnesses: list[WitnessProcess]
) -> None:
    officer = await make_member(server, Role.OFFICER)
    first = await until(cosigned_by(server, officer, witnesses), "a cosigned head")
    first_size = c2sp_note.checkpoint(c2sp_note.parse(first).text).size
    await make_member(server, Role.OFFICER)  # the log grows
    await until(cosigned_by(server, officer, witnesses, after=first_size), "a larger one")
    policy = witness_policy([w.vkey for w in witnesses], 2)
    api = Api(server, officer)
    watch = TreeHeadWatch(witnesses=policy)
    seen = await watch.check(api)
    assert seen["tree_size"] > first_size
    assert seen["cosigned_by"] == ["witness.test/w1", "witness.test/w2"]
    # The server now shows the older head, cosigned as it is: refused, the newer one kept.
    api.checkpoint_size = first_size
    with pytest.raises(AuditLogError, match="rolled back"):
        await watch.check(api)
    assert watch.newest is not None and watch.newest["tree_size"] == seen["tree_size"]


async def test_quorum_not_met_is_said_plainly(
    aiohttp_client: AiohttpClient,
    settings: Settings,
    keys: Keys,
    witnesses: list[WitnessProcess],
    tmp_path: Path,
) -> None:
    one = witnesses[:1]  # the server asks only the first witness
    client = await aiohttp_client(
        create_app(witnessed(settings, keys, ORIGINS["quorum"], [entry(w) for w in one], 1))
    )
    officer = await make_member(client, Role.OFFICER)
    await until(cosigned_by(client, officer, one), "the one cosignature")
    watch = TreeHeadWatch(witnesses=witness_policy([w.vkey for w in witnesses], 2))
    with pytest.raises(AuditLogError) as caught:
        await watch.check(Api(client, officer))
    assert re.fullmatch(
        r"witness quorum not met: the server's checkpoint \(tree size \d+\) is cosigned by 1 "
        r"of the 2 known witnesses \(witness\.test/w1\), 2 needed",
        str(caught.value),
    ), caught.value
    # The command line says the same, in one line, and exits 1.
    admin = await make_member(client, Role.ADMIN)
    group = await make_group(client, admin)
    await add_member(client, admin, group, officer)
    shell = await login_shell(client, tmp_path, officer, group, key=False)
    flags = [f"--witness={w.vkey}" for w in witnesses]
    code, _, err = await shell.text(*flags, "--quorum", "2", "tree-head")
    assert code == 1
    assert err.startswith("cencomm client: witness quorum not met:"), err
    assert "cosigned by 1 of the 2 known witnesses (witness.test/w1), 2 needed" in err
    code, _, err = await shell.run(*flags, "--quorum", "1", "tree-head")
    assert code == 0, err
    await client.close()


async def test_a_witness_that_never_answers_does_not_slow_posts(
    aiohttp_client: AiohttpClient, settings: Settings, keys: Keys, tmp_path: Path
) -> None:
    connected = asyncio.Event()
    held: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)  # accepted, read from never, answered never
        connected.set()

    black_hole = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = black_hole.sockets[0].getsockname()[1]
    name, public = "witness.test/silent", bytes(range(32))
    silent = f"{c2sp_note.vkey(name, 0x04, public)} http://127.0.0.1:{port}"
    client = await aiohttp_client(
        create_app(witnessed(settings, keys, ORIGINS["stuck"], [silent], 1, timeout=WAIT * 10))
    )
    try:
        admin = await make_member(client, Role.ADMIN)
        officer = await make_member(client, Role.OFFICER, with_key=True)
        group = await make_group(client, admin)
        await add_member(client, admin, group, officer)
        async with asyncio.timeout(WAIT):
            await connected.wait()  # the collector is now stuck on the silent witness
        posted = [await post_message(client, officer, group) for _ in range(20)]
        assert [p["seq"] for p in posted] == list(range(1, 21))
        # Still stuck: the witness's connection never got an answer, and no cosignature exists.
        assert not held[0].is_closing()
        services = client.app[SERVICES]
        head = await services.db.read(lambda unit: unit.audit_tree.latest_head())
        assert head is not None
        note = await services.witnesses.note_of(head)
        assert len(c2sp_note.parse(note).sigs) == 1
    finally:
        for writer in held:
            writer.close()  # the collector's request fails now, so the server stops at once
        black_hole.close()
        await black_hole.wait_closed()
        await client.close()


def reseal(bundle: bytes, changes: dict[str, bytes], key: Any) -> bytes:
    """The bundle with some members replaced and its manifest signed again with the audit key
    (as only the server could): the checks after the manifest are then what must catch it."""
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    zw = ZipStreamWriter(datetime(2026, 1, 1, tzinfo=UTC))
    out = b""
    for name, data in members.items():
        if name in (ev.MANIFEST, ev.MANIFEST_SIG):
            continue
        out += zw.member(name, changes.get(name, data))
    manifest = ev.encode_manifest([ev.ManifestFile(m.name, m.size, m.sha256) for m in zw.members])
    seal = {
        "alg": "Ed25519",
        "kid": key.kid,
        "signature": b64url_encode(key.private_key.sign(ev.manifest_signing_input(manifest))),
    }
    out += zw.member(ev.MANIFEST, manifest)
    out += zw.member(ev.MANIFEST_SIG, ev.json_bytes(seal))
    return out + zw.finish()


async def test_export_carries_the_cosigned_checkpoint_and_verify_export_checks_it(
    server: TestClient[Any, Any], witnesses: list[WitnessProcess], tmp_path: Path
) -> None:
    admin = await make_member(server, Role.ADMIN)
    await server.app[SERVICES].audit_log.sign_tree_head()  # an earlier head than the bundle's
    officer = await make_member(server, Role.OFFICER, with_key=True)
    group = await make_group(server, admin)
    await add_member(server, admin, group, officer)
    await post_message(server, officer, group)
    resp = await server.get(f"{API}/groups/{group['id']}/export", headers=admin.auth)
    assert resp.status == 200
    bundle = await resp.read()
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        note = archive.read(ev.CHECKPOINT_NOTE).decode()
        head = archive.read(ev.TREE_HEAD)
    assert cosigners(note, witnesses) == ["witness.test/w1", "witness.test/w2"]
    assert json.loads(head)["checkpoint"] == c2sp_note.parse(note).text
    path = tmp_path / "bundle.zip"
    path.write_bytes(bundle)
    flags = [f"--witness={w.vkey}" for w in witnesses]
    code, out, err = await run_cencomm({}, "verify-export", str(path), *flags)
    assert code == 0, err
    assert "checkpoint cosigned by witness.test/w1, witness.test/w2" in out

    key = server.app[SERVICES].keys_ring.audit
    policy = witness_policy([w.vkey for w in witnesses], 2)
    parsed = c2sp_note.parse(note)
    log_line, *cosignature_lines = note[len(parsed.text) + 1 :].splitlines(keepends=True)

    def flip(line: str) -> str:
        """The line with one bit of its signature changed."""
        dash, name, blob = line.rstrip("\n").split(" ")
        raw = bytearray(base64.b64decode(blob))
        raw[-1] ^= 1
        return f"{dash} {name} {base64.b64encode(bytes(raw)).decode()}\n"

    resp = await server.get(f"{API}/audit/tree-heads", headers=admin.auth)
    first_head = (await resp.json())["tree_heads"][0]["tree_size"]
    older = await checkpoint(server, admin, first_head)
    assert c2sp_note.parse(older).text != parsed.text
    tampered = {
        "log-signature": parsed.text + "\n" + flip(log_line) + "".join(cosignature_lines),
        "cosignature": parsed.text
        + "\n"
        + log_line
        + flip(cosignature_lines[0])
        + cosignature_lines[1],
        "quorum": parsed.text + "\n" + log_line + cosignature_lines[0],
        "mismatch": older,
    }
    for check, changed in tampered.items():
        forged = tmp_path / f"{check}.zip"
        forged.write_bytes(reseal(bundle, {ev.CHECKPOINT_NOTE: changed.encode()}, key))
        with pytest.raises(ValueError, match=rf"^{check}: "):
            verify_bundle(forged, witnesses=policy)
    # The command line names it too, and exits 1.
    code, _, err = await run_cencomm({}, "verify-export", str(tmp_path / "quorum.zip"), *flags)
    assert code == 1
    assert "quorum: witness quorum not met" in err
    # Without witnesses asked for, the log's signature is still checked.
    with pytest.raises(ValueError, match=r"^log-signature: "):
        verify_bundle(tmp_path / "log-signature.zip")


async def test_fork_of_the_log_is_refused_by_the_witness_with_the_evidence_kept(
    server: TestClient[Any, Any],
    aiohttp_client: AiohttpClient,
    settings: Settings,
    keys: Keys,
    witnesses: list[WitnessProcess],
    fresh_url: str,
) -> None:
    """Two servers with the same audit key and origin but different logs (a fork): the first's
    head is cosigned; the second's, shown to the same witness, is refused and kept."""
    admin = await make_member(server, Role.ADMIN)
    cosigned = await until(cosigned_by(server, admin, witnesses), "the first log cosigned")
    size = c2sp_note.checkpoint(c2sp_note.parse(cosigned).text).size
    await upgrade(fresh_url)
    other_settings = replace(settings, database=replace(settings.database, url=fresh_url))
    other_settings = replace(
        other_settings, data=replace(settings.data, dir=settings.data.dir.parent / "other")
    )
    shutil.copytree(keys.directory / "keys", other_settings.data.dir / "keys")
    other_settings = with_settings(other_settings, audit=AuditSettings(origin=ORIGINS["fork"]))
    other = await aiohttp_client(create_app(other_settings))
    member = await make_member(other, Role.ADMIN)
    while True:  # the fork grows past the size the witness cosigned
        fork_note = await checkpoint(other, member)
        if c2sp_note.checkpoint(c2sp_note.parse(fork_note).text).size > size:
            break
        await make_member(other, Role.OFFICER)
    witness = witnesses[0]
    body = f"old {size}\n\n{fork_note}".encode()
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{witness.url}/add-checkpoint", data=body) as resp,
    ):
        assert resp.status == 422
    kept = [
        p.read_text()
        for p in (witness.state / "evidence").iterdir()
        if ORIGINS["fork"] in p.read_text()
    ]
    assert len(kept) == 1
    record = json.loads(kept[0])
    assert record["reason"] == "not a consistent extension"
    assert c2sp_note.parse(record["cosigned_note"]).text == c2sp_note.parse(cosigned).text
    assert record["refused_note"] == fork_note
    await other.close()
