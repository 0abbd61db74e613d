"""Two real server processes on one PostgreSQL database and Redis: a signing key revoked through
one is refused by the other as soon as the bus notice has arrived, although the other still held
the key in its post-context cache (issue 17).

When the notice has arrived is observed without timing: notices from one process arrive in the
order it sent them, so once B's socket has received a message that A stored after the revocation,
B has handled the revocation's notice too. Skipped on SQLite (two processes do not share a
database there) and without Redis, as in `test_live_role_change_processes.py`.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cencomm.crypto.jws import sign_compact
from cencomm.crypto.keys import b64url_encode, jwk_thumbprint, raw_public_key
from tests.processes import REDIS_URL, require_redis, shared_postgres, two_processes

WAIT = 30.0


async def test_a_key_revoked_on_one_process_is_refused_by_another(
    tmp_path: Path, database_url: str
) -> None:
    async with two_processes(
        tmp_path,
        shared_postgres(database_url),
        await require_redis(REDIS_URL),
        # B keeps the context cached far longer than the test runs: only the notice ends it.
        CENCOMM_AUTH_POST_CONTEXT_CACHE_SECONDS="10",
        CENCOMM_AUTH_SESSION_CACHE_SECONDS="10",
    ) as cluster:
        a, b, author = cluster.a, cluster.b, cluster.author
        keys = [Ed25519PrivateKey.generate() for _ in range(2)]
        raws = [raw_public_key(k.public_key()) for k in keys]
        for raw in raws:
            await a.call("POST", "/keys", author, public_key=b64url_encode(raw))
        gid = await cluster.active_group("OP-KEY")

        def signed(which: int) -> str:
            payload = {
                "v": 1, "typ": "text", "cid": str(uuid.uuid4()), "sub": cluster.author_id,
                "iat": int(time.time()), "grp": gid, "hc": "TLP:AMBER",
                "body": {"text": "masks seized"},
            }  # fmt: skip
            return sign_compact(payload, keys[which], jwk_thumbprint(raws[which]))

        # B reads the context of the first key once and keeps it.
        for _ in range(2):
            await b.call("POST", f"/groups/{gid}/messages", author, jws=signed(0))

        staff = await cluster.login("staff", b)
        async with cluster.http.ws_connect(f"http://127.0.0.1:{cluster.port_b}/api/v1/ws") as ws:
            await ws.send_json({"type": "auth", "token": staff})
            assert (await ws.receive_json(timeout=WAIT))["type"] == "ready"
            await ws.send_json({"type": "resume", "groups": {gid: 2}})

            # Revoked on A, then a post on A with the second key: its frame reaching B
            # means B has handled the revocation's notice before it.
            await a.call("DELETE", f"/keys/{jwk_thumbprint(raws[0])}", author)
            await a.call("POST", f"/groups/{gid}/messages", author, jws=signed(1))
            while True:
                frame = await ws.receive_json(timeout=WAIT)
                if frame["type"] == "message":
                    break
            assert frame["seq"] == 3, frame

        headers = {"Authorization": f"Bearer {author}"}
        async with cluster.http.post(
            f"{b.base}/groups/{gid}/messages", json={"jws": signed(0)}, headers=headers
        ) as resp:
            problem = await resp.json(content_type=None)
            assert resp.status == 422, problem
            assert problem["type"] == "urn:cencomm:problem:revoked-key", problem
