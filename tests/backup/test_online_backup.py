"""`cencomm backup` of a live server taking signed posts and uploads, restored into a new data
directory and database: everything acknowledged before the backup began is there and verifies,
attachments decrypt to their hash, `cencomm audit verify` passes, and the log is provably an
extension of the tree head seen before the backup (RFC 9162 consistency proof).

On SQLite, or on PostgreSQL when the suite runs there (scratch databases of its own, dropped
after). Posts keep going while the backup runs; nothing waits on time.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import stat
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cencomm.crypto.jws import parse_compact, sign_compact, verify_signature
from cencomm.crypto.keys import b64url_encode, jwk_thumbprint, raw_public_key
from cencomm.crypto.merkle import verify_consistency
from tests.backup.places import fresh_database, place_env
from tests.processes import ADMIN_PASSWORD, Api, free_port, run_cencomm, serve, stop


@dataclass
class Officer:
    """An officer posting to one group through one server; remembers every acknowledged post."""

    api: Api
    token: str
    user_id: str
    gid: str
    key: Ed25519PrivateKey
    rng: random.Random
    acked: dict[str, str] = field(default_factory=dict)  # message id -> JWS
    uploads: dict[str, bytes] = field(default_factory=dict)  # sha256 -> plaintext

    @property
    def public_raw(self) -> bytes:
        return raw_public_key(self.key.public_key())

    async def upload(self) -> dict[str, Any]:
        data = f"seizure note {self.rng.getrandbits(64):016x}\n".encode() * self.rng.randint(1, 500)
        async with self.api.http.post(
            f"{self.api.base}/groups/{self.gid}/attachments?name=note.txt",
            data=data,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "text/plain"},
        ) as resp:
            body = await resp.json(content_type=None)
            assert resp.status == 201, body
        self.uploads[body["sha256"]] = data
        return {k: body[k] for k in ("sha256", "size", "name", "type")}

    async def post(self, attachments: list[dict[str, Any]] | None = None) -> None:
        payload: dict[str, Any] = {
            "v": 1, "typ": "text", "cid": str(uuid.UUID(int=self.rng.getrandbits(128))),
            "sub": self.user_id, "iat": int(time.time()), "grp": self.gid, "hc": "TLP:AMBER",
            "body": {"text": f"container {self.rng.randint(1, 10**6)} held"},
        }  # fmt: skip
        if attachments:
            payload["att"] = attachments
        jws = sign_compact(payload, self.key, jwk_thumbprint(self.public_raw))
        message = await self.api.call("POST", f"/groups/{self.gid}/messages", self.token, jws=jws)
        self.acked[str(message["id"])] = jws

    async def keep_posting(self, stop: asyncio.Event) -> None:
        """Posts (every third with a new attachment) until `stop`, at least one round."""
        round_ = 0
        while True:
            round_ += 1
            await self.post([await self.upload()] if round_ % 3 == 0 else None)
            if stop.is_set():
                return


async def _officer(http: aiohttp.ClientSession, port: int, rng: random.Random) -> Officer:
    api = Api(http, port)

    async def login(username: str) -> str:
        data = await api.call("POST", "/auth/login", username=username, password=ADMIN_PASSWORD)
        return str(data["access_token"])

    admin = await login("admin")
    org = await api.call(
        "POST", "/organizations", admin, name="Customs", kind="administration", country="FR"
    )
    await api.call(
        "POST", "/users", admin, username="officer", display_name="Officer",
        organization_id=org["id"], role="officer", password=ADMIN_PASSWORD,
    )  # fmt: skip
    token = await login("officer")
    user_id = str((await api.call("GET", "/me", token))["id"])
    group = await api.call("POST", "/groups", admin, code="OP-BACKUP", name="Operation Backup")
    gid = str(group["id"])
    await api.call("PATCH", f"/groups/{gid}", admin, status="active")
    await api.call("POST", f"/groups/{gid}/members", admin, user_id=user_id, role="member")
    key = Ed25519PrivateKey.from_private_bytes(rng.randbytes(32))
    officer = Officer(api, token, user_id, gid, key, rng)
    await api.call("POST", "/keys", token, public_key=b64url_encode(officer.public_raw))
    return officer


async def _messages(officer: Officer) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    after = 0
    while True:
        page = await officer.api.call(
            "GET", f"/groups/{officer.gid}/messages?after={after}&limit=100", officer.token
        )
        found += page["messages"]
        if page["next"] is None:
            return found
        after = page["next"]


async def _download(officer: Officer, sha256: str) -> bytes:
    async with officer.api.http.get(
        f"{officer.api.base}/groups/{officer.gid}/attachments/{sha256}",
        headers={"Authorization": f"Bearer {officer.token}"},
    ) as resp:
        assert resp.status == 200, await resp.text()
        return await resp.read()


async def _consistent(officer: Officer, old: dict[str, Any], new: dict[str, Any]) -> bool:
    proof = await officer.api.call(
        "GET",
        f"/audit/proof/consistency?first={old['tree_size']}&second={new['tree_size']}",
        officer.token,
    )
    return verify_consistency(
        old["tree_size"],
        new["tree_size"],
        bytes.fromhex(old["root_hash"]),
        bytes.fromhex(new["root_hash"]),
        [bytes.fromhex(h) for h in proof["proof"]],
    )


def _modes(root: Path) -> set[tuple[str, int]]:
    """(kind, permission bits) of everything under `root`, the root included."""
    kinds = {("dir", stat.S_IMODE(root.stat().st_mode))}
    for path in root.rglob("*"):
        kinds.add(("dir" if path.is_dir() else "file", stat.S_IMODE(path.stat().st_mode)))
    return kinds


async def test_a_backup_taken_under_load_restores_whole_and_verifiable(tmp_path: Path) -> None:
    rng = random.Random(18)
    async with fresh_database("backup_live") as source, fresh_database("backup_back") as target:
        env = place_env(tmp_path, "src", source, CENCOMM_ADMIN_PASSWORD=ADMIN_PASSWORD)
        port = free_port()
        server = await serve(env, port)
        try:
            code, _, err = await run_cencomm(env, "create-admin", "--username", "admin")
            assert code == 0, err
            async with aiohttp.ClientSession() as http:
                officer = await _officer(http, port, rng)
                for n in range(6):
                    await officer.post([await officer.upload()] if n % 2 else None)
                head_before = await officer.api.call("GET", "/audit/tree-head", officer.token)
                acked_before = dict(officer.acked)
                uploads_before = set(officer.uploads)

                stop_posting = asyncio.Event()
                load = asyncio.create_task(officer.keep_posting(stop_posting))
                backup = await run_cencomm(env, "backup", str(tmp_path / "backup"))
                stop_posting.set()
                await load
        finally:
            await stop(server)
        code, out, err = backup
        assert code == 0, err
        assert "backup written to" in out
        manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
        assert manifest["tree_head"]["tree_size"] >= head_before["tree_size"]
        assert manifest["blobs"] >= len(uploads_before)
        assert _modes(tmp_path / "backup") <= {("dir", 0o700), ("file", 0o600)}

        restored = place_env(tmp_path, "restored", target)
        code, out, err = await run_cencomm(restored, "restore", str(tmp_path / "backup"))
        assert code == 0, err
        assert _modes(tmp_path / "restored") <= {("dir", 0o700), ("file", 0o600)}
        (tmp_path / "head.json").write_text(json.dumps(head_before))
        code, out, err = await run_cencomm(
            restored, "audit", "verify", "--since-tree-head", str(tmp_path / "head.json")
        )
        assert code == 0, err
        assert f"matches the saved tree head at size {head_before['tree_size']}" in out

        port = free_port()
        server = await serve(restored, port)
        try:
            async with aiohttp.ClientSession() as http:
                officer.api = Api(http, port)
                data = await officer.api.call(
                    "POST", "/auth/login", username="officer", password=ADMIN_PASSWORD
                )
                officer.token = str(data["access_token"])
                messages = await _messages(officer)
                by_id = {str(m["id"]): m for m in messages}
                assert [m["seq"] for m in messages] == list(range(1, len(messages) + 1))
                assert set(acked_before) <= set(by_id)  # every post acknowledged before
                for message in messages:
                    assert message["id"] in officer.acked  # nothing that was never posted
                    assert message["jws"] == officer.acked[message["id"]]
                    parsed = parse_compact(message["jws"])
                    assert verify_signature(parsed, officer.public_raw)
                    for attachment in parsed.payload.get("att", []):
                        body = await _download(officer, attachment["sha256"])
                        assert hashlib.sha256(body).hexdigest() == attachment["sha256"]
                        assert body == officer.uploads[attachment["sha256"]]
                for sha256 in uploads_before:
                    assert await _download(officer, sha256) == officer.uploads[sha256]

                head_after = await officer.api.call("GET", "/audit/tree-head", officer.token)
                assert await _consistent(officer, head_before, head_after)
                assert await _consistent(officer, head_before, manifest["tree_head"])
        finally:
            await stop(server)
