"""Two real server processes on one PostgreSQL database and Redis: a role changed through one
closes the user's socket on the other at once, and the other's HTTP answers follow the new role
(review issue 12, item 1).

Runs on the test database (`CENCOMM_TEST_DATABASE_URL`; skipped on SQLite, where two processes
do not share a database) with Redis at `CENCOMM_TEST_REDIS_URL` (default
redis://127.0.0.1:6379/0); without Redis it is skipped, except in CI, where it fails loudly.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import aiohttp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cencomm.crypto.jws import sign_compact
from cencomm.crypto.keys import b64url_encode, jwk_thumbprint, raw_public_key
from tests.processes import REDIS_URL, require_redis, shared_postgres, two_processes

WAIT = 30.0
CLOSE_ROLE_CHANGED = 4409  # docs/websocket.md


async def test_a_role_change_on_one_process_closes_the_socket_on_another(
    tmp_path: Path, database_url: str
) -> None:
    async with two_processes(
        tmp_path,
        shared_postgres(database_url),
        await require_redis(REDIS_URL),
        CENCOMM_AUTH_SESSION_CACHE_SECONDS="10",  # B keeps the session cached: the notice ends it
    ) as cluster:
        a, b, admin, author = cluster.a, cluster.b, cluster.admin, cluster.author
        key = Ed25519PrivateKey.generate()
        raw = raw_public_key(key.public_key())
        await a.call("POST", "/keys", author, public_key=b64url_encode(raw))
        gid = await cluster.active_group("OP-RED")
        payload = {
            "v": 1, "typ": "text", "cid": str(uuid.uuid4()), "sub": cluster.author_id,
            "iat": int(time.time()), "grp": gid, "hc": "TLP:RED",
            "body": {"text": "for members only"},
        }  # fmt: skip
        jws = sign_compact(payload, key, jwk_thumbprint(raw))
        await a.call("POST", f"/groups/{gid}/messages", author, jws=jws)

        # The moderator is no member, but staff read every group, on B too.
        staff = await cluster.login("staff", b)
        staff_id = (await b.call("GET", "/me", staff))["id"]
        assert len((await b.call("GET", f"/groups/{gid}/messages", staff))["messages"]) == 1
        ws_url = f"http://127.0.0.1:{cluster.port_b}/api/v1/ws"
        async with cluster.http.ws_connect(ws_url) as ws:
            await ws.send_json({"type": "auth", "token": staff})
            assert (await ws.receive_json(timeout=WAIT))["type"] == "ready"
            await ws.send_json({"type": "resume", "groups": {}})

            # Demoted on A: B closes the socket without waiting for the client.
            await a.call("PATCH", f"/users/{staff_id}", admin, role="officer")
            msg = await ws.receive(timeout=WAIT)
            assert msg.type is aiohttp.WSMsgType.CLOSE, msg
            assert msg.data == CLOSE_ROLE_CHANGED, msg

        # B forgot its cached session with the notice: HTTP there follows the new role.
        headers = {"Authorization": f"Bearer {staff}"}
        async with cluster.http.get(f"{b.base}/groups/{gid}/messages", headers=headers) as resp:
            assert resp.status == 404
        async with cluster.http.ws_connect(ws_url) as ws:  # the same token, now an officer's
            await ws.send_json({"type": "auth", "token": staff})
            assert (await ws.receive_json(timeout=WAIT))["type"] == "ready"
            await ws.send_json({"type": "resume", "groups": {gid: 0}})
            data = await ws.receive_json(timeout=WAIT)
            assert data["type"] == "error" and data["problem"]["status"] == 404, data
