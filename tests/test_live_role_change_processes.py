"""Two real server processes on one PostgreSQL database and Redis: a role changed through one
closes the user's socket on the other at once, and the other's HTTP answers follow the new role
(review issue 12, item 1).

Runs on the test database (`CENCOMM_TEST_DATABASE_URL`; skipped on SQLite, where two processes
do not share a database) with Redis at `CENCOMM_TEST_REDIS_URL` (default
redis://127.0.0.1:6379/0); without Redis it is skipped, except in CI, where it fails loudly.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import aiohttp
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cencomm.crypto.jws import sign_compact
from cencomm.crypto.keys import b64url_encode, jwk_thumbprint, raw_public_key
from tests.processes import Api, cluster_env, free_port, require_redis, run_cencomm, serve, stop

REDIS_URL = os.environ.get("CENCOMM_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PASSWORD = "correct horse battery staple"
WAIT = 30.0
CLOSE_ROLE_CHANGED = 4409  # docs/websocket.md


@pytest.fixture
def shared_database(database_url: str) -> str:
    if not database_url.startswith("postgresql"):
        pytest.skip("two server processes share a PostgreSQL database")
    return database_url


async def test_a_role_change_on_one_process_closes_the_socket_on_another(
    tmp_path: Path, shared_database: str
) -> None:
    redis_url = await require_redis(REDIS_URL)
    env = cluster_env(
        tmp_path,
        shared_database,
        redis_url,
        CENCOMM_AUTH_SESSION_CACHE_SECONDS="10",  # B keeps the session cached: the notice ends it
        CENCOMM_ADMIN_PASSWORD=PASSWORD,
    )
    port_a, port_b = free_port(), free_port()
    processes = [await serve(env, port_a)]  # first alone: it creates the keys
    try:
        code, _, err = await run_cencomm(env, "create-admin", "--username", "admin")
        assert code == 0, err
        processes.append(await serve(env, port_b))
        async with aiohttp.ClientSession() as http:
            a, b = Api(http, port_a), Api(http, port_b)
            admin = (await a.call("POST", "/auth/login", username="admin", password=PASSWORD))[
                "access_token"
            ]
            org = await a.call(
                "POST", "/organizations", admin, name="Secretariat", kind="secretariat",
            )  # fmt: skip
            for name, role in (("author", "officer"), ("staff", "moderator")):
                await a.call(
                    "POST", "/users", admin, username=name, display_name=name,
                    organization_id=org["id"], role=role, password=PASSWORD,
                )  # fmt: skip
            author = (await a.call("POST", "/auth/login", username="author", password=PASSWORD))[
                "access_token"
            ]
            me = await a.call("GET", "/me", author)
            key = Ed25519PrivateKey.generate()
            raw = raw_public_key(key.public_key())
            await a.call("POST", "/keys", author, public_key=b64url_encode(raw))
            group = await a.call("POST", "/groups", admin, code="OP-RED", name="Operation RED")
            gid = group["id"]
            await a.call("PATCH", f"/groups/{gid}", admin, status="active")
            await a.call("POST", f"/groups/{gid}/members", admin, user_id=me["id"], role="member")
            payload = {
                "v": 1, "typ": "text", "cid": str(uuid.uuid4()), "sub": me["id"],
                "iat": int(time.time()), "grp": gid, "hc": "TLP:RED",
                "body": {"text": "for members only"},
            }  # fmt: skip
            jws = sign_compact(payload, key, jwk_thumbprint(raw))
            await a.call("POST", f"/groups/{gid}/messages", author, jws=jws)

            # The moderator is no member, but staff read every group, on B too.
            login = await b.call("POST", "/auth/login", username="staff", password=PASSWORD)
            staff = login["access_token"]
            staff_id = (await b.call("GET", "/me", staff))["id"]
            assert len((await b.call("GET", f"/groups/{gid}/messages", staff))["messages"]) == 1
            ws_url = f"http://127.0.0.1:{port_b}/api/v1/ws"
            async with http.ws_connect(ws_url) as ws:
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
            async with http.get(f"{b.base}/groups/{gid}/messages", headers=headers) as resp:
                assert resp.status == 404
            async with http.ws_connect(ws_url) as ws:  # the same token, now an officer's
                await ws.send_json({"type": "auth", "token": staff})
                assert (await ws.receive_json(timeout=WAIT))["type"] == "ready"
                await ws.send_json({"type": "resume", "groups": {gid: 0}})
                data = await ws.receive_json(timeout=WAIT)
                assert data["type"] == "error" and data["problem"]["status"] == 404, data
    finally:
        for proc in processes:
            await stop(proc)
